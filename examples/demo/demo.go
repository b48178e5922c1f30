package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// options are the parsed arguments.
type options struct {
	serve bool
	// redisAddr, if set, is an external Redis used instead of the
	// embedded one.
	redisAddr string
	// plain wires the instances' Verifiers without their revocation store:
	// the broken setup the tests use to check that a failure is reported.
	plain bool
}

func parseArgs(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(out)
	var o options
	fs.BoolVar(&o.serve, "serve", false, "after the walkthrough, keep the services running and print curl commands to try (Ctrl-C stops)")
	fs.StringVar(&o.redisAddr, "redis-addr", "", "an external Redis `host:port` to use instead of the embedded one; the demo's keys there start with "+demoPrefix+" and are left in place")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// demoPrefix starts the demo's keys and channel in Redis, so that on an
// external Redis it never meets a deployment's sign-outs (nor waits for
// its instances).
const demoPrefix = "cognitoguard-demo:"

// demo holds the running pieces and the transcript.
type demo struct {
	out      io.Writer
	embedded bool          // Redis is the embedded miniredis
	logs     *lockedBuffer // Warn records, shown if the walkthrough fails
	log      *slog.Logger
	pool     *cognitotest.Pool
	cognito  *cognitoidentityprovider.Client
	http     *http.Client
	a, b, p  *instance
	events   *eventsPipe

	step     int
	title    string
	failures []string // of the current step
}

// walkthrough sets everything up, runs the seven steps and, with -serve,
// serves until ctx is done.
func walkthrough(ctx context.Context, out io.Writer, o options) (err error) {
	d := &demo{out: out, logs: &lockedBuffer{}}
	d.log = slog.New(slog.NewTextHandler(d.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	defer func() {
		if err != nil && d.logs.Len() > 0 {
			fmt.Fprintf(out, "\nWarnings logged during the demo:\n%s", d.logs)
		}
	}()

	d.say("cognitoguard demo: a sign-out that takes effect everywhere, at once.")
	d.say("")
	d.say("Setting up, all inside this process:")

	// The fake Cognito user pool, spoken to through the real AWS SDK.
	d.pool = cognitotest.NewPool(cognitotest.Config{})
	defer d.pool.Close()
	d.pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Password: "Alice-Passw0rd!", Groups: []string{"admin"}})
	d.pool.AddUser(cognitotest.User{Username: "bob", Email: "bob@example.com", Password: "Bob-Passw0rd!"})
	d.pool.AddUser(cognitotest.User{Username: "carol", Email: "carol@example.com", Password: "Carol-Passw0rd!"})
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	d.http = &http.Client{Timeout: 10 * time.Second, Transport: transport}
	d.cognito = cognitoidentityprovider.New(cognitoidentityprovider.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(d.pool.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("demo", "demo", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       d.http,
	})
	d.say("  Cognito user pool (fake)   %s   users: alice (group admin), bob, carol", d.pool.URL())

	redisAddr := o.redisAddr
	if redisAddr == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("setup: embedded Redis: %w", err)
		}
		defer mr.Close()
		redisAddr = mr.Addr()
		d.embedded = true
		d.say("  Redis (embedded miniredis) %s", redisAddr)
	} else {
		d.say("  Redis (external)           %s", redisAddr)
	}

	for _, spec := range []struct {
		name  string
		store bool
		desc  string
	}{
		{"A", true, "own Verifier + own redisstore store"},
		{"B", true, "own Verifier + own redisstore store"},
		{"P", false, "plain JWT check, no revocation store (for contrast)"},
	} {
		in, err := d.newInstance(ctx, spec.name, redisAddr, spec.store, o.plain)
		if err != nil {
			return fmt.Errorf("setup: instance %s: %w", spec.name, err)
		}
		defer in.close()
		switch spec.name {
		case "A":
			d.a = in
		case "B":
			d.b = in
		default:
			d.p = in
		}
		d.say("  API instance %s             %s   %s", spec.name, in.srv.URL, spec.desc)
	}
	if d.a.store != nil {
		ep, err := d.startEvents(ctx, d.a.store)
		if err != nil {
			return fmt.Errorf("setup: events consumer: %w", err)
		}
		defer ep.stop()
		d.events = ep
		d.say("  Events consumer            the pool's CloudTrail records → in-process queue → A's store")
	}
	d.say("  A, B and P accept access and ID tokens (Config.TokenUse = any).")
	d.say("  Below: instance, request, token used → HTTP status.")

	alice, err := d.steps(ctx)
	if err != nil {
		return err
	}
	d.say("")
	d.say("All 7 steps behaved as described.")
	if !o.serve {
		return nil
	}
	return d.serve(ctx, alice)
}

// steps runs the walkthrough and returns alice's current tokens.
func (d *demo) steps(ctx context.Context) (*types.AuthenticationResultType, error) {
	// 1.
	d.begin(1, "alice signs in (InitiateAuth USER_PASSWORD_AUTH through aws-sdk-go-v2)")
	alice, err := d.signIn(ctx, "alice", "Alice-Passw0rd!")
	if err != nil {
		return nil, d.fail(err)
	}
	d.check(true, "got an access, an ID and a refresh token")
	aliceAccess := tok("alice access", alice.AccessToken)
	aliceID := idTok("alice ID", alice.IdToken)
	res := d.expect(d.a, "GET", "/me", aliceAccess, 200)
	d.say("      %s", strings.TrimSpace(res.body))
	d.expect(d.b, "GET", "/me", aliceAccess, 200)
	d.expect(d.a, "GET", "/me", aliceID, 200)
	d.expect(d.b, "GET", "/me", aliceID, 200)
	if err := d.end(); err != nil {
		return nil, err
	}

	// 2.
	d.begin(2, "alice logs out on A (POST /logout: record in Redis, then Cognito GlobalSignOut)")
	d.expect(d.a, "POST", "/logout", aliceAccess, 204)
	signedOut := time.Now()
	d.say("      A wrote the sign-out to Redis and returned once B had it (pub/sub,")
	d.say("      acknowledged: redisstore.Config.WaitInstances); each check is made once.")
	if err := d.end(); err != nil {
		return nil, err
	}

	// 3.
	d.begin(3, "alice's old tokens, still unexpired, after the sign-out")
	for _, t := range []token{aliceAccess, aliceID} {
		d.expectRevoked(d.a, t)
		d.expectRevoked(d.b, t)
	}
	d.expect(d.p, "GET", "/me", aliceAccess, 200)
	d.say("      P checks only the JWT, as plain Cognito setups do: it accepts the")
	d.say("      token until it expires (1 hour by default, up to a day).")
	d.say("      That is the hole cognitoguard closes.")
	if err := d.end(); err != nil {
		return nil, err
	}

	// 4.
	d.begin(4, "alice's old refresh token")
	d.expectRefreshRevoked(ctx, alice.RefreshToken)
	if err := d.end(); err != nil {
		return nil, err
	}

	// 5.
	d.begin(5, "alice signs in again")
	d.waitNextSecond(signedOut)
	alice, err = d.signIn(ctx, "alice", "Alice-Passw0rd!")
	if err != nil {
		return nil, d.fail(err)
	}
	aliceAccess = tok("alice new access", alice.AccessToken)
	d.expect(d.a, "GET", "/me", aliceAccess, 200)
	d.expect(d.b, "GET", "/me", aliceAccess, 200)
	d.expect(d.b, "GET", "/me", idTok("alice new ID", alice.IdToken), 200)
	if err := d.end(); err != nil {
		return nil, err
	}

	// 6.
	d.begin(6, "an admin signs bob out (POST /admin/users/bob/signout: AdminUserGlobalSignOut)")
	bob, err := d.signIn(ctx, "bob", "Bob-Passw0rd!")
	if err != nil {
		return nil, d.fail(err)
	}
	d.check(true, "bob signed in")
	bobAccess := tok("bob access", bob.AccessToken)
	bobID := idTok("bob ID", bob.IdToken)
	d.expect(d.a, "GET", "/me", bobAccess, 200)
	d.expect(d.b, "GET", "/me", bobAccess, 200)
	d.expectNote(d.a, "POST", "/admin/users/alice/signout", bobAccess, 403, "bob is not in group admin")
	d.expect(d.b, "POST", "/admin/users/bob/signout", aliceAccess, 204)
	for _, t := range []token{bobAccess, bobID} {
		d.expectRevoked(d.a, t)
		d.expectRevoked(d.b, t)
	}
	d.expectRefreshRevoked(ctx, bob.RefreshToken)
	d.expectNote(d.a, "GET", "/me", aliceAccess, 200, "alice is not affected")
	if err := d.end(); err != nil {
		return nil, err
	}
	if err := d.stepElsewhere(ctx); err != nil {
		return nil, err
	}
	return alice, nil
}

// serve prints commands to try and waits for ctx.
func (d *demo) serve(ctx context.Context, alice *types.AuthenticationResultType) error {
	// bob was signed out in step 6: a new sign-in must fall in a later second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	bob, err := d.signIn(ctx, "bob", "Bob-Passw0rd!")
	if err != nil {
		return fmt.Errorf("serve: signing bob in: %w", err)
	}
	a, b, p := d.a.srv.URL, d.b.srv.URL, d.p.srv.URL
	d.say("")
	d.say("Serving until Ctrl-C. Fresh access tokens (valid for 1 hour), for a shell:")
	d.say("")
	d.say("ALICE='%s'", *alice.AccessToken)
	d.say("BOB='%s'", *bob.AccessToken)
	d.say("")
	d.say("Then try:")
	d.say("")
	d.say(`curl -i -H "Authorization: Bearer $BOB" %s/me                      # 200`, a)
	d.say(`curl -i -X POST -H "Authorization: Bearer $BOB" %s/admin/users/alice/signout   # 403: not an admin`, a)
	d.say(`curl -i -X POST -H "Authorization: Bearer $ALICE" %s/admin/users/bob/signout   # 204`, a)
	d.say(`curl -i -H "Authorization: Bearer $BOB" %s/me                      # 401 on B too: revoked`, b)
	d.say(`curl -i -H "Authorization: Bearer $BOB" %s/me                      # 200: plain JWT check`, p)
	d.say(`curl -i -X POST -H "Authorization: Bearer $ALICE" %s/logout        # 204`, b)
	d.say(`curl -i -H "Authorization: Bearer $ALICE" %s/me                    # 401`, a)
	<-ctx.Done()
	d.say("")
	d.say("Stopped.")
	return nil
}

func (d *demo) signIn(ctx context.Context, user, password string) (*types.AuthenticationResultType, error) {
	out, err := d.cognito.InitiateAuth(ctx, &cognitoidentityprovider.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(d.pool.ClientID()),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password},
	})
	if err != nil {
		return nil, fmt.Errorf("%s signs in: %w", user, err)
	}
	r := out.AuthenticationResult
	if r == nil || r.AccessToken == nil || r.IdToken == nil || r.RefreshToken == nil {
		return nil, fmt.Errorf("%s signs in: incomplete AuthenticationResult", user)
	}
	return r, nil
}

// expectRefreshRevoked checks that Cognito refuses refreshToken.
func (d *demo) expectRefreshRevoked(ctx context.Context, refreshToken *string) {
	_, err := d.cognito.InitiateAuth(ctx, &cognitoidentityprovider.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(d.pool.ClientID()),
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(refreshToken)},
	})
	var na *types.NotAuthorizedException
	switch {
	case errors.As(err, &na):
		d.check(true, "Cognito REFRESH_TOKEN_AUTH → NotAuthorizedException")
		d.say("      %q", na.ErrorMessage())
	case err == nil:
		d.check(false, "Cognito REFRESH_TOKEN_AUTH → new tokens (want NotAuthorizedException)")
	default:
		d.check(false, "Cognito REFRESH_TOKEN_AUTH → %v (want NotAuthorizedException)", err)
	}
}

// waitNextSecond waits until the second after t, saying why.
func (d *demo) waitNextSecond(t time.Time) {
	wait := time.Until(t.Truncate(time.Second).Add(time.Second))
	if wait <= 0 {
		return
	}
	d.say("   auth_time has 1-second resolution and tokens with auth_time ≤ the sign-out")
	d.say("   time stay revoked, so we wait %.1fs for the next whole second.", wait.Seconds())
	time.Sleep(wait)
}

// lockedBuffer is a bytes.Buffer that the demo's goroutines may log to at
// once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

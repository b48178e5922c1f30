//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// The pools of the end-to-end tests: A and B configured (B in another
// region, holding a user with the same sub as one of A's), C not.
const (
	poolA = "us-east-1_PoolAaaaa"
	poolB = "eu-west-1_PoolBbbbb"
	poolC = "us-west-2_PoolCcccc"
)

func newPool(t *testing.T, w *world, id string, cfg cognitotest.Config) *cognitotest.Pool {
	cfg.PoolID = id
	p := cognitotest.NewPool(cfg)
	t.Cleanup(p.Close)
	p.SetCloudTrailSink(w.forward)
	return p
}

// users are pool A's users of the scenario, by what happens to them.
var users = []string{"alice", "bob", "carl", "dina", "dave", "erin", "frank", "pat"}

// tokens is a user's access and ID tokens.
type tokens struct{ access, id string }

// TestEndToEnd is issue 20's "Done when", for the sign-outs: with the
// consumer started as the README says (pointed at fauxqs), the real SDK
// against the fake pool and two examples/api instances on redis-server,
// every sign-out made without the library gets the old access and ID
// tokens rejected on both instances; a sign-in in a later second passes;
// other users and the same sub in another pool are untouched; failed
// calls and sign-ins record nothing; unconfigured pools are counted and
// acknowledged; the password policy works when on and does nothing when
// off; a later T recorded by the helper survives a later-arriving older
// event; and applied + queued + dead-lettered = sent.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds and runs processes")
	}
	w := newWorld(t)
	a := newPool(t, w, poolA, cognitotest.Config{AliasAttributes: []string{"email"}})
	b := newPool(t, w, poolB, cognitotest.Config{})
	c := newPool(t, w, poolC, cognitotest.Config{})
	tok := map[string]tokens{}
	for _, u := range users {
		a.AddUser(cognitotest.User{Username: u, Email: u + "@example.com", Password: "Pass-word-1" + u,
			Attributes: map[string]string{"email_verified": "true"}})
	}
	fed := a.AddUser(cognitotest.User{Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "1234567890"}})
	alice, _ := a.User("alice")
	b.AddUser(cognitotest.User{Username: "alice", Sub: alice.Sub})
	c.AddUser(cognitotest.User{Username: "zed"})
	for _, u := range append(users, fed.Username) {
		s := a.SignIn(u)
		tok[u] = tokens{s.AccessToken, s.IDToken}
	}
	api1, api2 := w.startAPI(a), w.startAPI(a)
	w.startConsumer([]string{poolA, poolB})
	ctx := t.Context()
	ca, cc := a.Client(), c.Client()

	// Sign-ins and failed calls: filtered by the rule, recorded nowhere.
	if _, err := ca.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: "USER_PASSWORD_AUTH", ClientId: aws.String(a.ClientID()),
		AuthParameters: map[string]string{"USERNAME": "frank", "PASSWORD": "Pass-word-1frank"}}); err != nil {
		t.Fatalf("InitiateAuth: %v", err)
	}
	if _, err := ca.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: aws.String("not-a-token")}); err == nil {
		t.Fatal("GlobalSignOut with a bad token succeeded")
	}
	if _, err := ca.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(poolA), Username: aws.String("nobody")}); err == nil {
		t.Fatal("AdminUserGlobalSignOut of nobody succeeded")
	}
	if n := w.sent.Load(); n != 0 {
		t.Fatalf("%d messages sent for sign-ins and failed calls; the rule must drop them", n)
	}

	// The sign-outs, made without the library.
	signOuts := map[string]func() error{
		"alice": func() error {
			_, err := ca.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: aws.String(tok["alice"].access)})
			return err
		},
		"bob":        adminSignOut(t, ca, "bob"),
		"carl":       adminSignOut(t, ca, "carl@example.com"), // by alias
		fed.Username: adminSignOut(t, ca, fed.Username),       // Provider_id
		"dina": func() error {
			_, err := ca.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(poolA), Username: aws.String("dina")})
			return err
		},
		"dave": func() error {
			_, err := ca.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(poolA), Username: aws.String("dave")})
			return err
		},
		"erin": func() error {
			_, err := ca.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: aws.String(tok["erin"].access)})
			return err
		},
	}
	for u, f := range signOuts {
		if err := f(); err != nil {
			t.Fatalf("sign-out of %s: %v", u, err)
		}
	}
	for u := range signOuts {
		for _, api := range []string{api1, api2} {
			for kind, token := range map[string]string{"access": tok[u].access, "ID": tok[u].id} {
				waitFor(t, 30*time.Second, fmt.Sprintf("%s's old %s token still accepted by %s", u, kind, api), func() bool {
					return status(api+"/me", token) == http.StatusUnauthorized
				})
			}
		}
	}
	signedOutAt := time.Now()
	for _, u := range []string{"frank", "pat"} {
		for _, api := range []string{api1, api2} {
			if s := status(api+"/me", tok[u].access); s != http.StatusOK {
				t.Errorf("untouched user %s: %s answered %d", u, api, s)
			}
		}
	}
	if _, ok := w.signedOutAt(poolB, alice.Sub); ok {
		t.Error("the same sub in pool B was signed out")
	}
	// A sign-in in a later second passes.
	waitFor(t, 3*time.Second, "next second", func() bool { return time.Now().Unix() > signedOutAt.Unix() })
	for _, u := range []string{"alice", "bob"} {
		fresh := a.SignIn(u)
		for _, api := range []string{api1, api2} {
			if s := status(api+"/me", fresh.AccessToken); s != http.StatusOK {
				t.Errorf("%s signed in again a second later: %s answered %d", u, api, s)
			}
		}
	}

	// An unconfigured pool's sign-out is counted and acknowledged.
	if _, err := cc.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(poolC), Username: aws.String("zed")}); err != nil {
		t.Fatal(err)
	}
	w.waitOutcome("unconfigured_pool", 1)

	// Password policy off: counted, nothing recorded.
	if _, err := ca.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: aws.String(tok["pat"].access),
		PreviousPassword: aws.String("Pass-word-1pat"), ProposedPassword: aws.String("Pass-word-2pat")}); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	w.waitOutcome("policy_off", 1)
	w.waitDrained()
	if s := status(api1+"/me", tok["pat"].access); s != http.StatusOK {
		t.Errorf("password policy off: pat's token got %d", s)
	}
	// On: a password reset signs pat out.
	acked := w.stopConsumer()
	w.startConsumer([]string{poolA, poolB}, "-passwords")
	if _, err := ca.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolA), Username: aws.String("pat"),
		Password: aws.String("Pass-word-3pat"), Permanent: true}); err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
	for _, api := range []string{api1, api2} {
		waitFor(t, 30*time.Second, "password policy on: pat's token still accepted", func() bool {
			return status(api+"/me", tok["pat"].access) == http.StatusUnauthorized
		})
	}

	// A later T recorded by the helper (frank's own sign-out through the
	// API) survives an older event arriving after it.
	req, _ := http.NewRequest(http.MethodPost, api1+"/logout", nil)
	req.Header.Set("Authorization", "Bearer "+tok["frank"].access)
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode >= 300 {
		t.Fatalf("POST /logout: %v %v", resp, err)
	}
	resp.Body.Close()
	frank, _ := a.User("frank")
	helperT, ok := w.signedOutAt(poolA, frank.Sub)
	if !ok {
		t.Fatal("the helper recorded nothing")
	}
	w.sendRaw(signOutBody(t, poolA, frank.Sub, helperT.Add(-10*time.Second)))
	w.waitDrained()
	if at, _ := w.signedOutAt(poolA, frank.Sub); !at.Equal(helperT) {
		t.Errorf("after an older event, frank's T = %v, want the helper's %v", at, helperT)
	}

	// verify: the canary's sign-out through the whole pipeline.
	a.AddUser(cognitotest.User{Username: "canary"})
	bin, _ := binaries(t)
	v := startProc(t, env, bin, "verify", "-user-pool-id", poolA, "-redis-addr", w.redisAddr,
		"-cognito-endpoint", a.URL(), "-username", "canary", "-timeout", "60s")
	select {
	case <-v.exited:
	case <-time.After(90 * time.Second):
		t.Fatal("verify did not return")
	}
	if code := v.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(v.out.String(), "event arrived") {
		t.Errorf("verify: exit %d\n%s", code, v.out)
	}

	acked += w.stopConsumer()
	if q, d, sent := w.queued(), w.dead(), w.sent.Load(); q != 0 || d != 0 || int64(acked+q+d) != sent {
		t.Errorf("applied %d + queued %d + dead-lettered %d != sent %d", acked, q, d, sent)
	}
	if n := w.sent.Load(); n < int64(len(signOuts)+4) {
		t.Errorf("sent %d messages, want at least %d", n, len(signOuts)+4)
	}
}

// adminSignOut is AdminUserGlobalSignOut of pool A's user named name.
func adminSignOut(t *testing.T, c *cip.Client, name string) func() error {
	return func() error {
		_, err := c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(poolA), Username: aws.String(name)})
		return err
	}
}

// stopConsumer stops the consumer (SIGTERM) and returns the messages it
// acknowledged: the final outcomes of its last log record.
func (w *world) stopConsumer() int {
	w.t.Helper()
	w.consumer.stop(w.t)
	if !strings.Contains(w.consumer.out.String(), `"msg":"stopped"`) {
		w.t.Fatal("the consumer did not log stopped")
	}
	n := 0
	for _, o := range []string{"recorded", "not_signout", "policy_off", "failed_call", "unconfigured_pool", "expired"} {
		n += w.outcome(o)
	}
	return n
}

var outcomeRe = regexp.MustCompile(`"outcomes":\{[^}]*\}`)

// outcome is the latest count of an outcome in the consumer's stats log.
func (w *world) outcome(name string) int { return w.consumer.outcome(name) }

// outcome is the latest count of an outcome in p's stats log.
func (p *proc) outcome(name string) int {
	all := outcomeRe.FindAllString(p.out.String(), -1)
	if len(all) == 0 {
		return 0
	}
	m := regexp.MustCompile(`"` + name + `":(\d+)`).FindStringSubmatch(all[len(all)-1])
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (w *world) waitOutcome(name string, n int) {
	w.t.Helper()
	waitFor(w.t, 30*time.Second, fmt.Sprintf("outcome %s not counted %d times", name, n), func() bool { return w.outcome(name) >= n })
}

// waitDrained waits until the queue is empty.
func (w *world) waitDrained() {
	w.t.Helper()
	waitFor(w.t, 60*time.Second, "queue not drained", func() bool { return w.queued() == 0 })
}

// signOutBody is testdata/cloudtrail/AdminUserGlobalSignOut.json, an
// EventBridge event, for sub of pool at at.
func signOutBody(t *testing.T, pool, sub string, at time.Time) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "cloudtrail", "AdminUserGlobalSignOut.json"))
	if err != nil {
		t.Fatal(err)
	}
	region, _, _ := strings.Cut(pool, "_")
	return strings.NewReplacer(
		"us-east-1_AbCdEf123", pool,
		`"us-east-1"`, strconv.Quote(region),
		"4f0c9d2e-8b1a-4c3d-9e5f-6a7b8c9d0e1f", sub,
		"2026-06-01T12:00:00Z", at.UTC().Format(time.RFC3339),
		"ce000004-0000-4000-8000-000000000004", fmt.Sprintf("e2e-%d", time.Now().UnixNano()),
	).Replace(string(b))
}

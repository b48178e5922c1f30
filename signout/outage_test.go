package signout_test

// Sign-outs during a Redis outage, on a real redis-server started by
// internal/redistest, with the real AWS SDK client against a fake pool
// (cognitotest): what the caller is told, what Cognito sees, what the
// Verifiers answer meanwhile, and how the same store recovers by itself.

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/signout"
)

// TestSignOutRedisServerPaused: the server is stopped (SIGSTOP) and
// resumed. Sign-outs during the outage return ErrStore while Cognito is
// still called; the Verifiers fail closed once their view may be stale;
// after SIGCONT the same store recovers by itself, a retry records the
// sign-out, and every service rejects the old tokens.
func TestSignOutRedisServerPaused(t *testing.T) {
	addr, proc := redistest.Server(t)
	p := outagePool(t, "alice", "bob", "carol", "dave", "erin")
	prefix := outagePrefix()
	svc := newOutageService(t, p, addr, prefix, 1, signout.Config{})
	other := newOutageService(t, p, addr, prefix, 1, signout.Config{})
	ctx := t.Context()
	toks := map[string]string{}
	for _, u := range []string{"alice", "bob", "carol", "erin"} {
		toks[u] = p.SignIn(u).AccessToken
		for _, s := range []*outageService{svc, other} {
			s.wantVerify(t, "before the outage, "+u, toks[u], nil) // the users are in both views
		}
	}

	resume := pause(t, proc)
	stopped := time.Now()

	// Right after the pause, while the view is still within its staleness
	// bound: the sign-outs cannot be recorded, but Cognito is called and
	// the caller is told.
	before := p.Calls("GlobalSignOut")
	err := svc.so.GlobalSignOut(ctx, toks["alice"])
	wantStoreFailure(t, "GlobalSignOut while paused", err, p, "GlobalSignOut", before)
	before = p.Calls("AdminUserGlobalSignOut")
	_, err = svc.so.AdminSignOut(ctx, "bob")
	wantStoreFailure(t, "AdminSignOut while paused", err, p, "AdminUserGlobalSignOut", before)
	t.Logf("two sign-outs while paused took %v", time.Since(stopped).Round(time.Millisecond))
	// The service that saw its writes fail no longer trusts its view
	// (TestSignOutRedisServerPausedFailsClosed checks it over time).
	for _, u := range []string{"alice", "bob"} {
		svc.wantVerify(t, "paused, after the failed sign-out of "+u, toks[u], cognitoguard.ErrUnavailable)
	}

	// Past the staleness bound every Verifier fails closed: nobody's token
	// is accepted, whatever its user.
	for _, s := range []*outageService{svc, other} {
		for _, tok := range toks {
			s.waitVerify(t, "paused", tok, cognitoguard.ErrUnavailable, outageStaleness+2*time.Second)
		}
	}
	t.Logf("both services fail closed %v after SIGSTOP (Staleness %v)", time.Since(stopped).Round(time.Millisecond), outageStaleness)
	// From then on, too, sign-outs reach Cognito and report ErrStore.
	before = p.Calls("AdminUserGlobalSignOut")
	_, err = svc.so.AdminSignOut(ctx, "carol")
	wantStoreFailure(t, "AdminSignOut while paused and stale", err, p, "AdminUserGlobalSignOut", before)
	before = p.Calls("GlobalSignOut")
	err = other.so.GlobalSignOut(ctx, toks["erin"])
	wantStoreFailure(t, "GlobalSignOut while paused and stale", err, p, "GlobalSignOut", before)
	for _, u := range []string{"alice", "bob", "carol", "erin"} {
		if _, ok := p.SignedOutAt(outageSub(t, p, u)); !ok {
			t.Errorf("Cognito did not sign %s out", u)
		}
	}
	for i := range 20 { // never success while paused
		for u, tok := range toks {
			for j, s := range []*outageService{svc, other} {
				if err := s.verifyErr(t, tok); !errors.Is(err, cognitoguard.ErrUnavailable) {
					t.Fatalf("paused, check %d, service %d, %s: Verify = %v, want ErrUnavailable", i, j, u, err)
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}

	resume()
	resumed := time.Now()
	for i, s := range []*outageService{svc, other} {
		d := s.waitHealthy(t, fmt.Sprint("service ", i), 3*time.Second)
		t.Logf("service %d healthy %v after SIGCONT (stopped for %v)", i, d.Round(time.Millisecond), resumed.Sub(stopped).Round(time.Millisecond))
		if d > 2*time.Second+500*time.Millisecond {
			t.Errorf("service %d healthy only %v after SIGCONT, want about 2s at most", i, d)
		}
	}

	// The retries record the sign-outs and succeed (Cognito's "Access
	// Token has been revoked" to a repeated GlobalSignOut counts as done).
	for _, u := range []string{"alice", "erin"} {
		if err := svc.so.GlobalSignOut(ctx, toks[u]); err != nil {
			t.Errorf("GlobalSignOut(%s) retried after the outage: %v", u, err)
		}
	}
	for _, u := range []string{"bob", "carol"} {
		if _, err := other.so.AdminSignOut(ctx, u); err != nil {
			t.Errorf("AdminSignOut(%s) retried after the outage: %v", u, err)
		}
	}
	for u := range toks {
		if _, ok := other.recorded(t, p.PoolID(), outageSub(t, p, u)); !ok {
			t.Errorf("%s: no sign-out recorded in Redis after the retry", u)
		}
	}
	for i, s := range []*outageService{svc, other} {
		for u, tok := range toks {
			s.waitVerify(t, fmt.Sprintf("service %d, %s after the retry", i, u), tok, cognitoguard.ErrRevoked, 100*time.Millisecond)
		}
	}
	// A service started now, on its own client, agrees.
	fresh := newOutageService(t, p, addr, prefix, 1, signout.Config{})
	for u, tok := range toks {
		fresh.wantVerify(t, "new service, "+u, tok, cognitoguard.ErrRevoked)
	}
	// dave was never signed out.
	for _, s := range []*outageService{svc, other, fresh} {
		s.wantVerify(t, "dave", p.SignIn("dave").AccessToken, nil)
	}
}

// TestSignOutRedisServerRestart: the server is killed and a new, empty one
// started on the same address. The same stores recover by themselves;
// sign-outs made during the outage fail (ErrStore, Cognito still called)
// and their retries record them.
func TestSignOutRedisServerRestart(t *testing.T) {
	addr, proc := redistest.Server(t)
	p := outagePool(t, "alice", "bob", "carol")
	prefix := outagePrefix()
	svc := newOutageService(t, p, addr, prefix, 1, signout.Config{})
	other := newOutageService(t, p, addr, prefix, 1, signout.Config{})
	ctx := t.Context()
	alice, bob := p.SignIn("alice"), p.SignIn("bob")
	for _, s := range []*outageService{svc, other} {
		s.wantVerify(t, "before the outage", alice.AccessToken, nil)
		s.wantVerify(t, "before the outage", bob.AccessToken, nil)
	}

	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for _, s := range []*outageService{svc, other} {
		s.waitVerify(t, "killed", alice.AccessToken, cognitoguard.ErrUnavailable, time.Second)
	}
	t.Logf("both services fail closed %v after the kill", time.Since(killed).Round(time.Millisecond))

	before := p.Calls("AdminUserGlobalSignOut")
	_, err := svc.so.AdminSignOut(ctx, "bob")
	wantStoreFailure(t, "AdminSignOut while Redis is down", err, p, "AdminUserGlobalSignOut", before)
	before = p.Calls("GlobalSignOut")
	err = svc.so.GlobalSignOut(ctx, alice.AccessToken)
	wantStoreFailure(t, "GlobalSignOut while Redis is down", err, p, "GlobalSignOut", before)
	for _, tok := range []string{alice.AccessToken, bob.AccessToken} {
		svc.wantVerify(t, "down", tok, cognitoguard.ErrUnavailable)
	}

	redistest.Restart(t, addr)
	restarted := time.Now()
	for i, s := range []*outageService{svc, other} {
		d := s.waitHealthy(t, fmt.Sprint("service ", i), 3*time.Second)
		t.Logf("service %d healthy %v after the restart (down for %v)", i, d.Round(time.Millisecond), restarted.Sub(killed).Round(time.Millisecond))
		if d > 2*time.Second {
			t.Errorf("service %d healthy only %v after the restart, want within 2s", i, d)
		}
	}
	// The new server is empty: the stores noticed the data loss and, unable
	// to prove what was lost, reject every token authenticated before it
	// (the floor), before any retry.
	for _, s := range []*outageService{svc, other} {
		s.wantVerify(t, "restarted, before the retry", alice.AccessToken, cognitoguard.ErrRevoked)
	}

	if _, err := svc.so.AdminSignOut(ctx, "bob"); err != nil {
		t.Errorf("AdminSignOut retried: %v", err)
	}
	if err := other.so.GlobalSignOut(ctx, alice.AccessToken); err != nil {
		t.Errorf("GlobalSignOut retried on the other service: %v", err)
	}
	for i, s := range []*outageService{svc, other} {
		for u, tok := range map[string]string{"alice": alice.AccessToken, "bob": bob.AccessToken} {
			s.waitVerify(t, fmt.Sprintf("service %d, %s after the retry", i, u), tok, cognitoguard.ErrRevoked, 100*time.Millisecond)
		}
	}
	fresh := newOutageService(t, p, addr, prefix, 1, signout.Config{})
	fresh.wantVerify(t, "new service, alice", alice.AccessToken, cognitoguard.ErrRevoked)
	fresh.wantVerify(t, "new service, bob", bob.AccessToken, cognitoguard.ErrRevoked)
	// A sign-in after the sign-out (a later second) passes everywhere.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	for _, s := range []*outageService{svc, other, fresh} {
		s.wantVerify(t, "bob signed in again", p.SignIn("bob").AccessToken, nil)
	}
}

// TestGlobalSignOutRedisServerDownCallsCognito: a user's own sign-out
// while Redis is down must still reach Cognito (revoking the refresh
// tokens) and report ErrStore, as AdminSignOut does and as [Helper]
// documents ("a store failure still calls Cognito"). The token's signature
// can be checked without the store; only whether it is a retry cannot.
func TestGlobalSignOutRedisServerDownCallsCognito(t *testing.T) {
	addr, proc := redistest.Server(t)
	p := outagePool(t, "alice", "bob")
	prefix := outagePrefix()
	for _, tc := range []struct {
		name string
		down func(t *testing.T)
	}{
		{"paused past the staleness bound", func(t *testing.T) {
			pause(t, proc)
			time.Sleep(outageStaleness + 500*time.Millisecond)
		}},
		{"killed", func(t *testing.T) { proc.Kill() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newOutageService(t, p, addr, prefix, 1, signout.Config{})
			// A sign-in in a later second than the floor of the previous
			// restart (a data loss: tokens authenticated before it are rejected).
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
			tok := p.SignIn("alice").AccessToken
			svc.wantVerify(t, "before the outage", tok, nil)
			tc.down(t)
			svc.waitVerify(t, "down", tok, cognitoguard.ErrUnavailable, outageStaleness+2*time.Second)
			before := p.Calls("GlobalSignOut")
			err := svc.so.GlobalSignOut(t.Context(), tok)
			wantStoreFailure(t, "GlobalSignOut while Redis is down", err, p, "GlobalSignOut", before)
			svc.wantVerify(t, "down", tok, cognitoguard.ErrUnavailable)
			proc.Signal(syscall.SIGCONT)
			proc = redistest.Restart(t, addr)
			svc.waitHealthy(t, "restarted", 3*time.Second)
		})
	}
}

// TestSignOutRedisServerPausedFailsClosed: once a sign-out has returned
// ErrStore because Redis stopped answering, the Verifier of the same
// service must not accept that user's tokens (it answers ErrRevoked or
// ErrUnavailable), even while its view is still within the staleness
// bound: the service knows the user asked to be signed out.
func TestSignOutRedisServerPausedFailsClosed(t *testing.T) {
	addr, proc := redistest.Server(t)
	p := outagePool(t, "alice", "bob")
	svc := newOutageService(t, p, addr, outagePrefix(), 1, signout.Config{})
	alice, bob := p.SignIn("alice"), p.SignIn("bob")
	svc.wantVerify(t, "before the outage", alice.AccessToken, nil)
	svc.wantVerify(t, "before the outage", bob.AccessToken, nil)
	resume := pause(t, proc)
	defer resume()
	stopped := time.Now()
	errG := svc.so.GlobalSignOut(t.Context(), alice.AccessToken)
	_, errA := svc.so.AdminSignOut(t.Context(), "bob")
	if !errors.Is(errG, signout.ErrStore) || !errors.Is(errA, signout.ErrStore) {
		t.Fatalf("sign-outs while paused: %v; %v, want ErrStore", errG, errA)
	}
	returned := time.Since(stopped)
	var accepted []string
	for time.Since(stopped) < outageStaleness+500*time.Millisecond {
		for u, tok := range map[string]string{"alice": alice.AccessToken, "bob": bob.AccessToken} {
			err := svc.verifyErr(t, tok)
			if err == nil {
				accepted = append(accepted, fmt.Sprintf("%s at +%v", u, time.Since(stopped).Round(time.Millisecond)))
			} else if !errors.Is(err, cognitoguard.ErrUnavailable) && !errors.Is(err, cognitoguard.ErrRevoked) {
				t.Fatalf("%s: Verify = %v", u, err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(accepted) > 0 {
		t.Errorf("after their sign-outs returned ErrStore (at +%v after SIGSTOP), the same service accepted the users' tokens %d times: first %s, last %s (Staleness %v)",
			returned.Round(time.Millisecond), len(accepted), accepted[0], accepted[len(accepted)-1], outageStaleness)
	}
}

// TestGlobalSignOutRedisServerRetryAfterStoreFailure: a GlobalSignOut
// that failed only because the store was paused (Cognito signed the user
// out) and is retried once Redis is back has done everything there is to
// do: the retry records the sign-out and MUST report success, although
// Cognito now answers "Access Token has been revoked" (it was revoked by
// the first attempt), as the [signout.Helper] documentation promises
// for retries. Otherwise a logout handler answers 502 to a retry that
// completed the sign-out, and the client has to retry once more.
func TestGlobalSignOutRedisServerRetryAfterStoreFailure(t *testing.T) {
	addr, proc := redistest.Server(t)
	p := outagePool(t, "alice")
	svc := newOutageService(t, p, addr, outagePrefix(), 1, signout.Config{})
	tok := p.SignIn("alice").AccessToken
	svc.wantVerify(t, "before the outage", tok, nil)
	resume := pause(t, proc)
	before := p.Calls("GlobalSignOut")
	err := svc.so.GlobalSignOut(t.Context(), tok)
	resume()
	wantStoreFailure(t, "GlobalSignOut while paused", err, p, "GlobalSignOut", before)
	svc.waitHealthy(t, "resumed", 3*time.Second)

	err = svc.so.GlobalSignOut(t.Context(), tok)
	if _, ok := svc.recorded(t, p.PoolID(), outageSub(t, p, "alice")); !ok {
		t.Fatalf("retry: not recorded (err %v)", err)
	}
	svc.wantVerify(t, "after the retry", tok, cognitoguard.ErrRevoked)
	if err != nil {
		t.Errorf("retry: %v, want nil: the sign-out is now recorded and Cognito has revoked the token", err)
	}
	// A third call is recognised as a retry and succeeds.
	if err := svc.so.GlobalSignOut(t.Context(), tok); err != nil {
		t.Errorf("second retry: %v", err)
	}
}

// slowAdminSignOut is the real SDK client whose AdminUserGlobalSignOut
// calls (only) are answered after delay by the fake pool.
type slowAdminSignOut struct {
	*cip.Client
	p     *cognitotest.Pool
	delay time.Duration
}

func (s slowAdminSignOut) AdminUserGlobalSignOut(ctx context.Context, in *cip.AdminUserGlobalSignOutInput, opts ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error) {
	s.p.SetAPIDelay(s.delay)
	defer s.p.SetAPIDelay(0)
	return s.Client.AdminUserGlobalSignOut(ctx, in, opts...)
}

// TestSignOutRedisServerCognitoFaults: with the store healthy, Cognito
// throttles (TooManyRequestsException), fails (InternalErrorException,
// 500) or does not answer within Config.Timeout. The SDK's default
// retryer (3 attempts) retries the first two within bounds; the sign-out
// returns the typed error, and the record is kept: every service rejects
// the user's tokens at once. A retry once Cognito is back succeeds.
func TestSignOutRedisServerCognitoFaults(t *testing.T) {
	addr, _ := redistest.Server(t)
	const attempts = 3 // the SDK's default
	faults := []struct {
		name    string
		errType string
		status  int
		delay   time.Duration
		timeout time.Duration // Config.Timeout
		want    error
		calls   int // Cognito calls of the operation, at most
		within  time.Duration
	}{
		// Backoff between attempts: up to 2s, then up to 4s (legacy
		// standard retryer: rand × 2^attempt s); the step Timeout is above
		// their sum so that all three attempts are made.
		{"throttled", "TooManyRequestsException", 400, 0, 8 * time.Second, signout.ErrTooManyRequests, attempts, 7500 * time.Millisecond},
		{"internal error", "InternalErrorException", 500, 0, 8 * time.Second, signout.ErrCognitoInternal, attempts, 7500 * time.Millisecond},
		{"no answer within the timeout", "", 0, 5 * time.Second, 300 * time.Millisecond, context.DeadlineExceeded, 1, 2 * time.Second},
	}
	ops := []struct {
		name, op string
		signOut  func(ctx context.Context, s *outageService, user, token string) error
	}{
		{"GlobalSignOut", "GlobalSignOut", func(ctx context.Context, s *outageService, _, token string) error {
			return s.so.GlobalSignOut(ctx, token)
		}},
		{"AdminSignOut", "AdminUserGlobalSignOut", func(ctx context.Context, s *outageService, user, _ string) error {
			_, err := s.so.AdminSignOut(ctx, user)
			return err
		}},
	}
	for _, f := range faults {
		for _, op := range ops {
			t.Run(f.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				p := outagePool(t, "alice")
				prefix := outagePrefix()
				cfg := signout.Config{Timeout: f.timeout}
				svc := newOutageService(t, p, addr, prefix, attempts, cfg)
				other := newOutageService(t, p, addr, prefix, 1, signout.Config{})
				normal := svc.so
				if f.delay > 0 && op.op == "AdminUserGlobalSignOut" {
					// AdminGetUser must answer (no sub, no record otherwise).
					svc.so = slowSignOut(t, p, svc, attempts, cfg, f.delay)
				}
				tok := p.SignIn("alice").AccessToken
				svc.wantVerify(t, "before", tok, nil)
				other.wantVerify(t, "before", tok, nil)

				switch {
				case f.errType != "":
					p.FailNext(op.op, f.errType, f.status, attempts)
					defer p.FailNext(op.op, "", 0, 0)
				case op.op == "GlobalSignOut":
					p.SetAPIDelay(f.delay)
				}
				before := p.Calls(op.op)
				start := time.Now()
				err := op.signOut(t.Context(), svc, "alice", tok)
				took := time.Since(start)
				p.SetAPIDelay(0)
				calls := p.Calls(op.op) - before
				t.Logf("%s: %d Cognito calls in %v: %v", op.op, calls, took.Round(time.Millisecond), err)

				var soe *signout.Error
				switch {
				case !errors.Is(err, f.want) || !errors.Is(err, signout.ErrCognito):
					t.Errorf("err = %v, want %v and ErrCognito", err, f.want)
				case errors.Is(err, signout.ErrStore):
					t.Errorf("err = %v matches ErrStore", err)
				case !errors.As(err, &soe) || !soe.Recorded:
					t.Errorf("err = %#v, want a recorded Error", err)
				}
				if calls < 1 || calls > f.calls {
					t.Errorf("%d Cognito %s calls, want 1 to %d", calls, op.op, f.calls)
				}
				if took > f.within {
					t.Errorf("took %v, want at most %v", took, f.within)
				}
				// The record is kept: every service rejects the token now.
				svc.wantVerify(t, "after the failed sign-out", tok, cognitoguard.ErrRevoked)
				other.waitVerify(t, "other service, after the failed sign-out", tok, cognitoguard.ErrRevoked, 100*time.Millisecond)
				if _, ok := other.recorded(t, p.PoolID(), outageSub(t, p, "alice")); !ok {
					t.Error("not recorded in Redis")
				}

				// Cognito is back: the retry completes the sign-out.
				svc.so = normal
				if err := op.signOut(t.Context(), svc, "alice", tok); err != nil {
					t.Errorf("retry: %v", err)
				}
				if _, ok := p.SignedOutAt(outageSub(t, p, "alice")); !ok {
					t.Error("Cognito did not sign alice out on the retry")
				}
				other.wantVerify(t, "after the retry", tok, cognitoguard.ErrRevoked)
			})
		}
	}
}

// slowSignOut is a sign-out helper of svc whose AdminUserGlobalSignOut
// calls are answered after delay.
func slowSignOut(t *testing.T, p *cognitotest.Pool, svc *outageService, attempts int, cfg signout.Config, delay time.Duration) *signout.Helper {
	t.Helper()
	client := cip.New(cip.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(p.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("x", "x", ""),
		RetryMaxAttempts: attempts,
	})
	cfg.UserPoolID = p.PoolID()
	so, err := signout.New(slowAdminSignOut{client, p, delay}, svc.v, svc.store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return so
}

package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/awstest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// cliEnv is a fake pool, a miniredis, and a "service": a Verifier whose
// Redis store shares that miniredis, as a deployed API would.
type cliEnv struct {
	pool    *cognitotest.Pool
	redis   *miniredis.Miniredis
	store   *redisstore.Store
	service *cognitoguard.Verifier
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	awstest.Isolate(t) // the default AWS chain, made hermetic
	t.Setenv("REDIS_USERNAME", "")
	t.Setenv("REDIS_PASSWORD", "")

	e := &cliEnv{}
	e.pool = cognitotest.NewPool(cognitotest.Config{AliasAttributes: []string{"email"}})
	t.Cleanup(e.pool.Close)
	e.redis = miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: e.redis.Addr()})
	t.Cleanup(func() { client.Close() })
	var err error
	e.store, err = redisstore.New(client, redisstore.Config{TrustUnverifiedEviction: true}) // miniredis reports no eviction policy
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	if err := e.store.Ready(t.Context()); err != nil { // subscribed, as a running service is
		t.Fatal(err)
	}
	e.service, err = cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()}, ClientIDs: []string{e.pool.ClientID()}}},
		cognitoguard.Config{Revocation: e.store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.service.Close() })
	return e
}

// args are the flags every test passes, then extra. There is no -issuer:
// the services accept the fake pool's own issuer, and a sign-out recorded
// by the command must reach them all the same (on 6ce98be it was
// recorded under the default AWS issuer and revoked nothing).
func (e *cliEnv) args(cmd string, extra ...string) []string {
	return append([]string{cmd,
		"-region", "us-east-1",
		"-user-pool-id", e.pool.PoolID(),
		"-cognito-endpoint", e.pool.URL(),
		"-redis-addr", e.redis.Addr(),
	}, extra...)
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// field returns the value of "key value" in out.
func field(out, key string) string {
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+" "); ok {
			return v
		}
	}
	return ""
}

func TestSignOutCommand(t *testing.T) {
	tests := []struct {
		name   string
		arg    func(u cognitotest.User) string
		atOnce bool // -wait-instances: the service rejects the tokens when the command exits
	}{
		{"username", func(u cognitotest.User) string { return u.Username }, false},
		{"email", func(u cognitotest.User) string { return u.Email }, false},
		{"sub", func(u cognitotest.User) string { return u.Sub }, false},
		{"username -wait-instances", func(u cognitotest.User) string { return u.Username }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCLIEnv(t)
			u := e.pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com",
				Attributes: map[string]string{"email_verified": "true"}})
			tokens := e.pool.SignIn("alice")
			if _, err := e.service.Verify(t.Context(), tokens.AccessToken); err != nil {
				t.Fatalf("before: %v", err)
			}
			before := time.Now().Add(-time.Millisecond)

			var extra []string
			if tc.atOnce {
				extra = []string{"-wait-instances"}
			}
			code, out, errOut := runCLI(t, e.args("signout", append(extra, tc.arg(u))...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if got := field(out, "sub"); got != u.Sub {
				t.Errorf("printed sub %q, want %q (stdout %q)", got, u.Sub, out)
			}
			at, err := time.Parse(timeFormat, field(out, "signed_out_at"))
			if err != nil || at.Before(before) || at.After(time.Now()) {
				t.Errorf("printed time %q: %v", field(out, "signed_out_at"), err)
			}
			// Recorded in the shared store, with the printed time.
			got, ok, err := e.store.SignedOutAt(t.Context(), e.pool.PoolID(), u.Sub)
			if err != nil || !ok || !got.Equal(at) {
				t.Errorf("store: %v %v %v, want %v", got, ok, err, at)
			}
			// Signed out in Cognito.
			if _, ok := e.pool.SignedOutAt(u.Sub); !ok {
				t.Error("Cognito did not sign the user out")
			}
			// With -wait-instances the service, which had seen the user,
			// has the sign-out already.
			if tc.atOnce {
				if _, err := e.service.Verify(t.Context(), tokens.AccessToken); !errors.Is(err, cognitoguard.ErrRevoked) {
					t.Fatalf("service Verify right after signout -wait-instances: %v, want ErrRevoked", err)
				}
				return
			}
			// Otherwise it learns of it through pub/sub (within 100ms p99)
			// and rejects the tokens.
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, err := e.service.Verify(t.Context(), tokens.AccessToken)
				if errors.Is(err, cognitoguard.ErrRevoked) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("service Verify after signout: %v, want ErrRevoked", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestSignOutCommandFederatedUser(t *testing.T) {
	// A user of a third-party IdP, named by the username Cognito gave it:
	// signed out in Cognito too (which refuses a federated user's sub).
	e := newCLIEnv(t)
	u := e.pool.AddUser(cognitotest.User{Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "104752981234567890123"}})
	tokens := e.pool.SignIn(u.Username)
	code, out, errOut := runCLI(t, e.args("signout", "-wait-instances", u.Username)...)
	if code != 0 || field(out, "sub") != u.Sub {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, ok := e.pool.SignedOutAt(u.Sub); !ok {
		t.Error("Cognito did not sign the user out")
	}
	if _, err := e.service.Verify(t.Context(), tokens.AccessToken); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("service Verify: %v, want ErrRevoked", err)
	}
	code, out, _ = runCLI(t, e.args("status", u.Username)...)
	if code != 0 || field(out, "sub") != u.Sub || field(out, "signed_out_at") == "none" {
		t.Errorf("status: exit %d, stdout %q", code, out)
	}
}

func TestSignOutCommandFailures(t *testing.T) {
	closedPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	tests := []struct {
		name       string
		user       string
		setup      func(t *testing.T, e *cliEnv) []string // extra flags
		wantErr    []string                               // in stderr
		recorded   bool
		cognitoOut bool // Cognito signed the user out
	}{
		{
			name:    "unknown user: nothing done",
			user:    "nobody",
			wantErr: []string{"ErrCognito", "ErrUserNotFound"},
		},
		{
			name: "Cognito refuses: recorded",
			user: "alice",
			setup: func(t *testing.T, e *cliEnv) []string {
				e.pool.FailNext("AdminUserGlobalSignOut", "NotAuthorizedException", 400, 1)
				return nil
			},
			wantErr:  []string{"ErrCognito ErrNotAuthorized", "the sign-out is recorded", "recorded in Redis; Cognito AdminUserGlobalSignOut: NotAuthorizedException: "},
			recorded: true,
		},
		{
			name: "Redis down: Cognito still called",
			user: "alice",
			setup: func(t *testing.T, e *cliEnv) []string {
				return []string{"-redis-addr", closedPort(t), "-timeout", "2s"}
			},
			wantErr:    []string{"ErrStore ErrUnavailable", "NOT recorded", "NOT recorded in Redis; Redis unavailable: "},
			cognitoOut: true,
		},
		{
			name: "-wait-instances, a silent subscriber: recorded, not confirmed",
			user: "alice",
			setup: func(t *testing.T, e *cliEnv) []string {
				c := redis.NewClient(&redis.Options{Addr: e.redis.Addr()})
				t.Cleanup(func() { c.Close() })
				// Subscribed to every sign-out channel, never acknowledging.
				mute := c.PSubscribe(t.Context(), redisstore.DefaultPrefix+"*signouts*")
				t.Cleanup(func() { mute.Close() })
				if _, err := mute.Receive(t.Context()); err != nil {
					t.Fatal(err)
				}
				return []string{"-wait-instances", "-timeout", "300ms"}
			},
			wantErr:    []string{"ErrStore ErrUnavailable ErrUnconfirmed", "applied by 2 of 3 instances", "recorded but not confirmed", "recorded in Redis, not confirmed; "},
			recorded:   true,
			cognitoOut: true,
		},
		{
			name: "wrong pool: ResourceNotFound",
			user: "alice",
			setup: func(t *testing.T, e *cliEnv) []string {
				return []string{"-user-pool-id", "us-east-1_other"}
			},
			wantErr: []string{"ErrResourceNotFound"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCLIEnv(t)
			u := e.pool.AddUser(cognitotest.User{Username: "alice"})
			var extra []string
			if tc.setup != nil {
				extra = tc.setup(t, e)
			}
			args := e.args("signout")
			args = append(args, extra...)
			args = append(args, tc.user)
			code, _, errOut := runCLI(t, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (stderr %q)", code, errOut)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			for _, noise := range []string{": signout:", "signout: cognito", "revocation:", "operation error", "RequestID"} {
				if strings.Contains(errOut, noise) {
					t.Errorf("stderr %q has the library's or the SDK's %q", errOut, noise)
				}
			}
			_, ok, err := e.store.SignedOutAt(t.Context(), e.pool.PoolID(), u.Sub)
			if err != nil || ok != tc.recorded {
				t.Errorf("recorded = %v (%v), want %v", ok, err, tc.recorded)
			}
			if _, ok := e.pool.SignedOutAt(u.Sub); ok != tc.cognitoOut {
				t.Errorf("Cognito signed out = %v, want %v", ok, tc.cognitoOut)
			}
		})
	}
}

func TestStatusCommand(t *testing.T) {
	e := newCLIEnv(t)
	u := e.pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com",
		Attributes: map[string]string{"email_verified": "true"}})
	redisOnly := []string{"status", "-user-pool-id", e.pool.PoolID(), "-redis-addr", e.redis.Addr()}

	code, out, errOut := runCLI(t, append(redisOnly, "-sub", u.Sub)...)
	if code != 0 || field(out, "sub") != u.Sub || field(out, "signed_out_at") != "none" {
		t.Fatalf("status before: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, e.args("signout", "alice")...); code != 0 {
		t.Fatalf("signout: exit %d, %s", code, errOut)
	}
	want, _, _ := e.store.SignedOutAt(t.Context(), e.pool.PoolID(), u.Sub)
	tests := []struct {
		name string
		args []string
	}{
		{"-sub, Redis only", append(redisOnly, "-sub", u.Sub)},
		{"sub resolved", e.args("status", u.Sub)},
		{"username resolved", e.args("status", "alice")},
		{"email resolved", e.args("status", "alice@example.com")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if field(out, "sub") != u.Sub || field(out, "signed_out_at") != want.UTC().Format(timeFormat) {
				t.Errorf("stdout %q, want sub %s at %v", out, u.Sub, want)
			}
		})
	}
	// An unknown user: exit 1, in the command's words (no package
	// prefixes, no SDK plumbing), with its class.
	code, out, errOut = runCLI(t, e.args("status", "nobody")...)
	const wantErr = `cognitoguard status: resolving "nobody": Cognito AdminGetUser: UserNotFoundException: User does not exist.`
	if code != 1 || out != "" || !strings.Contains(errOut, wantErr+"\n") || !strings.Contains(errOut, "error class: ErrCognito ErrUserNotFound") || !strings.Contains(errOut, "use -sub SUB") {
		t.Errorf("status nobody: exit %d, stdout %q, stderr %q; want %q", code, out, errOut, wantErr)
	}
	for _, noise := range []string{": signout:", "signout: cognito", "operation error", "RequestID"} {
		if strings.Contains(errOut, noise) {
			t.Errorf("stderr %q has %q", errOut, noise)
		}
	}
	if n := e.pool.Calls("AdminUserGlobalSignOut"); n != 1 {
		t.Errorf("status called AdminUserGlobalSignOut (%d calls)", n)
	}
}

func TestUsage(t *testing.T) {
	pool := []string{"-user-pool-id", "eu-west-1_x", "-redis-addr", "127.0.0.1:1"}
	tests := []struct {
		name  string
		args  []string
		code  int
		out   string   // in stdout or stderr
		notIn []string // in neither
	}{
		{"no command", nil, 2, "usage:", nil},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`, nil},
		{"help", []string{"help"}, 0, "usage:", nil},
		{"signout -h", []string{"signout", "-h"}, 0, "-wait-instances", nil},
		// status reads; the flags of writes are not its own.
		{"status -h", []string{"status", "-h"}, 0, "-redis-addr", []string{"-wait-instances", "-wait-replicas", "  -v\t"}},
		{"status -wait-instances", []string{"status", "-wait-instances"}, 2, "flag provided but not defined", nil},
		{"missing flags", []string{"signout", "alice"}, 2, "missing -user-pool-id, -redis-addr", nil},
		{"no user", append([]string{"signout"}, pool...), 2, "exactly one user", nil},
		{"two users", append(append([]string{"status"}, pool...), "a", "b"), 2, "exactly one user", nil},
		{"bad flag", []string{"status", "-nope"}, 2, "flag provided but not defined", nil},
		{"bad flag after the user", append(append([]string{"status"}, pool...), "a", "-nope"), 2, "flag provided but not defined", nil},
		{"bad timeout", append(append([]string{"status"}, pool...), "-timeout", "0s", "a"), 2, "-timeout", nil},
		{"timeout after the user", append(append([]string{"status"}, pool...), "a", "-timeout", "0s"), 2, "-timeout", nil},
		{"a user named like a flag, after --", append(append([]string{"status"}, pool...), "--", "-a", "b"), 2, "exactly one user", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (%q)", code, tc.code, out+errOut)
			}
			if !strings.Contains(out+errOut, tc.out) {
				t.Errorf("output %q lacks %q", out+errOut, tc.out)
			}
			for _, n := range tc.notIn {
				if strings.Contains(out+errOut, n) {
					t.Errorf("output %q has %q", out+errOut, n)
				}
			}
		})
	}
}

func TestFlagsAfterUser(t *testing.T) {
	// "cognitoguard signout alice -wait-instances" does what it says: a
	// flag after the user is a flag, not a second user.
	e := newCLIEnv(t)
	u := e.pool.AddUser(cognitotest.User{Username: "alice"})
	tokens := e.pool.SignIn("alice")
	if _, err := e.service.Verify(t.Context(), tokens.AccessToken); err != nil {
		t.Fatalf("before: %v", err)
	}
	code, out, errOut := runCLI(t, e.args("signout", "alice", "-wait-instances", "-timeout", "3s")...)
	if code != 0 || field(out, "sub") != u.Sub {
		t.Fatalf("signout: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// -wait-instances took effect: the service has the sign-out already.
	if _, err := e.service.Verify(t.Context(), tokens.AccessToken); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("service Verify right after signout: %v, want ErrRevoked", err)
	}
	code, out, errOut = runCLI(t, "status", "-sub", u.Sub, "-user-pool-id", e.pool.PoolID(), "-redis-addr", e.redis.Addr())
	if code != 0 || field(out, "signed_out_at") == "none" {
		t.Errorf("status: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestRedisServerTLS runs the commands against a redis-server that speaks only
// TLS, with a certificate of a private CA: -redis-ca trusts it; -redis-tls
// alone (the system's roots) refuses it, and the sign-out still reaches
// Cognito but is reported as not recorded.
func TestRedisServerTLS(t *testing.T) {
	e := newCLIEnv(t)
	u := e.pool.AddUser(cognitotest.User{Username: "alice"})
	addr, caFile := redistest.TLSServer(t)
	args := func(cmd string, extra ...string) []string {
		a := e.args(cmd, "-redis-addr", addr, "-timeout", "2s")
		return append(a, extra...)
	}

	code, _, errOut := runCLI(t, args("signout", "-redis-tls", "alice")...)
	if code != 1 || !strings.Contains(errOut, "certificate") || !strings.Contains(errOut, "NOT recorded") {
		t.Errorf("-redis-tls with a private CA: exit %d, stderr %q; want 1, a certificate error, NOT recorded", code, errOut)
	}
	if _, ok := e.pool.SignedOutAt(u.Sub); !ok {
		t.Error("Cognito was not called when Redis refused the connection")
	}

	code, out, errOut := runCLI(t, args("signout", "-redis-ca", caFile, "alice")...)
	if code != 0 {
		t.Fatalf("signout -redis-ca: exit %d, stderr %q", code, errOut)
	}
	at := field(out, "signed_out_at")
	code, out, errOut = runCLI(t, args("status", "-redis-ca", caFile, "alice")...)
	if code != 0 || field(out, "signed_out_at") != at {
		t.Errorf("status -redis-ca: exit %d, stdout %q, stderr %q; want signed_out_at %s", code, out, errOut, at)
	}

	for _, bad := range []string{filepath.Join(t.TempDir(), "missing.pem"), writeFile(t, "not a certificate")} {
		code, _, errOut := runCLI(t, args("status", "-redis-ca", bad, u.Sub)...)
		if code != 1 || !strings.Contains(errOut, "-redis-ca") {
			t.Errorf("-redis-ca %s: exit %d, stderr %q; want 1 naming -redis-ca", bad, code, errOut)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f.pem")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

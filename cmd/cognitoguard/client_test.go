package main

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/awstest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

const m2mClient = "m2morders"

// m2mCLIEnv is a pool with a user client ("web") and a machine client, a
// miniredis, and a service whose Verifier accepts both. The pool's and
// the service's clocks run shift ahead of the command's.
type m2mCLIEnv struct {
	pool    *cognitotest.Pool
	redis   *miniredis.Miniredis
	store   *redisstore.Store
	service *cognitoguard.Verifier
	shift   atomic.Int64
}

func newM2MCLIEnv(t *testing.T) *m2mCLIEnv {
	t.Helper()
	awstest.Isolate(t)
	t.Setenv("REDIS_USERNAME", "")
	t.Setenv("REDIS_PASSWORD", "")
	e := &m2mCLIEnv{}
	now := func() time.Time { return time.Now().Add(time.Duration(e.shift.Load())) }
	e.pool = cognitotest.NewPool(cognitotest.Config{Now: now, ClientIDs: []string{"web"}, Clients: []cognitotest.AppClient{{ID: m2mClient,
		Secret: m2mClient + "-secret", OAuthFlows: []string{cognitotest.OAuthFlowClientCredentials}, OAuthScopes: []string{"orders/read"}}}})
	t.Cleanup(e.pool.Close)
	e.pool.AddUser(cognitotest.User{Username: "alice"})
	e.redis = miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: e.redis.Addr()})
	t.Cleanup(func() { client.Close() })
	var err error
	if e.store, err = redisstore.New(client, redisstore.Config{TrustUnverifiedEviction: true}); err != nil { // miniredis reports no eviction policy
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	if err := e.store.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.service, err = cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()},
		ClientIDs: []string{"web", m2mClient}}}, cognitoguard.Config{Revocation: e.store, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.service.Close() })
	return e
}

// clientToken is a client-credentials token of the machine client.
func (e *m2mCLIEnv) clientToken(t *testing.T) string { return e.pool.ClientToken(m2mClient) }

func (e *m2mCLIEnv) args(cmd string, extra ...string) []string {
	return append([]string{cmd, "-user-pool-id", e.pool.PoolID(), "-redis-addr", e.redis.Addr()}, extra...)
}

// TestRevokeClientCommand: revoke-client records the app client's
// revocation, without any Cognito call; with -wait-instances the running
// service rejects the client's M2M token when the command exits, and
// accepts the users of other clients and the client's later tokens;
// status -client reads the record.
func TestRevokeClientCommand(t *testing.T) {
	e := newM2MCLIEnv(t)
	e.shift.Store(int64(-time.Minute)) // tokens issued a minute ago
	old, user := e.clientToken(t), e.pool.AccessToken("alice")
	for _, tok := range []string{old, user} {
		if _, err := e.service.Verify(t.Context(), tok); err != nil {
			t.Fatalf("before: %v", err)
		}
	}
	code, out, errOut := runCLI(t, e.args("status", "-client", m2mClient)...)
	if code != 0 || field(out, "client_id") != m2mClient || field(out, "client_revoked_at") != "none" {
		t.Fatalf("status before: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, e.args("revoke-client", "-wait-instances", m2mClient)...)
	if code != 0 || field(out, "client_id") != m2mClient || field(out, "revoked_at") == "" || !strings.Contains(errOut, "rotate") {
		t.Fatalf("revoke-client: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := e.service.Verify(t.Context(), old); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("the client's M2M token right after the command: %v, want ErrRevoked", err)
	}
	if _, err := e.service.Verify(t.Context(), user); err != nil {
		t.Errorf("a user token of another client: %v", err)
	}
	e.shift.Store(int64(2 * time.Second))
	if _, err := e.service.Verify(t.Context(), e.clientToken(t)); err != nil {
		t.Errorf("the client's token issued after the revocation: %v", err)
	}
	code, out2, errOut := runCLI(t, e.args("status", "-client", m2mClient)...)
	if code != 0 || field(out2, "client_revoked_at") != field(out, "revoked_at") {
		t.Errorf("status -client: exit %d, stdout %q (want %s), stderr %q", code, out2, field(out, "revoked_at"), errOut)
	}
	if code, out, _ := runCLI(t, e.args("status", "-client", "web")...); code != 0 || field(out, "client_revoked_at") != "none" {
		t.Errorf("status -client web: exit %d, stdout %q", code, out)
	}
	if code, out, _ := runCLI(t, e.args("status", "-sub", m2mClient)...); code != 0 || field(out, "signed_out_at") != "none" {
		t.Errorf("the client revocation shows as a user sign-out of sub %s: %q", m2mClient, out)
	}
	if n := e.pool.Calls("AdminUserGlobalSignOut") + e.pool.Calls("AdminGetUser"); n != 0 {
		t.Errorf("%d Cognito calls, want none", n)
	}
}

// TestRevokeClientUsage: bad client IDs and conflicting arguments are
// usage errors (exit 2), before anything is recorded; a Redis that
// cannot be reached is an error (exit 1) saying nothing was recorded.
func TestRevokeClientUsage(t *testing.T) {
	e := newM2MCLIEnv(t)
	for _, args := range [][]string{
		e.args("revoke-client"),
		e.args("revoke-client", "a-b"),
		e.args("revoke-client", "one", "two"),
		e.args("status", "-client", "x y"),
		e.args("status", "-client", m2mClient, "-sub", "s"),
		e.args("status", "-client", m2mClient, "alice"),
	} {
		if code, _, errOut := runCLI(t, args...); code != 2 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args[1:], code, errOut)
		}
	}
	for _, k := range e.redis.Keys() {
		if strings.Contains(k, ":c{") {
			t.Errorf("usage errors recorded %s", k)
		}
	}
	down := []string{"revoke-client", "-user-pool-id", e.pool.PoolID(), "-redis-addr", "127.0.0.1:1", "-timeout", "200ms", m2mClient}
	if code, _, errOut := runCLI(t, down...); code != 1 || !strings.Contains(errOut, "NOT recorded") {
		t.Errorf("Redis down: exit %d, stderr %q; want 1 and NOT recorded", code, errOut)
	}
}

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestStatusUsernameWithoutFlags: "cognitoguard status bob" with neither
// -region nor -cognito-endpoint (the endpoint comes from the SDK's
// environment, as an operator's profile would give it) resolves bob with
// AdminGetUser in the pool's region and prints bob's sign-out. On 301ace0
// it took "bob" for a sub and printed "signed_out_at none", exit 0.
func TestStatusUsernameWithoutFlags(t *testing.T) {
	e := newCLIEnv(t)
	u := e.pool.AddUser(cognitotest.User{Username: "bob"})
	if code, _, errOut := runCLI(t, e.args("signout", "bob")...); code != 0 {
		t.Fatalf("signout: exit %d, %s", code, errOut)
	}
	want, _, _ := e.store.SignedOutAt(t.Context(), e.pool.PoolID(), u.Sub)
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", e.pool.URL())

	calls := e.pool.Calls("AdminGetUser")
	code, out, errOut := runCLI(t, "status", "-user-pool-id", e.pool.PoolID(), "-redis-addr", e.redis.Addr(), "bob")
	if code != 0 || field(out, "sub") != u.Sub || field(out, "signed_out_at") != want.UTC().Format(timeFormat) {
		t.Fatalf("status bob: exit %d, stdout %q, stderr %q; want sub %s signed out at %s",
			code, out, errOut, u.Sub, want.UTC().Format(timeFormat))
	}
	if n := e.pool.Calls("AdminGetUser") - calls; n != 1 {
		t.Errorf("AdminGetUser called %d times, want 1", n)
	}
}

// TestStatusSubFlag: -sub S reads S's record without calling Cognito (a
// federated user's sub, which AdminGetUser refuses, or no IAM access).
func TestStatusSubFlag(t *testing.T) {
	e := newCLIEnv(t)
	u := e.pool.AddUser(cognitotest.User{Username: "bob"})
	redisOnly := []string{"status", "-user-pool-id", e.pool.PoolID(), "-redis-addr", e.redis.Addr()}

	code, out, errOut := runCLI(t, append(redisOnly, "-sub", u.Sub)...)
	if code != 0 || field(out, "sub") != u.Sub || field(out, "signed_out_at") != "none" {
		t.Fatalf("before: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, e.args("signout", "bob")...); code != 0 {
		t.Fatalf("signout: exit %d, %s", code, errOut)
	}
	want, _, _ := e.store.SignedOutAt(t.Context(), e.pool.PoolID(), u.Sub)
	calls := e.pool.Calls("AdminGetUser")
	code, out, errOut = runCLI(t, append(redisOnly, "-sub", u.Sub)...)
	if code != 0 || field(out, "signed_out_at") != want.UTC().Format(timeFormat) {
		t.Fatalf("after: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := e.pool.Calls("AdminGetUser") - calls; n != 0 {
		t.Errorf("-sub called AdminGetUser %d times", n)
	}
}

// TestStatusFlagNames: -cognito-endpoint, as every other command of the
// module names it, and the old -endpoint alike.
func TestStatusFlagNames(t *testing.T) {
	e := newCLIEnv(t)
	u := e.pool.AddUser(cognitotest.User{Username: "bob"})
	for _, name := range []string{"-cognito-endpoint", "-endpoint"} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "status", "-user-pool-id", e.pool.PoolID(), "-redis-addr", e.redis.Addr(),
				name, e.pool.URL(), "bob")
			if code != 0 || field(out, "sub") != u.Sub {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}

// TestStatusRefusesNeither: an argument that can be neither a username
// (or alias) nor a sub is a usage error, and Cognito and Redis are not
// asked.
func TestStatusRefusesNeither(t *testing.T) {
	e := newCLIEnv(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"space", []string{"bob smith"}, "neither a username"},
		{"control character", []string{"bob\x00"}, "neither a username"},
		{"too long", []string{strings.Repeat("b", 129)}, "neither a username"},
		{"-sub with a space", []string{"-sub", "a b"}, "-sub"},
		{"-sub with a slash", []string{"-sub", "a/b"}, "-sub"},
		{"-sub and a user", []string{"-sub", "abc", "bob"}, "either"},
		{"empty -sub", []string{"-sub", ""}, "exactly one user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := e.pool.Calls("AdminGetUser")
			code, out, errOut := runCLI(t, e.args("status", tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tc.want)
			}
			if n := e.pool.Calls("AdminGetUser") - calls; n != 0 {
				t.Errorf("AdminGetUser called %d times", n)
			}
		})
	}
	code, _, errOut := runCLI(t, e.args("signout", "bob smith")...)
	if code != 2 || !strings.Contains(errOut, "neither a username") {
		t.Errorf("signout 'bob smith': exit %d, stderr %q", code, errOut)
	}
}

// TestStatusFloor: after Redis lost its data and a service recorded the
// data-loss floor, status shows it: every token authenticated at or
// before it is rejected, whatever the user's own record says.
func TestStatusFloor(t *testing.T) {
	e := newCLIEnv(t)
	u := e.pool.AddUser(cognitotest.User{Username: "bob"})
	code, out, errOut := runCLI(t, e.args("status", "bob")...)
	if code != 0 || strings.Contains(out, "data_loss_floor") {
		t.Fatalf("before the loss: exit %d, stdout %q, stderr %q; want no floor", code, out, errOut)
	}
	e.redis.FlushAll() // a restart without persistence, as the services see it
	deadline := time.Now().Add(20 * time.Second)
	for e.store.Stats().Floor.IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("the service recorded no floor after FLUSHALL")
		}
		time.Sleep(20 * time.Millisecond)
	}
	floor := e.store.Stats().Floor
	code, out, errOut = runCLI(t, e.args("status", "bob")...)
	if code != 0 || field(out, "sub") != u.Sub || field(out, "data_loss_floor") != floor.UTC().Format(timeFormat) {
		t.Fatalf("after the loss: exit %d, stdout %q, stderr %q; want data_loss_floor %s", code, out, errOut, floor.UTC().Format(timeFormat))
	}
}

// TestStatusRedisServer runs status against a real redis-server that a
// service uses: "status bob" without -region or -cognito-endpoint prints
// bob's sign-out; after the server restarts without persistence, the
// service restores what it knew and records a floor, and status prints
// both.
func TestStatusRedisServer(t *testing.T) {
	e := newCLIEnv(t) // the fake pool and the AWS environment
	u := e.pool.AddUser(cognitotest.User{Username: "bob"})
	addr, _ := redistest.Server(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	service, err := redisstore.New(client, redisstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { service.Close() })
	if err := service.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", e.pool.URL())
	args := func(cmd string, extra ...string) []string {
		return append([]string{cmd, "-user-pool-id", e.pool.PoolID(), "-redis-addr", addr, "-timeout", "10s"}, extra...)
	}
	code, out, errOut := runCLI(t, args("signout", "-wait-instances", "bob")...)
	if code != 0 {
		t.Fatalf("signout: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	at := field(out, "signed_out_at")
	code, out, errOut = runCLI(t, args("status", "bob")...)
	if code != 0 || field(out, "sub") != u.Sub || field(out, "signed_out_at") != at || strings.Contains(out, "data_loss_floor") {
		t.Fatalf("status bob: exit %d, stdout %q, stderr %q; want signed_out_at %s, no floor", code, out, errOut, at)
	}

	redistest.Restart(t, addr) // empty: nothing was persisted
	deadline := time.Now().Add(30 * time.Second)
	for service.Stats().Floor.IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("the service recorded no floor after the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	floor := service.Stats().Floor.UTC().Format(timeFormat)
	for { // the service restores bob's record in the background
		code, out, errOut = runCLI(t, args("status", "bob")...)
		if code == 0 && field(out, "signed_out_at") == at && field(out, "data_loss_floor") == floor {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status bob after the restart: exit %d, stdout %q, stderr %q; want signed_out_at %s, data_loss_floor %s", code, out, errOut, at, floor)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

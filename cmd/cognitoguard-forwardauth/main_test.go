package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/awstest"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
	"github.com/cognitoguard/cognitoguard/internal/wiring"
)

func TestMain(m *testing.M) {
	// go-redis's process-wide logger: silence the connection failures of
	// the tests that kill Redis.
	wiring.LogRedisTo(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func newPool(t testing.TB) *cognitotest.Pool {
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin", "staff"}, Password: "Alice-pw-1"})
	pool.AddUser(cognitotest.User{Username: "bob", Password: "Bob-pw-1"})
	return pool
}

func poolArgs(pool *cognitotest.Pool, extra ...string) []string {
	return append([]string{
		"-addr", "127.0.0.1:0",
		"-user-pool-id", pool.PoolID(),
		"-client-id", pool.ClientID(),
		"-issuer", pool.Issuer(),
		"-cognito-endpoint", pool.URL(),
	}, extra...)
}

// instance is one cognitoguard-forwardauth running in-process.
type instance struct {
	check, signout string // host:port
	stop           context.CancelFunc
	errc           chan error
	stderr         *syncbuf.Buffer
}

// start runs the command with args; with a sign-out listener it waits
// until /healthz says 200.
func start(t testing.TB, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{stop: cancel, errc: make(chan error, 1), stderr: &syncbuf.Buffer{}}
	type bound struct{ check, signout string }
	addrc := make(chan bound, 1)
	go func() {
		in.errc <- run(ctx, args, in.stderr, func(c, s string) { addrc <- bound{c, s} })
	}()
	select {
	case b := <-addrc:
		in.check, in.signout = b.check, b.signout
	case err := <-in.errc:
		cancel()
		t.Fatalf("run: %v\n%s", err, in.stderr)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("did not listen\n%s", in.stderr)
	}
	t.Cleanup(func() { in.shutdown(t) })
	if in.signout != "" {
		waitHealthy(t, in)
	}
	return in
}

func waitHealthy(t testing.TB, in *instance) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get("http://" + in.signout + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz not 200 after 10s (%v)\n%s", err, in.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shutdown cancels the context and checks that run returns nil.
func (in *instance) shutdown(t testing.TB) {
	t.Helper()
	if in.stop == nil {
		return
	}
	in.stop()
	in.stop = nil
	select {
	case err := <-in.errc:
		if err != nil {
			t.Errorf("run returned %v after cancel\n%s", err, in.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("run did not return after cancel\n%s", in.stderr)
	}
}

// checkGoroutines fails the test if goroutines started during it are still
// running when it ends (after its other cleanups, registered later, ran).
func checkGoroutines(t *testing.T) { leaktest.Check(t, http.DefaultClient.CloseIdleConnections) }

func TestParseFlags(t *testing.T) {
	pool := []string{"-user-pool-id", "eu-west-1_AbC123", "-client-id", "c1, c2"}
	o, err := parseFlags(append(pool, "-require-group", "staff,ops", "-header-sub", "X-User"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Region != "eu-west-1" || len(o.ClientIDs) != 2 || o.ClientIDs[1] != "c2" || len(o.groups) != 2 ||
		o.headers.Subject != "X-User" || o.headers.Groups != "X-Auth-Groups" || o.addr != "127.0.0.1:9091" || o.signoutAddr != "" {
		t.Errorf("options = %+v", o)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-client-id", "c"}, "-user-pool-id is required"},
		{[]string{"-user-pool-id", "eu-west-1_AbC123"}, "-client-id is required"},
		{append(pool, "-token-use", "refresh"), "-token-use"},
		{append(pool, "-redis-master", "m"), "need -redis-addr"},
		{append(pool, "-wait-instances"), "need -redis-addr"},
		{append(pool, "-redis-ca", "ca.pem"), "need -redis-addr"},
		{append(pool, "-redis-addr", "h:1", "-wait-replicas", "-1"), "must not be negative"},
		{[]string{"-user-pool-id", "nounderscore", "-client-id", "c"}, "-region is required"},
		{append(pool, "extra"), "unexpected arguments"},
		{append(pool, "-max-identity-bytes", "0"), "must be positive"},
	} {
		if _, err := parseFlags(tt.args, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseFlags(%q) = %v, want %q", tt.args, err, tt.want)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestRunRefusesBadHeaderName(t *testing.T) {
	pool := newPool(t)
	err := run(t.Context(), poolArgs(pool, "-header-groups", "X Groups"), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "not a token") {
		t.Errorf("run = %v", err)
	}
}

// TestCheckListenerAnswersEveryPath: the check listener has no route of
// its own, not even /healthz or /logout, which a client's path through
// Envoy could otherwise reach.
func TestCheckListenerAnswersEveryPath(t *testing.T) {
	checkGoroutines(t)
	awstest.Isolate(t)
	pool := newPool(t)
	in := start(t, poolArgs(pool, "-signout-addr", "127.0.0.1:0")...)
	tok := pool.AccessToken("alice")
	for _, path := range []string{"/healthz", "/logout", "/admin/users/bob/signout", "/check/anything"} {
		for _, method := range []string{"GET", "POST"} {
			req, _ := http.NewRequestWithContext(t.Context(), method, "http://"+in.check+path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s without token = %d, want 401", method, path, res.StatusCode)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			if res, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.Header.Get("X-Auth-Username") != "alice" {
				t.Errorf("%s %s = %d %q, want 200 alice", method, path, res.StatusCode, res.Header.Get("X-Auth-Username"))
			}
		}
	}
	// alice was not signed out by POST /logout on the check listener.
	alice, _ := pool.User("alice")
	if _, ok := pool.SignedOutAt(alice.Sub); ok {
		t.Error("a check signed a user out")
	}
}

// post sends POST url with a bearer token (if any) and returns the status.
func post(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// checkStatus asks the check listener about token.
func checkStatus(t *testing.T, in *instance, token string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+in.check+"/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestSignOutRoutes(t *testing.T) {
	checkGoroutines(t)
	awstest.Isolate(t)
	pool := newPool(t)
	pool.AddUser(cognitotest.User{Username: "carol"})
	pool.AddUser(cognitotest.User{Username: "dave"})
	in := start(t, poolArgs(pool, "-signout-addr", "127.0.0.1:0", "-admin-group", "staff")...)
	base := "http://" + in.signout
	alice, bob, carol, dave := pool.AccessToken("alice"), pool.AccessToken("bob"), pool.AccessToken("carol"), pool.AccessToken("dave")

	for _, tt := range []struct {
		name, path, token string
		want              int
	}{
		{"admin route without token", "/admin/users/bob/signout", "", 401},
		{"admin route, caller not in -admin-group", "/admin/users/carol/signout", bob, 403},
		{"admin route, no such user", "/admin/users/nobody/signout", alice, 404},
		{"admin route", "/admin/users/bob/signout", alice, 204},
		{"logout without token", "/logout", "", 401},
		{"logout", "/logout", carol, 204},
	} {
		if got := post(t, base+tt.path, tt.token); got != tt.want {
			t.Errorf("%s: POST %s = %d, want %d", tt.name, tt.path, got, tt.want)
		}
	}
	// The signed-out users are refused by the check, the others are not.
	for _, tt := range []struct {
		user, token string
		want        int
	}{{"bob", bob, 401}, {"carol", carol, 401}, {"alice", alice, 200}, {"dave", dave, 200}} {
		if got := checkStatus(t, in, tt.token); got != tt.want {
			t.Errorf("check of %s after the sign-outs = %d, want %d", tt.user, got, tt.want)
		}
	}
	bobUser, _ := pool.User("bob")
	if _, ok := pool.SignedOutAt(bobUser.Sub); !ok {
		t.Error("Cognito did not sign bob out")
	}
}

func TestRequireAndHeaderFlags(t *testing.T) {
	pool := newPool(t)
	in := start(t, poolArgs(pool, "-require-group", "ops,staff", "-require-scope", "orders/read", "-header-sub", "X-User-Id", "-realm", "shop")...)
	for _, tt := range []struct {
		name, token string
		want        int
	}{
		{"group and scope", pool.AccessToken("alice", cognitotest.WithScopes("orders/read")), 200},
		{"scope missing", pool.AccessToken("alice"), 403},
		{"group missing", pool.AccessToken("bob", cognitotest.WithScopes("orders/read")), 403},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+in.check+"/", nil)
		req.Header.Set("Authorization", "Bearer "+tt.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, res.StatusCode, tt.want)
		}
		if res.StatusCode == 200 && res.Header.Get("X-User-Id") == "" {
			t.Errorf("%s: no X-User-Id", tt.name)
		}
		if res.StatusCode == 403 && !strings.Contains(res.Header.Get("WWW-Authenticate"), `realm="shop"`) {
			t.Errorf("%s: WWW-Authenticate %q", tt.name, res.Header.Get("WWW-Authenticate"))
		}
	}
}

func TestCookieFlag(t *testing.T) {
	pool := newPool(t)
	in := start(t, poolArgs(pool, "-cookie", "__Host-access")...)
	for _, tt := range []struct {
		name, cookie string
		want         int
	}{
		{"token in the cookie", pool.AccessToken("bob"), 200},
		{"garbage in the cookie", "x.y.z", 401},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+in.check+"/", nil)
		req.AddCookie(&http.Cookie{Name: "__Host-access", Value: tt.cookie})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want || (tt.want == 200 && res.Header.Get("X-Auth-Username") != "bob") {
			t.Errorf("%s: %d %q, want %d", tt.name, res.StatusCode, res.Header.Get("X-Auth-Username"), tt.want)
		}
	}
}

// TestRedisServerTLS: the check reaches a Redis that speaks only TLS, with
// a certificate of a private CA trusted through -redis-ca (as
// ElastiCache's in-transit encryption needs); a sign-out is recorded there
// and refused by the check. Without the CA the certificate is refused.
func TestRedisServerTLS(t *testing.T) {
	awstest.Isolate(t)
	pool := newPool(t)
	addr, caFile := redistest.TLSServer(t)
	untrusted := start(t, poolArgs(pool, "-redis-addr", addr, "-redis-tls")...)
	if got := checkStatus(t, untrusted, pool.AccessToken("bob")); got != 503 {
		t.Errorf("check through -redis-tls without the private CA = %d, want 503 (fail closed)", got)
	}
	in := start(t, poolArgs(pool, "-redis-addr", addr, "-redis-ca", caFile, "-signout-addr", "127.0.0.1:0")...)
	tok := pool.AccessToken("alice")
	if got := checkStatus(t, in, tok); got != 200 {
		t.Fatalf("check before the sign-out = %d, want 200", got)
	}
	if got := post(t, "http://"+in.signout+"/logout", tok); got != 204 {
		t.Fatalf("POST /logout = %d, want 204", got)
	}
	if got := checkStatus(t, in, tok); got != 401 {
		t.Errorf("check after the sign-out = %d, want 401", got)
	}
}

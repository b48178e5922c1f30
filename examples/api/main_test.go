package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/awstest"

	"github.com/cognitoguard/cognitoguard/internal/syncbuf"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
)

func TestMain(m *testing.M) {
	// go-redis's process-wide logger (set by main to JSON on stderr):
	// silence its connection-failure lines in the tests that kill Redis.
	logRedisTo(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func newPool(t *testing.T) *cognitotest.Pool {
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Groups: []string{"admin"}, Password: "Alice-pw-1"})
	pool.AddUser(cognitotest.User{Username: "bob", Password: "Bob-pw-1"})
	return pool
}

func poolArgs(pool *cognitotest.Pool, extra ...string) []string {
	return append([]string{
		"-addr", "127.0.0.1:0",
		"-user-pool-id", pool.PoolID(),
		"-client-id", "other-client," + pool.ClientID(),
		"-issuer", pool.Issuer(),
		"-cognito-endpoint", pool.URL(),
	}, extra...)
}

// instance is one api running in-process.
type instance struct {
	url    string
	stop   context.CancelFunc
	errc   chan error
	stderr *syncbuf.Buffer
}

// start runs the api with args and waits until /healthz says 200.
func start(t *testing.T, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	in := &instance{stop: cancel, errc: make(chan error, 1), stderr: &syncbuf.Buffer{}}
	addrc := make(chan string, 1)
	go func() {
		in.errc <- run(ctx, args, io.Discard, in.stderr, func(addr string) { addrc <- addr })
	}()
	select {
	case addr := <-addrc:
		in.url = "http://" + addr
	case err := <-in.errc:
		cancel()
		t.Fatalf("run: %v\n%s", err, in.stderr)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("api did not listen\n%s", in.stderr)
	}
	t.Cleanup(func() { in.shutdown(t) })
	waitHealthy(t, in)
	return in
}

func waitHealthy(t *testing.T, in *instance) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := do(t, in, "GET", "/healthz", "")
		if res.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz = %d after 10s\n%s", res.status, in.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shutdown cancels the api's context and checks that run returns nil.
func (in *instance) shutdown(t *testing.T) {
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

type response struct {
	status int
	header http.Header
	body   string
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}

func do(t *testing.T, in *instance, method, path, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, in.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(b)}
}

func expect(t *testing.T, in *instance, method, path, token string, want int) response {
	t.Helper()
	res := do(t, in, method, path, token)
	if res.status != want {
		t.Fatalf("%s %s = %d %s, want %d\nlog:\n%s", method, path, res.status, res.body, want, in.stderr)
	}
	return res
}

// expectRevoked asserts that in rejects token as revoked. Another instance
// than the one that recorded the sign-out learns of it by pub/sub, within
// the store's Staleness bound (1 s by default; a few ms in practice): the
// check is retried until then. (That the recording instance rejects at
// once is asserted by the revocation tests and TestSoak.)
func expectRevoked(t *testing.T, in *instance, token string) {
	t.Helper()
	expectRevokedAs(t, in, token, "Access Token has been revoked")
}

// expectRevokedAs is expectRevoked with the description Cognito gives the
// token's use ("Token has been revoked" for an ID token).
func expectRevokedAs(t *testing.T, in *instance, token, desc string) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for do(t, in, "GET", "/me", token).status == http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	res := expect(t, in, "GET", "/me", token, http.StatusUnauthorized)
	if got := res.header.Get("WWW-Authenticate"); !strings.Contains(got, `error_description="`+desc+`"`) {
		t.Errorf("WWW-Authenticate = %q, want the revoked description", got)
	}
}

// scenario runs the contract of the routes against instances a and b,
// which share a store (a == b for the embedded store).
func scenario(t *testing.T, pool *cognitotest.Pool, a, b *instance) {
	alice := pool.SignIn("alice")
	bob := pool.SignIn("bob")

	// /me with the verified claims.
	res := expect(t, a, "GET", "/me", alice.AccessToken, http.StatusOK)
	var me struct {
		Sub, Username, TokenUse, ClientID string
		Groups, Scopes                    []string
	}
	dec := json.NewDecoder(strings.NewReader(res.body))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("/me body %q: %v", res.body, err)
	}
	for _, k := range []string{"sub", "username", "token_use", "groups", "client_id", "scopes"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("/me lacks %q: %s", k, res.body)
		}
	}
	json.Unmarshal(raw["sub"], &me.Sub)
	json.Unmarshal(raw["username"], &me.Username)
	json.Unmarshal(raw["token_use"], &me.TokenUse)
	json.Unmarshal(raw["client_id"], &me.ClientID)
	json.Unmarshal(raw["groups"], &me.Groups)
	json.Unmarshal(raw["scopes"], &me.Scopes)
	u, _ := pool.User("alice")
	if me.Sub != u.Sub || me.Username != "alice" || me.TokenUse != "access" || me.ClientID != pool.ClientID() ||
		fmt.Sprint(me.Groups) != "[admin]" || fmt.Sprint(me.Scopes) != "["+cognitotest.DefaultScope+"]" {
		t.Errorf("/me = %+v", me)
	}
	if res.header.Get("Content-Type") != "application/json" {
		t.Errorf("/me Content-Type = %q", res.header.Get("Content-Type"))
	}
	expect(t, b, "GET", "/me", alice.AccessToken, http.StatusOK)

	// No token: 401 with a challenge; a bad token: invalid_token.
	res = expect(t, a, "GET", "/me", "", http.StatusUnauthorized)
	if got := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer realm=") {
		t.Errorf("no token: WWW-Authenticate = %q", got)
	}
	res = expect(t, a, "GET", "/me", alice.AccessToken[:len(alice.AccessToken)-4]+"AAAA", http.StatusUnauthorized)
	if got := res.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("bad signature: WWW-Authenticate = %q", got)
	}
	// The default token use is access: an ID token is refused.
	expect(t, a, "GET", "/me", alice.IDToken, http.StatusUnauthorized)
	// Healthz needs no token; the other routes do.
	expect(t, a, "POST", "/admin/users/bob/signout", "", http.StatusUnauthorized)
	expect(t, a, "POST", "/logout", "", http.StatusUnauthorized)
	expect(t, a, "GET", "/logout", alice.AccessToken, http.StatusMethodNotAllowed)

	// Admin route: bob is not an admin.
	res = expect(t, a, "POST", "/admin/users/alice/signout", bob.AccessToken, http.StatusForbidden)
	if got := res.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="insufficient_scope"`) {
		t.Errorf("403: WWW-Authenticate = %q", got)
	}
	expect(t, b, "GET", "/me", alice.AccessToken, http.StatusOK) // nobody was signed out
	// An unknown user: 404, nothing recorded.
	expect(t, a, "POST", "/admin/users/nobody/signout", alice.AccessToken, http.StatusNotFound)
	// Cognito refuses: 502 (the record is kept).
	pool.FailNext("AdminUserGlobalSignOut", "NotAuthorizedException", 400, 1)
	expect(t, a, "POST", "/admin/users/bob/signout", alice.AccessToken, http.StatusBadGateway)
	expectRevoked(t, b, bob.AccessToken)
	// Retried: 204; bob's tokens are rejected on both instances.
	bob = pool.SignIn("bob") // a new session, signed out by the retry too
	expect(t, a, "POST", "/admin/users/bob/signout", alice.AccessToken, http.StatusNoContent)
	if u, _ := pool.User("bob"); !signedOut(pool, u.Sub) {
		t.Error("Cognito did not see bob's sign-out")
	}
	expectRevoked(t, a, bob.AccessToken)
	expectRevoked(t, b, bob.AccessToken)
	expect(t, a, "GET", "/me", alice.AccessToken, http.StatusOK) // the admin is untouched
	// A federated user, named by the username Cognito gave it: 204 and
	// signed out in Cognito too (on 6ce98be: 404, refresh tokens alive).
	fed := pool.AddUser(cognitotest.User{Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "104752981234567890123"}})
	fedTokens := pool.SignIn(fed.Username)
	expect(t, a, "POST", "/admin/users/"+fed.Username+"/signout", alice.AccessToken, http.StatusNoContent)
	if !signedOut(pool, fed.Sub) {
		t.Error("Cognito did not see the federated user's sign-out")
	}
	expectRevoked(t, b, fedTokens.AccessToken)

	// Alice logs out on a: her token is rejected on a and b.
	expect(t, a, "POST", "/logout", alice.AccessToken, http.StatusNoContent)
	expectRevoked(t, a, alice.AccessToken)
	expectRevoked(t, b, alice.AccessToken)
	// A retried logout (double click) still answers 204.
	expect(t, b, "POST", "/logout", alice.AccessToken, http.StatusNoContent)
	// A forged token signs nobody out.
	expect(t, a, "POST", "/logout", pool.AccessToken("bob", cognitotest.WithSigningKey(pool.IDSigningKey())), http.StatusUnauthorized)
}

func signedOut(pool *cognitotest.Pool, sub string) bool {
	_, ok := pool.SignedOutAt(sub)
	return ok
}

func TestAPIEmbedded(t *testing.T) {
	awstest.Isolate(t)
	checkGoroutines(t)
	pool := newPool(t)
	a := start(t, poolArgs(pool)...)
	scenario(t, pool, a, a)
	a.shutdown(t)
	if !strings.Contains(a.stderr.String(), `"store":"memory"`) {
		t.Errorf("log does not name the memory store:\n%s", a.stderr)
	}
}

// TestAPIRedisServer runs two instances sharing a real redis-server.
func TestAPIRedisServer(t *testing.T) {
	awstest.Isolate(t)
	addr, proc := redistest.Server(t)
	checkGoroutines(t)
	pool := newPool(t)
	a := start(t, poolArgs(pool, "-redis-addr", addr)...)
	b := start(t, poolArgs(pool, "-redis-addr", addr)...)
	scenario(t, pool, a, b)

	// Redis down: fail closed (503 with Retry-After), healthz 503; back up:
	// 200 again.
	carol := pool.SignIn("bob").AccessToken
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := do(t, a, "GET", "/me", carol)
		if res.status == http.StatusServiceUnavailable {
			if res.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/me with Redis down = %d, want 503", res.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	expect(t, a, "GET", "/healthz", "", http.StatusServiceUnavailable)
	redistest.Restart(t, addr)
	waitHealthy(t, a)
	waitHealthy(t, b)
	// The new server is empty: the stores detected the data loss and reject
	// every token authenticated before it; a later sign-in passes.
	expect(t, b, "GET", "/me", carol, http.StatusUnauthorized)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	expect(t, b, "GET", "/me", pool.SignIn("bob").AccessToken, http.StatusOK)
	a.shutdown(t)
	b.shutdown(t)
}

// TestAPIRedisServerCluster runs two instances sharing a real Redis
// Cluster of three masters (comma-separated -redis-addr).
func TestAPIRedisServerCluster(t *testing.T) {
	awstest.Isolate(t)
	addrs := redistest.Cluster(t)
	checkGoroutines(t)
	pool := newPool(t)
	a := start(t, poolArgs(pool, "-redis-addr", strings.Join(addrs, ","))...)
	b := start(t, poolArgs(pool, "-redis-addr", addrs[2]+","+addrs[0])...)
	scenario(t, pool, a, b)
	a.shutdown(t)
	b.shutdown(t)
	if !strings.Contains(a.stderr.String(), `"store":"redis cluster `) {
		t.Errorf("log does not name the cluster store:\n%s", a.stderr)
	}
}

// TestAPIRedisServerSentinel runs two instances on a Sentinel-watched master
// (-redis-addr lists the Sentinel, -redis-master names the master).
func TestAPIRedisServerSentinel(t *testing.T) {
	awstest.Isolate(t)
	master, _ := redistest.Server(t)
	sentinel := redistest.Sentinel(t, master, "m", 0)
	checkGoroutines(t)
	pool := newPool(t)
	args := poolArgs(pool, "-redis-addr", sentinel, "-redis-master", "m")
	a, b := start(t, args...), start(t, args...)
	scenario(t, pool, a, b)
	a.shutdown(t)
	b.shutdown(t)
	if !strings.Contains(a.stderr.String(), `"store":"redis sentinel m via `) {
		t.Errorf("log does not name the Sentinel store:\n%s", a.stderr)
	}
	// The records went to the master the Sentinel names.
	if n, err := redistest.Do(master, "DBSIZE"); err != nil || n == "0" {
		t.Errorf("master DBSIZE = %q, %v; want the sign-out records", n, err)
	}
}

// TestAPIRedisServerWaitFlags: with -wait-instances a logout at A has reached B when
// it answers (each check is made once, right after); -wait-replicas 1 on a
// master without replicas turns a logout into 503 (recorded, unconfirmed).
func TestAPIRedisServerWaitFlags(t *testing.T) {
	awstest.Isolate(t)
	addr, _ := redistest.Server(t)
	checkGoroutines(t)
	pool := newPool(t)
	a := start(t, poolArgs(pool, "-redis-addr", addr, "-wait-instances")...)
	b := start(t, poolArgs(pool, "-redis-addr", addr)...)
	for i := range 30 {
		name := fmt.Sprintf("user%d", i)
		pool.AddUser(cognitotest.User{Username: name})
		tok := pool.SignIn(name).AccessToken
		expect(t, b, "GET", "/me", tok, http.StatusOK) // B has seen the user
		expect(t, a, "POST", "/logout", tok, http.StatusNoContent)
		res := expect(t, b, "GET", "/me", tok, http.StatusUnauthorized) // at once, no retry
		if got := res.header.Get("WWW-Authenticate"); !strings.Contains(got, "revoked") {
			t.Errorf("%s: WWW-Authenticate = %q, want revoked", name, got)
		}
	}

	c := start(t, poolArgs(pool, "-redis-addr", addr, "-wait-replicas", "1")...)
	tok := pool.SignIn("bob").AccessToken
	res := expect(t, c, "POST", "/logout", tok, http.StatusServiceUnavailable)
	if res.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	expect(t, b, "GET", "/me", tok, http.StatusUnauthorized) // recorded all the same
	for _, in := range []*instance{a, b, c} {
		in.shutdown(t)
	}
}

// TestAPIRedisServerUnreachable: with no Redis at -redis-addr the service
// fails closed (503 with Retry-After) and says so on /healthz, and still
// shuts down at once.
func TestAPIRedisServerUnreachable(t *testing.T) {
	awstest.Isolate(t)
	checkGoroutines(t)
	pool := newPool(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := &instance{stop: cancel, errc: make(chan error, 1), stderr: &syncbuf.Buffer{}}
	addrc := make(chan string, 1)
	go func() {
		in.errc <- run(ctx, poolArgs(pool, "-redis-addr", "127.0.0.1:1"), io.Discard, in.stderr, func(a string) { addrc <- a })
	}()
	in.url = "http://" + <-addrc
	res := expect(t, in, "GET", "/me", pool.AccessToken("alice"), http.StatusServiceUnavailable)
	if res.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	expect(t, in, "GET", "/healthz", "", http.StatusServiceUnavailable)
	expect(t, in, "POST", "/logout", pool.AccessToken("alice"), http.StatusServiceUnavailable)
	t0 := time.Now()
	in.shutdown(t)
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}

func TestAPITokenUse(t *testing.T) {
	awstest.Isolate(t)
	pool := newPool(t)
	for _, tc := range []struct {
		use        string
		access, id int
	}{
		{"access", 200, 401},
		{"id", 401, 200},
		{"any", 200, 200},
	} {
		t.Run(tc.use, func(t *testing.T) {
			in := start(t, poolArgs(pool, "-token-use", tc.use)...)
			alice := pool.SignIn("alice")
			expect(t, in, "GET", "/me", alice.AccessToken, tc.access)
			res := expect(t, in, "GET", "/me", alice.IDToken, tc.id)
			if tc.id == 200 && (!strings.Contains(res.body, `"token_use":"id"`) || !strings.Contains(res.body, `"email":"alice@example.com"`)) {
				t.Errorf("/me with the ID token = %s", res.body)
			}
			// Logout takes the access token whatever -token-use says, and
			// revokes the ID token too.
			expect(t, in, "POST", "/logout", alice.IDToken, http.StatusUnauthorized)
			expect(t, in, "POST", "/logout", alice.AccessToken, http.StatusNoContent)
			if tc.id == 200 {
				expectRevokedAs(t, in, alice.IDToken, "Token has been revoked")
			}
			if tc.access == 200 {
				expectRevoked(t, in, alice.AccessToken)
			}
			in.shutdown(t)
		})
	}
}

func TestAPIFlags(t *testing.T) {
	awstest.Isolate(t)
	ok := []string{"-addr", "127.0.0.1:0", "-user-pool-id", "eu-west-1_AbC123", "-client-id", "c1"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no pool", []string{"-client-id", "c"}, "-user-pool-id is required"},
		{"no client", []string{"-user-pool-id", "eu-west-1_AbC123"}, "-client-id is required"},
		{"empty client list", []string{"-user-pool-id", "eu-west-1_AbC123", "-client-id", " , "}, "-client-id is required"},
		{"no region", []string{"-user-pool-id", "local_abc", "-client-id", "c"}, "-region is required"},
		{"bad token use", append(ok, "-token-use", "refresh"), `-token-use "refresh"`},
		{"unknown flag", append(ok, "-verbose"), "flag provided but not defined"},
		{"extra argument", append(ok, "serve"), "unexpected arguments"},
		{"help", []string{"-h"}, flag.ErrHelp.Error()},
		{"bad issuer", append(ok, "-issuer", "not a url"), "issuer"},
		{"bad listen address", append(ok[2:], "-addr", "127.0.0.1:99999"), "listen"},
		{"negative wait replicas", append(ok, "-redis-addr", "127.0.0.1:1", "-wait-replicas", "-1"), "-wait-replicas must not be negative"},
		{"wait instances without Redis", append(ok, "-wait-instances"), "need -redis-addr"},
		{"Sentinel master without Redis", append(ok, "-redis-master", "m"), "need -redis-addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr syncbuf.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := run(ctx, tc.args, io.Discard, &stderr, func(string) { t.Error("ready called") })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
	if err := run(t.Context(), []string{"-h"}, io.Discard, io.Discard, nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

func TestAPIDefaults(t *testing.T) {
	o, err := parseFlags([]string{"-user-pool-id", "eu-west-1_AbC123", "-client-id", "a, b"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != ":8080" || o.Region != "eu-west-1" || o.Issuers != nil ||
		fmt.Sprint(o.ClientIDs) != "[a b]" || o.TokenUse != "access" || o.RedisAddrs != nil || o.Endpoint != "" {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseFlags([]string{"-user-pool-id", "eu-west-1_AbC123", "-client-id", "a", "-region", "us-east-2",
		"-redis-addr", "r1:6379,r2:6379", "-issuer", "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/, https://cognito-idp.us-east-2.amazonaws.com/eu-west-1_AbC123"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Region != "us-east-2" || fmt.Sprint(o.Issuers) != "[https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123 https://cognito-idp.us-east-2.amazonaws.com/eu-west-1_AbC123]" ||
		fmt.Sprint(o.RedisAddrs) != "[r1:6379 r2:6379]" {
		t.Errorf("overrides: %+v", o)
	}
}

// TestAPIShutdown: cancelling the context (what SIGINT/SIGTERM do) stops
// the server gracefully: a request in flight completes, new connections are
// refused, run returns nil and leaves no goroutine behind.
func TestAPIShutdown(t *testing.T) {
	awstest.Isolate(t)
	checkGoroutines(t)
	pool := newPool(t)
	in := start(t, poolArgs(pool)...)
	tok := pool.AccessToken("alice")
	expect(t, in, "GET", "/me", tok, http.StatusOK)

	// A sign-out in flight while the shutdown starts still completes.
	pool.SetAPIDelay(300 * time.Millisecond)
	resc := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("POST", in.url+"/logout", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := client.Do(req)
		if err != nil {
			resc <- response{status: -1, body: err.Error()}
			return
		}
		res.Body.Close()
		resc <- response{status: res.StatusCode}
	}()
	time.Sleep(100 * time.Millisecond)
	t0 := time.Now()
	in.shutdown(t)
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if res := <-resc; res.status != http.StatusNoContent {
		t.Errorf("logout in flight during shutdown = %d %s, want 204", res.status, res.body)
	}
	if !strings.Contains(in.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no \"stopped\" log line:\n%s", in.stderr)
	}
	if _, err := client.Get(in.url + "/healthz"); err == nil {
		t.Error("server still answers after run returned")
	}
}

func TestAPILogsJSON(t *testing.T) {
	awstest.Isolate(t)
	pool := newPool(t)
	in := start(t, poolArgs(pool)...)
	in.shutdown(t)
	for line := range strings.Lines(in.stderr.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stderr line is not JSON: %q", line)
		}
	}
}

// checkGoroutines fails the test if goroutines started during it are still
// running when it ends (after its other cleanups, registered later, ran).
func checkGoroutines(t *testing.T) { leaktest.Check(t, client.CloseIdleConnections) }

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/awstest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
)

// answer is a response through a proxy; seen is what the upstream received
// (nil when the request did not reach it).
type answer struct {
	status int
	header http.Header
	body   string
	seen   *upstreamView
}

type upstreamView struct {
	Method  string   `json:"method"`
	URL     string   `json:"url"`
	Headers []string `json:"headers"` // raw: name, value, name, value, …
}

// values returns every value the upstream received under name, matching
// case-insensitively and with '_' read as '-', as CGI-style frameworks do.
func (u *upstreamView) values(name string) []string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	var out []string
	for i := 0; i+1 < len(u.Headers); i += 2 {
		if norm(u.Headers[i]) == norm(name) {
			out = append(out, u.Headers[i+1])
		}
	}
	return out
}

// send makes one request through a proxy; hdr are extra header pairs.
func send(t *testing.T, method, url, token string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header[hdr[i]] = append(req.Header[hdr[i]], hdr[i+1]) // as written, not canonicalised
	}
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: res.StatusCode, header: res.Header, body: string(b)}
	if res.StatusCode == http.StatusOK && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		a.seen = &upstreamView{}
		if err := json.Unmarshal(b, a.seen); err != nil {
			t.Fatalf("upstream body %q: %v", b, err)
		}
	}
	return a
}

// forged are identity headers a client sends itself, in several spellings.
var forged = []string{
	"X-Auth-Sub", "forged-sub",
	"x-auth-username", "mallory",
	"X-Auth-Groups", "root",
	"X-AUTH-GROUPS", "wheel",
	"X_Auth_Groups", "root",
	"X-Auth-Scope", "admin/all",
	"X-Auth-Token-Use", "access",
}

// wantIdentity checks that the upstream saw exactly the identity of want:
// one value per header, or none at all for an empty one.
func wantIdentity(t *testing.T, a answer, want map[string]string) {
	t.Helper()
	if a.status != http.StatusOK || a.seen == nil {
		t.Fatalf("status %d, body %q: the request did not reach the upstream", a.status, a.body)
	}
	for name, v := range want {
		got := a.seen.values(name)
		if (v == "" && !(len(got) == 0 || len(got) == 1 && got[0] == "")) || (v != "" && (len(got) != 1 || got[0] != v)) {
			t.Errorf("upstream saw %s = %q, want %q", name, got, v)
		}
	}
}

// wantRefused checks a refusal that did not reach the upstream.
func wantRefused(t *testing.T, a answer, status int, challenge, retryAfter string) {
	t.Helper()
	if a.status != status || a.seen != nil {
		t.Fatalf("status %d (reached upstream: %v), want %d; body %q", a.status, a.seen != nil, status, a.body)
	}
	if got := a.header.Get("WWW-Authenticate"); !strings.Contains(got, challenge) || (challenge == "") != (got == "") {
		t.Errorf("WWW-Authenticate = %q, want %q", got, challenge)
	}
	if got := a.header.Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After = %q, want %q", got, retryAfter)
	}
}

// waitStatus repeats the request until it gets status (bounded: 10 s).
func waitStatus(t *testing.T, method, url, token string, status int) answer {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := send(t, method, url, token)
		if a.status == status || time.Now().After(deadline) {
			return a
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkThrough sends valid, forged, missing, bad, expired and
// unforwardable tokens through the proxy at url.
func checkThrough(t *testing.T, url string, pool *cognitotest.Pool) {
	alice, _ := pool.User("alice")
	bob, _ := pool.User("bob")
	t.Run("valid token: the upstream sees the identity, not the forged headers", func(t *testing.T) {
		r := send(t, "POST", url+"/orders/42?x=1", pool.AccessToken("alice", cognitotest.WithScopes("openid", "orders/read")), forged...)
		wantIdentity(t, r, map[string]string{"X-Auth-Sub": alice.Sub, "X-Auth-Username": "alice",
			"X-Auth-Groups": "admin staff", "X-Auth-Scope": "openid orders/read", "X-Auth-Token-Use": "access"})
		if r.seen.Method != "POST" || r.seen.URL != "/orders/42?x=1" {
			t.Errorf("upstream saw %s %s", r.seen.Method, r.seen.URL)
		}
	})
	t.Run("user without groups: forged groups do not reach the upstream", func(t *testing.T) {
		r := send(t, "GET", url+"/", pool.AccessToken("bob", cognitotest.WithScopes()), forged...)
		wantIdentity(t, r, map[string]string{"X-Auth-Sub": bob.Sub, "X-Auth-Username": "bob",
			"X-Auth-Groups": "", "X-Auth-Scope": "", "X-Auth-Token-Use": "access"})
	})
	t.Run("no token: 401", func(t *testing.T) {
		wantRefused(t, send(t, "GET", url+"/", "", forged...), 401, `Bearer realm="api"`, "")
	})
	t.Run("bad token: 401", func(t *testing.T) {
		wantRefused(t, send(t, "GET", url+"/", "eyJ.bad.token"), 401, `error="invalid_token"`, "")
	})
	t.Run("expired token: 401", func(t *testing.T) {
		tok := pool.AccessToken("alice", cognitotest.WithExpiry(time.Now().Add(-time.Minute)))
		wantRefused(t, send(t, "GET", url+"/", tok), 401, `error_description="The access token expired"`, "")
	})
	t.Run("unforwardable group: 403", func(t *testing.T) {
		tok := pool.AccessToken("alice", cognitotest.WithGroups("a b"))
		wantRefused(t, send(t, "GET", url+"/", tok), 403, `error="insufficient_scope"`, "")
	})
}

// TestRedisServerProxies drives two cognitoguard-forwardauth instances
// sharing a real redis-server, one behind real nginx, one behind real
// Caddy, both in front of a node upstream, with the documented
// configurations.
func TestRedisServerProxies(t *testing.T) {
	checkGoroutines(t)
	awstest.Isolate(t)
	pool := newPool(t)
	redisAddr, redisProc := redistest.Server(t)
	upstream := startUpstream(t)
	args := poolArgs(pool, "-redis-addr", redisAddr, "-signout-addr", "127.0.0.1:0")
	a, b := start(t, args...), start(t, args...)
	proxies := []struct{ name, url string }{
		{"nginx", startNginx(t, addrs{a.check, a.signout, upstream}, "", "")},
		{"caddy", startCaddy(t, addrs{b.check, b.signout, upstream})},
	}
	pool.AddUser(cognitotest.User{Username: "carol"}) // never signed out

	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) { checkThrough(t, p.url, pool) })
	}

	// A sign-out through one proxy is honoured through the other at once.
	for i, p := range proxies {
		other := proxies[1-i]
		user := []string{"alice", "bob"}[i]
		t.Run("signed out through "+p.name+", rejected through "+other.name, func(t *testing.T) {
			tok := pool.AccessToken(user)
			wantIdentity(t, send(t, "GET", other.url+"/", tok), map[string]string{"X-Auth-Username": user})
			if r := send(t, "POST", p.url+"/logout", tok); r.status != http.StatusNoContent {
				t.Fatalf("logout through %s = %d %q", p.name, r.status, r.body)
			}
			r := waitStatus(t, "GET", other.url+"/", tok, 401)
			wantRefused(t, r, 401, `error_description="Access Token has been revoked"`, "")
			wantRefused(t, send(t, "GET", p.url+"/", tok), 401, `error_description="Access Token has been revoked"`, "")
		})
	}

	t.Run("store down: 503 with Retry-After", func(t *testing.T) {
		if err := redisProc.Kill(); err != nil {
			t.Fatal(err)
		}
		tok := pool.AccessToken("carol")
		for _, p := range proxies {
			wantRefused(t, waitStatus(t, "GET", p.url+"/", tok, 503), 503, "", "1")
		}
	})

	t.Run("forward auth unreachable: 503 with Retry-After", func(t *testing.T) {
		a.shutdown(t)
		b.shutdown(t)
		for _, p := range proxies {
			wantRefused(t, send(t, "GET", p.url+"/", pool.AccessToken("carol")), 503, "", "1")
		}
	})
}

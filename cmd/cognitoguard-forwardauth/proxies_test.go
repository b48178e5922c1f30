package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
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
// as CGI-style frameworks do: case-insensitively, and with every byte
// outside [A-Za-z0-9-] read as '-' (PHP folds '.', ' ' and '_' alike).
func (u *upstreamView) values(name string) []string {
	var out []string
	for i := 0; i+1 < len(u.Headers); i += 2 {
		if cgiName(u.Headers[i]) == cgiName(name) {
			out = append(out, u.Headers[i+1])
		}
	}
	return out
}

// oddNames returns the header names the upstream received with a byte
// outside [A-Za-z0-9-].
func (u *upstreamView) oddNames() []string {
	var out []string
	for i := 0; i < len(u.Headers); i += 2 {
		if strings.Trim(u.Headers[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			out = append(out, u.Headers[i])
		}
	}
	return out
}

// cgiName folds a header name as a CGI-style upstream could.
func cgiName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

// send makes one HTTP/1.1 request through a proxy, written byte by byte so
// that hdr (extra name, value pairs) reaches it as written: in that order,
// not canonicalised, even with names Go's client refuses (a space).
func send(t *testing.T, method, url, token string, hdr ...string) answer {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, u.RequestURI(), u.Host)
	if method == "POST" {
		b.WriteString("Content-Length: 0\r\n")
	}
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	b.WriteString("\r\n")
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(t.Context(), "tcp", u.Host)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: res.StatusCode, header: res.Header, body: string(body)}
	if res.StatusCode == http.StatusOK && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		a.seen = &upstreamView{}
		if err := json.Unmarshal(body, a.seen); err != nil {
			t.Fatalf("upstream body %q: %v", body, err)
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
	"x-AuTh-SuB", "forged-sub-2",
	"X-AUTH-TOKEN-USE", "id",
	"X-Auth.Sub", "forged-sub-3",
	"X-Auth.Groups", "root",
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
	if odd := a.seen.oddNames(); len(odd) > 0 {
		t.Errorf("upstream saw headers named outside [A-Za-z0-9-]: %q", odd)
	}
}

// wantNotForged checks that a request with forged identity headers either
// was refused by the proxy as malformed (400) or reached the upstream
// with exactly the identity of want.
func wantNotForged(t *testing.T, a answer, want map[string]string) {
	t.Helper()
	if a.status == http.StatusBadRequest && a.seen == nil {
		return
	}
	wantIdentity(t, a, want)
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

// forgeryThrough sends, as alice (in groups) and bob (in none), identity
// headers spelled with each odd byte (X-Auth.Sub, X_Auth_Groups,
// X-Auth Scope, …), repeat times each, and checks that the upstream saw
// only the check's identity.
func forgeryThrough(t *testing.T, url string, pool *cognitotest.Pool, repeat int) {
	for _, user := range []string{"alice", "bob"} {
		u, _ := pool.User(user)
		want := map[string]string{"X-Auth-Sub": u.Sub, "X-Auth-Username": user,
			"X-Auth-Groups": strings.Join(u.Groups, " "), "X-Auth-Scope": "openid", "X-Auth-Token-Use": "access"}
		tok := pool.AccessToken(user, cognitotest.WithScopes("openid"))
		for _, c := range oddSeparators {
			t.Run(fmt.Sprintf("%s forges with %q", user, c), func(t *testing.T) {
				for range repeat {
					wantNotForged(t, send(t, "GET", url+"/", tok, oddForged(c)...), want)
					if t.Failed() {
						return
					}
				}
			})
		}
	}
}

// TestProxiesCGIUpstreams: behind the shipped configurations, no spelling
// of an identity header that a client sends reaches upstreams that fold
// header names CGI-style — PHP's built-in server behind nginx and Caddy,
// php-fpm behind Caddy's php_fastcgi — where X-Auth.Sub would be read as
// X-Auth-Sub.
func TestProxiesCGIUpstreams(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx, Caddy, php and php-fpm: not with -short")
	}
	checkGoroutines(t)
	awstest.Isolate(t)
	pool := newPool(t)
	in := start(t, poolArgs(pool, "-signout-addr", "127.0.0.1:0")...)
	php := startPHPServer(t)
	fpm := startPHPFPM(t)
	proxies := []struct {
		name, url string
		repeat    int // php-fpm's order of the variables changes from request to request
	}{
		{"nginx to php -S", startNginx(t, addrs{check: in.check, signout: in.signout, upstream: php}, "", ""), 1},
		{"caddy to php -S", startCaddy(t, addrs{check: in.check, signout: in.signout, upstream: php}), 1},
		{"caddy php_fastcgi to php-fpm", startCaddy(t, addrs{check: in.check, signout: in.signout, fpm: &fpm}), 10},
	}
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			checkThrough(t, p.url, pool)
			forgeryThrough(t, p.url, pool, p.repeat)
		})
	}
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
		{"nginx", startNginx(t, addrs{check: a.check, signout: a.signout, upstream: upstream}, "", "")},
		{"caddy", startCaddy(t, addrs{check: b.check, signout: b.signout, upstream: upstream})},
	}
	pool.AddUser(cognitotest.User{Username: "carol"}) // never signed out
	pool.AddUser(cognitotest.User{Username: "dave"})  // whose sign-out Cognito fails

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

	// The route's own 502 (Cognito did not confirm) is no unreachable
	// listener: it reaches the client as the route wrote it.
	t.Run("Cognito fails the sign-out: the route's 502 passes", func(t *testing.T) {
		for _, p := range proxies {
			pool.FailNext("GlobalSignOut", "InvalidParameterException", 0, 1)
			r := send(t, "POST", p.url+"/logout", pool.AccessToken("dave"))
			if r.status != http.StatusBadGateway || !strings.Contains(r.body, "sign_out_incomplete") {
				t.Errorf("logout through %s with Cognito failing = %d %q, want the route's 502", p.name, r.status, r.body)
			}
		}
	})

	t.Run("store down: 503 with Retry-After", func(t *testing.T) {
		if err := redisProc.Kill(); err != nil {
			t.Fatal(err)
		}
		tok := pool.AccessToken("carol")
		for _, p := range proxies {
			wantRefused(t, waitStatus(t, "GET", p.url+"/", tok, 503), 503, "", "1")
		}
	})

	t.Run("forward auth unreachable: 503 with Retry-After, /logout too", func(t *testing.T) {
		a.shutdown(t)
		b.shutdown(t)
		for _, p := range proxies {
			wantRefused(t, send(t, "GET", p.url+"/", pool.AccessToken("carol")), 503, "", "1")
			wantRefused(t, send(t, "POST", p.url+"/logout", pool.AccessToken("carol")), 503, "", "1")
		}
	})
}

package forwardauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/forwardauth"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// store is a revocation checker whose answer the test sets.
type store struct {
	revoked atomic.Bool
	down    atomic.Bool
}

func (s *store) Revoked(context.Context, *cognitoguard.Claims) (bool, error) {
	if s.down.Load() {
		return false, errors.New("store unreachable")
	}
	return s.revoked.Load(), nil
}

type fixture struct {
	pool  *cognitotest.Pool
	store *store
	v     *cognitoguard.Verifier
}

func newFixture(t *testing.T, use cognitoguard.TokenUse) *fixture {
	t.Helper()
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin", "staff"}})
	pool.AddUser(cognitotest.User{Username: "bob"})
	st := &store{}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{TokenUse: use, Revocation: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return &fixture{pool: pool, store: st, v: v}
}

func (f *fixture) handler(t *testing.T, cfg forwardauth.Config) http.Handler {
	t.Helper()
	h, err := forwardauth.New(f.v, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// check sends one sub-request and returns the answer.
func check(h http.Handler, method, target, auth string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var identityNames = []string{"X-Auth-Sub", "X-Auth-Username", "X-Auth-Groups", "X-Auth-Scope", "X-Auth-Token-Use"}

// identity returns the identity headers of an answer; a missing one is
// reported as "<absent>", so that "present but empty" is told apart.
func identity(h http.Header, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		v, ok := h[n]
		switch {
		case !ok:
			out[i] = "<absent>"
		case len(v) != 1:
			out[i] = "<" + strings.Join(v, "|") + ">"
		default:
			out[i] = v[0]
		}
	}
	return out
}

func TestCheckAnswers200WithEveryIdentityHeader(t *testing.T) {
	f := newFixture(t, cognitoguard.TokenUseAny)
	h := f.handler(t, forwardauth.Config{})
	alice, _ := f.pool.User("alice")
	bob, _ := f.pool.User("bob")
	tests := []struct {
		name, method, target, token string
		want                        []string
	}{
		{"access token with groups and scopes", "GET", "/", f.pool.AccessToken("alice", cognitotest.WithScopes("openid", "orders/read")),
			[]string{alice.Sub, "alice", "admin staff", "openid orders/read", "access"}},
		{"no groups: empty, present", "GET", "/", f.pool.AccessToken("bob", cognitotest.WithScopes("openid")),
			[]string{bob.Sub, "bob", "", "openid", "access"}},
		{"ID token: no scope", "GET", "/", f.pool.IDToken("bob"),
			[]string{bob.Sub, "bob", "", "", "id"}},
		{"Envoy-prefixed path, POST", "POST", "/check/orders/42?x=1", f.pool.AccessToken("bob", cognitotest.WithScopes("openid")),
			[]string{bob.Sub, "bob", "", "openid", "access"}},
		{"HEAD", "HEAD", "/anything", f.pool.AccessToken("bob", cognitotest.WithScopes("openid")),
			[]string{bob.Sub, "bob", "", "openid", "access"}},
		{"DELETE", "DELETE", "/x", f.pool.AccessToken("bob", cognitotest.WithScopes("openid")),
			[]string{bob.Sub, "bob", "", "openid", "access"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Identity headers the client sent are not echoed back.
			rec := check(h, tt.method, tt.target, "Bearer "+tt.token, "X-Auth-Sub", "forged", "X-Auth-Groups", "admin")
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, body %q", rec.Code, rec.Body)
			}
			if got := identity(rec.Header(), identityNames); !slices.Equal(got, tt.want) {
				t.Errorf("identity headers = %q, want %q", got, tt.want)
			}
			if rec.Body.Len() != 0 || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("body %q, Cache-Control %q", rec.Body, rec.Header().Get("Cache-Control"))
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	f := newFixture(t, cognitoguard.TokenUseAccess)
	h := f.handler(t, forwardauth.Config{Auth: middleware.Config{Realm: "shop", RetryAfter: 3 * time.Second}})
	valid := "Bearer " + f.pool.AccessToken("alice")
	tests := []struct {
		name       string
		auth       string
		setup      func()
		status     int
		challenge  string
		retryAfter string
	}{
		{"no token", "", nil, 401, `Bearer realm="shop"`, ""},
		{"Basic", "Basic YWxpY2U6cHc=", nil, 401, `Bearer realm="shop"`, ""},
		{"garbage", "Bearer abc.def.ghi", nil, 401, `error="invalid_token"`, ""},
		{"expired", "Bearer " + f.pool.AccessToken("alice", cognitotest.WithExpiry(time.Now().Add(-time.Minute))), nil,
			401, `error_description="The access token expired"`, ""},
		{"ID token where access is required", "Bearer " + f.pool.IDToken("alice"), nil, 401, `error="invalid_token"`, ""},
		{"revoked", valid, func() { f.store.revoked.Store(true) }, 401, `error_description="Access Token has been revoked"`, ""},
		{"store down", valid, func() { f.store.down.Store(true) }, 503, "", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.store.revoked.Store(false)
			f.store.down.Store(false)
			if tt.setup != nil {
				tt.setup()
			}
			rec := check(h, "GET", "/", tt.auth)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) || (tt.challenge == "") != (got == "") {
				t.Errorf("WWW-Authenticate = %q, want it to contain %q", got, tt.challenge)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			for _, n := range identityNames {
				if _, ok := rec.Header()[n]; ok {
					t.Errorf("refusal carries identity header %s", n)
				}
			}
		})
	}
}

func TestCheckRequiredScopesAndGroups(t *testing.T) {
	f := newFixture(t, cognitoguard.TokenUseAccess)
	h := f.handler(t, forwardauth.Config{RequiredScopes: []string{"orders/read"}, RequiredGroups: []string{"staff", "ops"}})
	tests := []struct {
		name      string
		token     string
		status    int
		challenge string
	}{
		{"scope and group", f.pool.AccessToken("alice", cognitotest.WithScopes("orders/read")), 200, ""},
		{"no scope", f.pool.AccessToken("alice"), 403, `scope="orders/read"`},
		{"no group", f.pool.AccessToken("bob", cognitotest.WithScopes("orders/read")), 403, `error="insufficient_scope"`},
		{"invalid beats missing scope", "x.y.z", 401, `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := check(h, "GET", "/", "Bearer "+tt.token)
			if rec.Code != tt.status || !strings.Contains(rec.Header().Get("WWW-Authenticate"), tt.challenge) {
				t.Errorf("answer %d %q, want %d with %q", rec.Code, rec.Header().Get("WWW-Authenticate"), tt.status, tt.challenge)
			}
		})
	}
}

func TestCheckRefusesUnforwardableClaims(t *testing.T) {
	f := newFixture(t, cognitoguard.TokenUseAccess)
	var got error
	h := f.handler(t, forwardauth.Config{Auth: middleware.Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		middleware.WriteError(w, r, err, "")
	}}})
	tests := []struct {
		name string
		opt  cognitotest.TokenOption
	}{
		{"space in a group", cognitotest.WithGroups("admin", "a b")},
		{"empty group", cognitotest.WithGroups("")},
		{"newline in username", cognitotest.WithClaims(map[string]any{"username": "alice\r\nX-Auth-Groups: admin"})},
		{"tab in username", cognitotest.WithClaims(map[string]any{"username": "a\tb"})},
		{"trailing space in username", cognitotest.WithClaims(map[string]any{"username": "alice "})},
		{"DEL in a scope", cognitotest.WithClaims(map[string]any{"scope": "a\x7fb"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			rec := check(h, "GET", "/", "Bearer "+f.pool.AccessToken("alice", tt.opt))
			if rec.Code != http.StatusForbidden || !errors.Is(got, forwardauth.ErrHeaderValue) || !errors.Is(got, cognitoguard.ErrInsufficientScope) {
				t.Errorf("status %d, error %v; want 403 and ErrHeaderValue", rec.Code, got)
			}
		})
	}
	// UTF-8 passes as is.
	rec := check(h, "GET", "/", "Bearer "+f.pool.AccessToken("alice", cognitotest.WithGroups("équipe", "管理")))
	if rec.Code != 200 || rec.Header().Get("X-Auth-Groups") != "équipe 管理" {
		t.Errorf("UTF-8 groups: %d %q", rec.Code, rec.Header().Get("X-Auth-Groups"))
	}
}

func TestCustomHeaderNames(t *testing.T) {
	f := newFixture(t, cognitoguard.TokenUseAccess)
	h := f.handler(t, forwardauth.Config{Headers: forwardauth.Headers{Subject: "x-user-id", Groups: "X-Roles"}})
	alice, _ := f.pool.User("alice")
	rec := check(h, "GET", "/", "Bearer "+f.pool.AccessToken("alice"))
	names := []string{"X-User-Id", "X-Auth-Username", "X-Roles", "X-Auth-Scope", "X-Auth-Token-Use"}
	want := []string{alice.Sub, "alice", "admin staff", cognitotest.DefaultScope, "access"}
	if got := identity(rec.Header(), names); rec.Code != 200 || !slices.Equal(got, want) {
		t.Errorf("%d %q, want %q", rec.Code, got, want)
	}
	if _, ok := rec.Header()["X-Auth-Sub"]; ok {
		t.Error("renamed header also sent under its default name")
	}
}

func TestNewRefusesBadHeaderNames(t *testing.T) {
	f := newFixture(t, cognitoguard.TokenUseAccess)
	for _, hs := range []forwardauth.Headers{
		{Subject: "X Auth"},
		{Username: "X-User:"},
		{Groups: "X-Ü"},
		{Subject: "x-auth-username"}, // the default of Username, in another case
		{Scope: "X-A", TokenUse: "x-a"},
		{Subject: "content-length"},
		{Groups: "Set-Cookie"},
		{Username: "authorization"},
	} {
		if _, err := forwardauth.New(f.v, forwardauth.Config{Headers: hs}); err == nil {
			t.Errorf("New accepted %+v", hs)
		}
	}
}

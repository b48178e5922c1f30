package alb_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/alb"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// albApp is an app behind a load balancer: the cognitoguard middleware
// verifies the forwarded access token (revocation included), then the alb
// middleware the data token.
type albApp struct {
	*fixture
	store *revocation.Memory
	srv   *httptest.Server
}

func newALBApp(t *testing.T) *albApp {
	t.Helper()
	a := &albApp{fixture: newFixture(t, alb.Config{}), store: revocation.NewMemory(revocation.MemoryConfig{})}
	cv, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: a.pool.PoolID(), Issuers: []string{a.pool.Issuer()}, ClientIDs: a.pool.ClientIDs()}},
		cognitoguard.Config{Revocation: a.store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cv.Close() })
	access := middleware.New(cv, middleware.Config{Extractor: alb.AccessTokenExtractor})
	data := alb.NewMiddleware(a.v, alb.MiddlewareConfig{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ac, _ := cognitoguard.FromContext(r.Context())
		dc, _ := alb.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]string{"access_sub": ac.Subject, "data_sub": dc.Subject, "email": dc.Email})
	})
	a.srv = httptest.NewServer(access(data(app)))
	t.Cleanup(a.srv.Close)
	return a
}

// get sends a request whose headers edit sets.
func (a *albApp) get(t *testing.T, edit func(h http.Header)) (*http.Response, map[string]string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	edit(req.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res, body
}

// TestMiddlewareBehindALB: requests as the load balancer forwards them,
// through both middlewares: a signed-out user's still valid access token is
// rejected although the data token verifies, as are tokens of two users,
// forged data and a missing header; an unreachable key endpoint is 503.
func TestMiddlewareBehindALB(t *testing.T) {
	a := newALBApp(t)
	alice, _ := a.pool.User("alice")
	bob, _ := a.pool.User("bob")

	res, body := a.get(t, func(h http.Header) { a.lb.SetHeaders(h, a.pool, "alice") })
	if res.StatusCode != 200 || body["access_sub"] != alice.Sub || body["data_sub"] != alice.Sub || body["email"] != "alice@example.com" {
		t.Fatalf("valid: %d %v", res.StatusCode, body)
	}

	foreign := cognitotest.NewALB(cognitotest.ALBConfig{})
	t.Cleanup(foreign.Close)
	for _, tc := range []struct {
		name string
		edit func(h http.Header)
		want int
		www  string // in WWW-Authenticate
	}{
		{"no access token", func(h http.Header) {
			a.lb.SetHeaders(h, a.pool, "alice")
			h.Del(alb.HeaderAccessToken)
		}, 401, `Bearer realm="api"`},
		{"two access tokens", func(h http.Header) {
			a.lb.SetHeaders(h, a.pool, "alice")
			h.Add(alb.HeaderAccessToken, a.pool.AccessToken("alice"))
		}, 401, `error="invalid_request"`},
		{"no data token", func(h http.Header) {
			a.lb.SetHeaders(h, a.pool, "alice")
			h.Del(alb.HeaderData)
		}, 401, `Bearer realm="api"`},
		{"data token of another user", func(h http.Header) {
			a.lb.SetHeaders(h, a.pool, "alice")
			h.Set(alb.HeaderData, a.lb.DataToken(a.pool, "bob"))
		}, 401, `error="invalid_token"`},
		{"forged data token", func(h http.Header) {
			a.lb.SetHeaders(h, a.pool, "alice")
			h.Set(alb.HeaderData, foreign.DataToken(a.pool, "alice",
				cognitotest.WithHeader(map[string]any{"kid": a.lb.KeyID(), "signer": a.lb.ARN()})))
		}, 401, `error="invalid_token"`},
		{"expired data token", func(h http.Header) {
			a.lb.SetHeaders(h, a.pool, "alice")
			h.Set(alb.HeaderData, a.lb.DataToken(a.pool, "alice", cognitotest.WithExpiry(time.Now().Add(-time.Second))))
		}, 401, `error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := a.get(t, tc.edit)
			if res.StatusCode != tc.want || !strings.Contains(res.Header.Get("WWW-Authenticate"), tc.www) || body["access_sub"] != "" {
				t.Fatalf("%d %q %v", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
			}
		})
	}

	t.Run("signed out", func(t *testing.T) {
		if err := a.store.RevokeUser(t.Context(), a.pool.PoolID(), alice.Sub, time.Now()); err != nil {
			t.Fatal(err)
		}
		res, _ := a.get(t, func(h http.Header) { a.lb.SetHeaders(h, a.pool, "alice") })
		if res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), "Access Token has been revoked") {
			t.Fatalf("signed-out user: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		// Her data token alone still verifies: it has no auth_time.
		if _, err := a.v.Verify(t.Context(), a.lb.DataToken(a.pool, "alice")); err != nil {
			t.Fatal(err)
		}
		res, body := a.get(t, func(h http.Header) { a.lb.SetHeaders(h, a.pool, "bob") })
		if res.StatusCode != 200 || body["data_sub"] != bob.Sub {
			t.Fatalf("another user: %d %v", res.StatusCode, body)
		}
	})

	t.Run("key endpoint down", func(t *testing.T) {
		a.lb.RotateKey() // a kid the verifier has not fetched yet
		a.lb.Close()
		res, _ := a.get(t, func(h http.Header) { a.lb.SetHeaders(h, a.pool, "bob") })
		if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
			t.Fatalf("%d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
		}
	})
}

// TestAccessTokenExtractor: the header rules.
func TestAccessTokenExtractor(t *testing.T) {
	for _, tc := range []struct {
		name string
		vs   []string
		want error
	}{
		{"one", []string{" a.b.c "}, nil},
		{"none", nil, cognitoguard.ErrNoToken},
		{"empty", []string{" "}, cognitoguard.ErrNoToken},
		{"two", []string{"a.b.c", "a.b.c"}, cognitoguard.ErrInvalidRequest},
		{"too large", []string{strings.Repeat("a", cognitoguard.DefaultMaxTokenSize+1)}, cognitoguard.ErrMalformed},
		{"outside b64token, as a bearer token", []string{"a.b.c$"}, cognitoguard.ErrMalformed},
		{"a scheme is part of the value", []string{"Bearer a.b.c"}, cognitoguard.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header[alb.HeaderAccessToken] = tc.vs
			tok, err := alb.AccessTokenExtractor(r)
			if tc.want == nil {
				if err != nil || tok != "a.b.c" {
					t.Fatalf("%q, %v", tok, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || tok != "" {
				t.Fatalf("%q, %v; want %v", tok, err, tc.want)
			}
		})
	}
}

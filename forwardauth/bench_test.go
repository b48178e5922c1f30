package forwardauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/forwardauth"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// BenchmarkCheck is the server-side cost of one sub-request for a token
// already seen (verified-token cache hit, in-process revocation store):
// extraction, verification, the identity headers, into a fresh header map
// as net/http's server gives each request (httptest.ResponseRecorder
// would add a copy of the headers).
// BenchmarkCheck/middleware is middleware.New with the same Verifier
// around a handler that writes 200 and no header, for the ratio.
func BenchmarkCheck(b *testing.B) {
	p := cognitotest.NewPool(cognitotest.Config{})
	b.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin", "staff"}})
	store := revocation.NewMemory(revocation.MemoryConfig{})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{p.ClientID()}}},
		cognitoguard.Config{Revocation: store})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = v.Close() })
	h, err := forwardauth.New(v, forwardauth.Config{})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/check", nil)
	r.Header.Set("Authorization", "Bearer "+p.AccessToken("alice", cognitotest.WithScopes("openid", "orders/read")))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d", w.Code)
	}
	plain := middleware.New(v, middleware.Config{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"check", h}, {"middleware", plain}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := &discard{h: make(http.Header)}
				bc.h.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

package cognitoguard_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// BenchmarkMiddleware serves a repeat token through the middleware, with
// the in-process revocation store, into a handler that reads the claims.
// BenchmarkMiddleware/bare is the same handler without the middleware.
func BenchmarkMiddleware(b *testing.B) {
	p := cognitotest.NewPool(cognitotest.Config{})
	b.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice"})
	store := revocation.NewMemory(revocation.MemoryConfig{})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{p.ClientID()}}}, cognitoguard.Config{Revocation: store})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := cognitoguard.FromContext(r.Context()); ok && c.Subject == "" {
			b.Fatal("empty subject")
		}
		w.WriteHeader(http.StatusNoContent)
	})
	guarded := middleware.New(v, middleware.Config{})(handler)
	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	r.Header.Set("Authorization", "Bearer "+p.AccessToken("alice"))
	w := httptest.NewRecorder()
	guarded.ServeHTTP(w, r)
	if w.Code != http.StatusNoContent {
		b.Fatalf("status %d", w.Code)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", handler}, {"repeat", guarded}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, r)
			}
		})
	}
}

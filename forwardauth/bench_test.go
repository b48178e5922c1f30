package forwardauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/forwardauth"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// BenchmarkCheck is the server-side cost of one sub-request for a token
// already seen (verified-token cache hit, in-process revocation store):
// extraction, verification, the identity headers, into a fresh recorder.
func BenchmarkCheck(b *testing.B) {
	p := cognitotest.NewPool(cognitotest.Config{})
	b.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin", "staff"}})
	store := revocation.NewMemory(revocation.MemoryConfig{})
	v, err := cognitoguard.NewVerifier(p.PoolID(), []string{p.ClientID()}, cognitoguard.Config{Issuer: p.Issuer(), Revocation: store})
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
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}

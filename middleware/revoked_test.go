package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// TestRevokedWording: a revoked access token is answered with Cognito's
// "Access Token has been revoked", a revoked ID token with "Token has
// been revoked", in the challenge and the body alike.
func TestRevokedWording(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{ClientIDs: []string{"app"}})
	t.Cleanup(pool.Close)
	mallory := pool.AddUser(cognitotest.User{Username: "mallory"})
	access, id := pool.AccessToken("mallory"), pool.IDToken("mallory")
	store := revocation.NewMemory(revocation.MemoryConfig{})
	if err := store.RevokeUser(t.Context(), pool.PoolID(), mallory.Sub, time.Now()); err != nil {
		t.Fatal(err)
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{"app"}}},
		cognitoguard.Config{Revocation: store, TokenUse: cognitoguard.TokenUseAny})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	h := New(v, Config{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a revoked token was let through") }))
	for _, tc := range []struct{ name, token, desc string }{
		{"access token", access, "Access Token has been revoked"},
		{"ID token", id, "Token has been revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			wantCh := `error="invalid_token", error_description="` + tc.desc + `"`
			if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), wantCh) {
				t.Errorf("got %d %q, want 401 with %s", rec.Code, rec.Header().Get("WWW-Authenticate"), wantCh)
			}
			if want := `"error_description":"` + tc.desc + `"`; !strings.Contains(rec.Body.String(), want) {
				t.Errorf("body %q, want %s", rec.Body.String(), want)
			}
		})
	}
}

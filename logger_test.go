package cognitoguard_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// TestOneLogger: a service sets its logger once, on the store it builds
// first; the Verifier, the middleware and the sign-out helper built on it
// all log there.
func TestOneLogger(t *testing.T) {
	var buf syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t)
	store := revocation.NewMemory(revocation.MemoryConfig{Logger: logger, Now: f.clock.Now})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: f.pool.PoolID(), Issuers: []string{f.pool.Issuer()}, ClientIDs: []string{"client-a"}}},
		cognitoguard.Config{Revocation: store, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if v.Logger() != logger {
		t.Fatal("the Verifier does not log where its store logs")
	}
	// The middleware logs a rejection there.
	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	r.Header.Set("Authorization", "Bearer "+f.pool.AccessToken("alice", cognitotest.WithClient("client-b")))
	middleware.New(v, middleware.Config{})(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
	if !strings.Contains(buf.String(), "request rejected") {
		t.Fatalf("no rejection record in the store's logger: %q", buf.String())
	}
	// The sign-out helper logs its sign-outs there.
	so, err := signout.New(f.pool.Client(), v, store, signout.Config{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := so.AdminSignOut(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "signout: signed out") {
		t.Fatalf("no sign-out record in the store's logger: %q", buf.String())
	}
}

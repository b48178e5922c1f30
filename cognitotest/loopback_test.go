package cognitotest_test

import (
	"net/http"
	"testing"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// TestLoopbackOnly: with Config.LoopbackOnly, requests for another host
// name or from a page of another origin get 403, on every endpoint;
// without it, they are answered.
func TestLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		only               bool
		host, origin, path string
		want               int
	}{
		{true, "localhost", "http://app.localhost:8080", "/.well-known/jwks.json", http.StatusOK},
		{true, "LOCALHOST.", "", "/.well-known/jwks.json", http.StatusOK},
		{true, "[::1]", "https://[::1]:8443", "/.well-known/jwks.json", http.StatusOK},
		{true, "evil.example", "", "/.well-known/jwks.json", http.StatusForbidden},
		{true, "127.0.0.1", "http://evil.example", "/.well-known/jwks.json", http.StatusForbidden},
		{true, "127.0.0.1", "file://", "/.well-known/jwks.json", http.StatusForbidden},
		{true, "evil.example", "", "/oauth2/token", http.StatusForbidden},
		{false, "evil.example", "http://evil.example", "/.well-known/jwks.json", http.StatusOK},
	} {
		p := cognitotest.NewPool(cognitotest.Config{LoopbackOnly: tc.only})
		t.Cleanup(p.Close)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.Issuer()+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tc.host
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("LoopbackOnly %v, Host %q, Origin %q, %s: %s, want %d", tc.only, tc.host, tc.origin, tc.path, res.Status, tc.want)
		}
	}
}

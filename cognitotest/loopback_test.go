package cognitotest_test

import (
	"net/http"
	"strings"
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

// TestCORS: a page of a loopback origin (a single-page app under test)
// can call the API, the token endpoint and the JWKS with fetch: preflights
// are answered and answers carry Access-Control-Allow-Origin. A page of
// another origin gets no grant.
func TestCORS(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Password: "Alice-pw-1"})
	do := func(method, path, origin string, body string, hdr map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, p.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	const spa = "http://localhost:5173"
	pre := do("OPTIONS", "/", spa, "", map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent"})
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != spa ||
		pre.Header.Get("Access-Control-Allow-Headers") != "content-type,x-amz-target,x-amz-user-agent" || !strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %s %v", pre.Status, pre.Header)
	}
	api := do("POST", "/", spa, `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"`+p.ClientID()+`","AuthParameters":{"USERNAME":"alice","PASSWORD":"Alice-pw-1"}}`,
		map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
	if api.StatusCode != http.StatusOK || api.Header.Get("Access-Control-Allow-Origin") != spa {
		t.Errorf("InitiateAuth from the SPA: %s, Access-Control-Allow-Origin %q", api.Status, api.Header.Get("Access-Control-Allow-Origin"))
	}
	for _, path := range []string{"/oauth2/token", "/" + p.PoolID() + "/.well-known/jwks.json"} {
		if res := do("OPTIONS", path, spa, "", map[string]string{"Access-Control-Request-Method": "POST"}); res.Header.Get("Access-Control-Allow-Origin") != spa {
			t.Errorf("preflight of %s: %s %v", path, res.Status, res.Header)
		}
	}
	for _, tc := range []struct{ method, path, origin string }{
		{"OPTIONS", "/", "https://evil.example"},
		{"GET", "/" + p.PoolID() + "/.well-known/jwks.json", "https://evil.example"},
		{"OPTIONS", "/login", spa},
	} {
		res := do(tc.method, tc.path, tc.origin, "", map[string]string{"Access-Control-Request-Method": "POST"})
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s %s from %s: granted CORS", tc.method, tc.path, tc.origin)
		}
	}
}

package cognitotest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

func TestRotateKeys(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	p.AddUser(cognitotest.User{Username: "alice"})
	old := p.SignIn("alice")
	oldKids := []string{p.AccessKeyID(), p.IDKeyID()}

	p.RotateKeys()
	keys := fetchJWKS(t, p.JWKSURL())
	if len(keys) != 2 {
		t.Fatalf("JWKS has %d keys after rotation, want 2", len(keys))
	}
	for _, kid := range oldKids {
		if _, ok := keys[kid]; ok {
			t.Errorf("old kid %q still served", kid)
		}
	}
	for _, tok := range []string{old.AccessToken, old.IDToken} {
		if err := verifyWithJWKS(t, tok, keys); err == nil {
			t.Error("token signed before rotation verifies against the new JWKS")
		}
	}
	fresh := p.SignIn("alice")
	for _, tok := range []string{fresh.AccessToken, fresh.IDToken} {
		if err := verifyWithJWKS(t, tok, keys); err != nil {
			t.Errorf("token signed after rotation: %v", err)
		}
	}
}

func TestJWKSEndpoint(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	get := func(t *testing.T, method string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, p.JWKSURL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b), resp.Header
	}
	garbage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "not json")
	})

	tests := []struct {
		name       string
		setup      func()
		method     string
		wantStatus int
		wantBody   string // substring
	}{
		{"healthy", func() {}, http.MethodGet, 200, `"kty":"RSA"`},
		{"failing handler", func() {
			p.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "injected", http.StatusServiceUnavailable) }))
		}, http.MethodGet, 503, "injected"},
		{"garbage handler", func() { p.SetJWKSHandler(garbage) }, http.MethodGet, 200, "not json"},
		{"restored", func() { p.SetJWKSHandler(nil) }, http.MethodGet, 200, `"use":"sig"`},
		{"POST refused", func() {}, http.MethodPost, 405, ""},
	}
	var hits int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			status, body, h := get(t, tt.method)
			hits++
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%s = %d %q, want %d containing %q", tt.method, status, body, tt.wantStatus, tt.wantBody)
			}
			if status == 200 && tt.wantBody != "not json" {
				if ct := h.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				if _, err := parseJWKS([]byte(body)); err != nil {
					t.Errorf("JWKS does not parse: %v", err)
				}
			}
			if got := p.JWKSHits(); got != hits {
				t.Errorf("JWKSHits() = %d, want %d", got, hits)
			}
		})
	}

	t.Run("JWKS method matches endpoint", func(t *testing.T) {
		_, body, _ := get(t, http.MethodGet)
		if body != string(p.JWKS()) {
			t.Errorf("served %s, JWKS() %s", body, p.JWKS())
		}
	})
	t.Run("openid-configuration", func(t *testing.T) {
		resp, err := http.Get(p.Issuer() + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw map[string]any
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		if raw["issuer"] != p.Issuer() || raw["jwks_uri"] != p.JWKSURL() || raw["authorization_endpoint"] != p.URL()+"/oauth2/authorize" ||
			raw["token_endpoint"] != p.URL()+"/oauth2/token" || raw["userinfo_endpoint"] != p.URL()+"/oauth2/userInfo" ||
			raw["revocation_endpoint"] != p.URL()+"/oauth2/revoke" {
			t.Errorf("openid-configuration = %s", b)
		}
	})
	t.Run("other pool's path is 404", func(t *testing.T) {
		resp, err := http.Get(p.URL() + "/us-east-1_other/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want 404", resp.StatusCode)
		}
	})
}

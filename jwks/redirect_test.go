package jwks

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCustomClientRefusesDowngrade: a caller's own HTTPClient keeps the
// https→http refusal (an attacker on the clear-text hop would serve their
// key), the caller's CheckRedirect still runs for the other hops, and the
// caller's client is not modified.
func TestCustomClientRefusesDowngrade(t *testing.T) {
	plain := newJWKSServer(t, jwksDoc(t, jwk("attacker", fakePub(t, 2048), nil)))
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, "/jwks.json", http.StatusFound) // https→https: allowed
			return
		}
		http.Redirect(w, r, plain.URL+"/jwks.json", http.StatusFound)
	}))
	t.Cleanup(tlsSrv.Close)
	var ownCalls atomic.Int64
	for name, own := range map[string]func(*http.Request, []*http.Request) error{
		"no CheckRedirect": nil,
		"own CheckRedirect": func(*http.Request, []*http.Request) error {
			ownCalls.Add(1)
			return nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			custom := tlsSrv.Client() // trusts the test certificate
			custom.CheckRedirect = own
			s, err := New(tlsSrv.URL+"/hop", Config{HTTPClient: custom})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			_, err = s.Key(t.Context(), "attacker")
			if err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("Key = %v, want the downgrade refused", err)
			}
			if plain.hits.Load() != 0 {
				t.Fatal("the clear-text server was reached")
			}
			if (custom.CheckRedirect == nil) != (own == nil) {
				t.Fatal("the caller's client was modified")
			}
		})
	}
	if ownCalls.Load() == 0 {
		t.Fatal("the caller's CheckRedirect never ran for the https→https hop")
	}
}

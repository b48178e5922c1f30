package alb_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/alb"
)

// TestKeyFetchRefusesDowngrade: an https KeyURL redirected to clear text
// is refused whatever the client (the default one, or the caller's own
// with or without a CheckRedirect): the clear-text hop is never asked, and
// its key never trusted. An https→https redirect still works, and the
// caller's client is not modified.
func TestKeyFetchRefusesDowngrade(t *testing.T) {
	f := newFixture(t, alb.Config{})
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/safe/" + f.lb.KeyID():
			http.Redirect(w, r, "/pem/"+f.lb.KeyID(), http.StatusFound) // https→https
			return
		case "/pem/" + f.lb.KeyID():
			res, err := http.Get(f.lb.KeyURL() + "/" + f.lb.KeyID())
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer res.Body.Close()
			_, _ = io.Copy(w, res.Body)
			return
		}
		if r.URL.Path == "/keys/"+f.lb.KeyID() {
			http.Redirect(w, r, f.lb.KeyURL()+"/"+f.lb.KeyID(), http.StatusFound) // https→http
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(tlsSrv.Close)
	tok := f.lb.DataToken(f.pool, "alice")
	var ownCalls int
	clients := map[string]func(t *testing.T) *http.Client{
		"default client": func(t *testing.T) *http.Client {
			// The default client uses http.DefaultTransport: let it trust
			// the test certificate.
			prev := http.DefaultTransport
			http.DefaultTransport = tlsSrv.Client().Transport
			t.Cleanup(func() { http.DefaultTransport = prev })
			return nil
		},
		"own client": func(*testing.T) *http.Client { return tlsSrv.Client() },
		"own client with CheckRedirect": func(*testing.T) *http.Client {
			c := tlsSrv.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { ownCalls++; return nil }
			return c
		},
	}
	for name, client := range clients {
		t.Run(name, func(t *testing.T) {
			c := client(t)
			var own func(*http.Request, []*http.Request) error
			if c != nil {
				own = c.CheckRedirect
			}
			hits := f.lb.KeyHits()
			v, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: tlsSrv.URL + "/keys", HTTPClient: c})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(t.Context(), tok)
			if !errors.Is(err, cognitoguard.ErrUnavailable) || !errors.Is(err, alb.ErrKeyFetch) {
				t.Fatalf("Verify through an https→http redirect: %v, want ErrKeyFetch", err)
			}
			if n := f.lb.KeyHits() - hits; n != 0 {
				t.Fatalf("the clear-text key server was asked %d times", n)
			}
			if c != nil && (c.CheckRedirect == nil) != (own == nil) {
				t.Fatal("the caller's client was modified")
			}
			safe, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: tlsSrv.URL + "/safe", HTTPClient: c})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := safe.Verify(t.Context(), tok); err != nil {
				t.Fatalf("Verify through an https→https redirect: %v", err)
			}
		})
	}
	if ownCalls == 0 {
		t.Error("the caller's CheckRedirect never ran")
	}
}

package cognitotest_test

import (
	"net"
	"net/http"
	"testing"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// TestListener serves the pool on a listener of the caller's: its address
// makes the issuer, the JWKS is served there and verifies the tokens, and
// Close closes the listener.
func TestListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := cognitotest.NewPool(cognitotest.Config{Listener: l})
	t.Cleanup(p.Close)
	base := "http://" + l.Addr().String()
	if p.URL() != base || p.Issuer() != base+"/"+cognitotest.DefaultPoolID {
		t.Fatalf("URL %q, Issuer %q; want them at %s", p.URL(), p.Issuer(), base)
	}
	p.AddUser(cognitotest.User{Username: "alice"})
	if err := verifyWithJWKS(t, p.AccessToken("alice"), fetchJWKS(t, p.JWKSURL())); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if res, err := http.Get(base + "/"); err == nil {
		res.Body.Close()
		t.Fatalf("GET after Close: %s, want a refused connection", res.Status)
	}
}

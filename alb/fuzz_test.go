package alb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/alb"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// FuzzALBVerify: Verify never panics on any input; every failure is a
// *cognitoguard.Error of the invalid-token or no-token class (the key
// server is up, so nothing is unavailable); and an accepted token signs
// exactly the header and payload of a token the load balancer minted.
func FuzzALBVerify(f *testing.F) {
	pool := cognitotest.NewPool(cognitotest.Config{})
	f.Cleanup(pool.Close)
	lb := cognitotest.NewALB(cognitotest.ALBConfig{})
	f.Cleanup(lb.Close)
	pool.AddUser(cognitotest.User{Username: "alice", Email: "a@example.com"})
	v, err := alb.NewVerifier([]string{lb.ARN()}, alb.Config{KeyURL: lb.KeyURL()})
	if err != nil {
		f.Fatal(err)
	}
	minted := map[string]bool{}
	for _, tok := range []string{
		lb.DataToken(pool, "alice"),
		lb.DataToken(pool, "alice", cognitotest.WithClaims(map[string]any{"email_verified": true, "x": []int{1}})),
		lb.DataToken(pool, "alice", cognitotest.WithHeader(map[string]any{"kid": "00000000-0000-4000-8000-000000000000"})),
	} {
		f.Add(tok)
		minted[tok[:strings.LastIndexByte(tok, '.')]] = true
	}
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(t.Context(), tok)
		if err == nil {
			if c == nil || !minted[tok[:strings.LastIndexByte(tok, '.')]] {
				t.Fatalf("accepted a token the load balancer never signed: %q", tok)
			}
			return
		}
		var e *cognitoguard.Error
		if c != nil || !errors.As(err, &e) {
			t.Fatalf("Verify: %v, %T %v", c, err, err)
		}
		if class := cognitoguard.Class(err); class != cognitoguard.ErrInvalidToken && class != cognitoguard.ErrNoToken {
			t.Fatalf("class %v for %q: %v", class, tok, err)
		}
	})
}

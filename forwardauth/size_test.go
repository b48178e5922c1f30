package forwardauth_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/forwardauth"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// identityBytes is the size of the identity headers of a 200 answer as
// MaxIdentityBytes counts them.
func identityBytes(h http.Header) int {
	n := 0
	for _, name := range identityNames {
		n += len(name) + len(": ") + len(h.Get(name)) + len("\r\n")
	}
	return n
}

func TestCheckRefusesTooLargeIdentity(t *testing.T) {
	f := newFixture(t, cognitoguard.TokenUseAccess)
	groups := make([]string, 40)
	for i := range groups {
		groups[i] = fmt.Sprintf("group-%02d-%s", i, strings.Repeat("x", 90))
	}
	tok := "Bearer " + f.pool.AccessToken("alice", cognitotest.WithGroups(groups...))
	rec := check(f.handler(t, forwardauth.Config{}), "GET", "/", tok)
	if rec.Code != http.StatusOK {
		t.Fatalf("default limit: status %d", rec.Code)
	}
	size := identityBytes(rec.Header())

	if rec := check(f.handler(t, forwardauth.Config{MaxIdentityBytes: size}), "GET", "/", tok); rec.Code != http.StatusOK {
		t.Errorf("identity of exactly MaxIdentityBytes: status %d, want 200", rec.Code)
	}
	rec = check(f.handler(t, forwardauth.Config{MaxIdentityBytes: size - 1, Auth: middleware.Config{Realm: `a"b`}}), "GET", "/", tok)
	want := `Bearer realm="a\"b", error="insufficient_scope", error_description="The identity is too large to forward"`
	if rec.Code != http.StatusForbidden || rec.Header().Get("WWW-Authenticate") != want || rec.Header().Get("Retry-After") != "" {
		t.Errorf("one byte over: %d, WWW-Authenticate %q, Retry-After %q; want 403 and %q",
			rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Header().Get("Retry-After"), want)
	}
	if body := rec.Body.String(); body != `{"error":"insufficient_scope","error_description":"The identity is too large to forward"}`+"\n" ||
		rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("body %q, headers %v", body, rec.Header())
	}
	for _, n := range identityNames {
		if _, ok := rec.Header()[n]; ok {
			t.Errorf("refusal carries identity header %s", n)
		}
	}

	// A custom ErrorHandler sees the error, in the insufficient-scope class.
	var got error
	h := f.handler(t, forwardauth.Config{MaxIdentityBytes: size - 1, Auth: middleware.Config{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { got = err; w.WriteHeader(499) }}})
	if rec := check(h, "GET", "/", tok); rec.Code != 499 || !errors.Is(got, forwardauth.ErrIdentityTooLarge) ||
		!errors.Is(got, cognitoguard.ErrInsufficientScope) {
		t.Errorf("custom ErrorHandler: status %d, error %v", rec.Code, got)
	}

	if _, err := forwardauth.New(f.v, forwardauth.Config{MaxIdentityBytes: -1}); err == nil {
		t.Error("New accepted a negative MaxIdentityBytes")
	}
}

// TestDefaultMaxIdentityBytesHoldsLargestToken: a token at the Verifier's
// default size limit, nearly all of it groups, passes the default bound.
func TestDefaultMaxIdentityBytesHoldsLargestToken(t *testing.T) {
	f := newFixture(t, cognitoguard.TokenUseAccess)
	group := func(i int) string { return fmt.Sprintf("g%03d-%s", i, strings.Repeat("x", 100)) }
	var groups []string
	for i := range 90 { // ≈ 13 KiB of token: minting each step is slow
		groups = append(groups, group(i))
	}
	tok := f.pool.AccessToken("alice", cognitotest.WithGroups(groups...))
	for i := len(groups); len(tok) <= cognitoguard.DefaultMaxTokenSize; i++ {
		g := append(groups, group(i))
		next := f.pool.AccessToken("alice", cognitotest.WithGroups(g...))
		if len(next) > cognitoguard.DefaultMaxTokenSize {
			break
		}
		groups, tok = g, next
	}
	if len(tok) > cognitoguard.DefaultMaxTokenSize || len(tok) < cognitoguard.DefaultMaxTokenSize-200 {
		t.Fatalf("token of %d bytes, want just under %d", len(tok), cognitoguard.DefaultMaxTokenSize)
	}
	rec := check(f.handler(t, forwardauth.Config{}), "GET", "/", "Bearer "+tok)
	if rec.Code != http.StatusOK {
		t.Fatalf("token of %d bytes: status %d %q", len(tok), rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if n := identityBytes(rec.Header()); n > forwardauth.DefaultMaxIdentityBytes*3/4 {
		t.Errorf("identity of a %d-byte token is %d bytes: DefaultMaxIdentityBytes (%d) leaves little margin",
			len(tok), n, forwardauth.DefaultMaxIdentityBytes)
	}
}

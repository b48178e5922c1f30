package middleware

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
)

// bearerRe is an independent statement of the accepted header grammar:
// optional blanks, the scheme in any case, blanks, a b64token, blanks.
var bearerRe = regexp.MustCompile(`^[ \t]*(?i:bearer)[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$`)

// FuzzBearerToken checks the header extractor against bearerRe: it never
// panics; it accepts exactly the headers bearerRe matches (within the size
// bound), returning the token bearerRe captures, a substring of the header;
// every rejection is a *cognitoguard.Error of class ErrNoToken or
// ErrInvalidToken. The seed corpus is in testdata/fuzz/FuzzBearerToken.
func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer " + testToken)
	f.Add("bearer\t\tabc==")
	f.Fuzz(func(t *testing.T, h string) {
		r := &http.Request{Header: http.Header{"Authorization": {h}}}
		tok, err := BearerToken(r)
		m := bearerRe.FindStringSubmatch(h)
		if err == nil {
			if !strings.Contains(h, tok) {
				t.Fatalf("token %q is not a substring of %q", tok, h)
			}
			if len(tok) > cognitoguard.DefaultMaxTokenSize {
				t.Fatalf("token of %d bytes accepted", len(tok))
			}
			if m == nil || m[1] != tok {
				t.Fatalf("accepted %q from %q; grammar says %q", tok, h, m)
			}
			return
		}
		if tok != "" {
			t.Fatalf("token %q returned with error %v", tok, err)
		}
		if m != nil && len(m[1]) <= cognitoguard.DefaultMaxTokenSize {
			t.Fatalf("rejected %q (%v); grammar accepts %q", h, err, m[1])
		}
		var e *cognitoguard.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T is not a *cognitoguard.Error", err)
		}
		if c := cognitoguard.Class(err); c != cognitoguard.ErrNoToken && c != cognitoguard.ErrInvalidToken {
			t.Fatalf("error %v of class %v", err, c)
		}
		// Errors never echo the header.
		if len(h) > 8 && strings.Contains(err.Error(), h) {
			t.Fatalf("error %q echoes the header", err)
		}
	})
}

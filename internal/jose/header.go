// Package jose is the one JOSE header policy of the library's verifiers:
// the core's Cognito tokens (RS256) and package alb's data tokens (ES256)
// read their protected header through [ParseHeader], so that what a header
// may say is decided once.
//
// The policy: a JSON object whose member names are unique (even under case
// folding: internal/jsonscan refuses the others); alg and kid strings;
// typ and cty strings or null; crit refused (no extension is understood,
// so a critical one must fail, RFC 7515 §4.1.11); b64 refused (RFC 7797:
// it changes what is signed); jku, jwk, x5u, x5c, x5t and x5t#S256 refused
// (they name a key by other means than kid, and a verifier that honoured
// one would let the token choose its key); any other member skipped,
// unless the caller reads it. Which alg and kid are acceptable is the
// caller's rule.
package jose

import (
	"errors"

	"github.com/cognitoguard/cognitoguard/internal/jsonscan"
)

// Errors of a member the policy refuses, carried by a [*MemberError].
var (
	ErrCrit    = errors.New("crit header not supported")
	ErrRefused = errors.New("header field not supported")
)

// MemberError reports a header member refused by the policy (ErrCrit,
// ErrRefused) or whose value does not scan (a jsonscan error, or the
// caller's).
type MemberError struct {
	Key string
	Err error
}

func (e *MemberError) Error() string { return "header field " + e.Key + ": " + e.Err.Error() }
func (e *MemberError) Unwrap() error { return e.Err }

// Header holds the members every verifier reads.
type Header struct {
	Alg, Kid string
}

// ParseHeader reads the decoded header src under the policy. extra, if not
// nil, is offered every member the policy neither reads nor refuses: it
// reads the value and returns true, or returns false to have it skipped.
// An error that is not a [*MemberError] is the scanner's, about the object
// itself (not an object, a duplicate name).
func ParseHeader(src string, extra func(sc *jsonscan.Scanner, key string) (bool, error)) (Header, error) {
	var sc jsonscan.Scanner
	sc.Reset(src)
	var h Header
	for {
		key, ok, err := sc.Next()
		if err != nil {
			return Header{}, err
		}
		if !ok {
			return h, nil
		}
		if err := h.member(&sc, key, extra); err != nil {
			return Header{}, &MemberError{Key: key, Err: err}
		}
	}
}

// member reads or refuses the value of member key.
func (h *Header) member(sc *jsonscan.Scanner, key string, extra func(*jsonscan.Scanner, string) (bool, error)) error {
	var err error
	switch key {
	case "alg":
		h.Alg, err = sc.String()
	case "kid":
		h.Kid, err = sc.String()
	case "crit":
		return ErrCrit
	case "b64", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256":
		return ErrRefused
	case "typ", "cty":
		if sc.Peek() == jsonscan.Null {
			err = sc.Skip()
		} else {
			_, err = sc.String()
		}
	default:
		handled := false
		if extra != nil {
			handled, err = extra(sc, key)
		}
		if !handled && err == nil {
			err = sc.Skip()
		}
	}
	return err
}

// Package bearer is the one grammar of bearer credentials, shared by the
// HTTP middleware, the gRPC guard and the ALB header extractors: exactly
// one value, the scheme "Bearer" in any case (RFC 6750 §2.1, RFC 9110
// §11.1), optional blanks, and a token bounded in size before it is
// scanned, made of RFC 6750 b64token characters.
//
// Every failure is a [*cognitoguard.Error]: [cognitoguard.ErrNoToken]
// (nothing usable; with several values also
// [cognitoguard.ErrInvalidRequest]) or [cognitoguard.ErrMalformed]. Error
// reasons name the carrier, never the token. Nothing allocates on success:
// the token returned is a substring of the value.
package bearer

import "github.com/cognitoguard/cognitoguard"

// Scheme is the auth-scheme of RFC 6750 §2.1, matched case-insensitively.
const Scheme = "Bearer"

// b64token is 1 for the bytes of the RFC 6750 b64token grammar before its
// trailing "=" padding: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/";
// 0 for every other byte.
var b64token = func() (t [256]uint8) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 1
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for _, c := range "-._~+/" {
		t[c] = 1
	}
	return t
}()

// Single returns the one value of vs, the values of the header (or gRPC
// metadata key) that name describes, such as "Authorization header":
// none is ErrNoToken ("no " + name), several are ErrNoToken and
// ErrInvalidRequest ("several " + name + "s"): a request carrying its
// credentials ambiguously is not given the benefit of the doubt.
func Single(name string, vs []string) (string, error) {
	switch len(vs) {
	case 0:
		return "", NoToken("no " + name)
	case 1:
		return vs[0], nil
	}
	return "", Ambiguous("several " + name + "s")
}

// Token returns the token of vs, the values of the header (or gRPC
// metadata key) that name describes: exactly one ([Single]), parsed by
// [Parse]. Every adapter reads its Authorization values through it.
func Token(name string, vs []string, maxSize int, grammar bool) (string, error) {
	h, err := Single(name, vs)
	if err != nil {
		return "", err
	}
	return Parse(h, maxSize, grammar)
}

// Parse returns the token of an Authorization value h: the scheme "Bearer"
// in any case, one or more spaces or tabs, the token; surrounding blanks
// are trimmed. Another scheme, or nothing after it, is ErrNoToken; the
// token is then checked by [Check].
func Parse(h string, maxSize int, grammar bool) (string, error) {
	h = TrimOWS(h)
	if h == "" {
		return "", NoToken("empty Authorization value")
	}
	if len(h) < len(Scheme) || !equalFoldASCII(h[:len(Scheme)], Scheme) {
		return "", NoToken("Authorization scheme is not Bearer")
	}
	rest := h[len(Scheme):]
	if rest == "" {
		return "", NoToken("empty bearer token")
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		// "Bearerx …" is another scheme.
		return "", NoToken("Authorization scheme is not Bearer")
	}
	tok := TrimOWS(rest)
	if tok == "" {
		return "", NoToken("empty bearer token")
	}
	return Check(tok, maxSize, grammar)
}

// Value returns the token that is the whole of v (a cookie, an ALB
// header), blanks trimmed: empty is ErrNoToken ("empty " + name); the
// token is then checked by [Check].
func Value(name, v string, maxSize int, grammar bool) (string, error) {
	tok := TrimOWS(v)
	if tok == "" {
		return "", NoToken("empty " + name)
	}
	return Check(tok, maxSize, grammar)
}

// Check bounds tok's size (ErrMalformed beyond maxSize), then, unless
// grammar is false (for tokens whose verifier enforces a stricter alphabet
// of its own, or whose format is not a b64token, such as the ALB's padded
// data token), checks the b64token grammar: one or more b64token
// characters, then "=" padding. The size is checked first so that an
// oversized value is never scanned.
func Check(tok string, maxSize int, grammar bool) (string, error) {
	if len(tok) > maxSize {
		return "", Malformed("token larger than the limit")
	}
	if !grammar {
		return tok, nil
	}
	if tok == "" || b64token[tok[0]] == 0 {
		return "", Malformed("token does not start with a b64token character")
	}
	// The "=" padding ends the token; every byte before it must be a
	// b64token character ("=" is not one).
	end := len(tok)
	for end > 0 && tok[end-1] == '=' {
		end--
	}
	if !allB64token(tok[:end]) {
		return "", Malformed("token has characters outside the b64token grammar")
	}
	return tok, nil
}

// TrimOWS trims the optional whitespace of RFC 9110 (spaces and tabs).
func TrimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// equalFoldASCII compares s with the ASCII string lower-insensitively,
// without the Unicode folding of strings.EqualFold ("ſ" is not "s" here).
func equalFoldASCII(s, ascii string) bool {
	if len(s) != len(ascii) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], ascii[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// NoToken is the error of a request without a usable token.
func NoToken(reason string) error {
	return &cognitoguard.Error{Kind: cognitoguard.ErrNoToken, Reason: reason}
}

// Ambiguous is the error of a request carrying its credentials
// ambiguously.
func Ambiguous(reason string) error {
	return &cognitoguard.Error{Kind: cognitoguard.ErrNoToken, Reason: reason, Err: cognitoguard.ErrInvalidRequest}
}

// Malformed is the error of a token outside the grammar or the size.
func Malformed(reason string) error {
	return &cognitoguard.Error{Kind: cognitoguard.ErrMalformed, Reason: reason}
}

// allB64token reports whether every byte of s is a b64token character.
// It runs on every request a custom Verifier serves: eight bytes a step,
// into four independent accumulators, with no branch per byte.
func allB64token(s string) bool {
	a, b, c, d := uint8(1), uint8(1), uint8(1), uint8(1)
	for ; len(s) >= 8; s = s[8:] {
		a &= b64token[s[0]] & b64token[s[4]]
		b &= b64token[s[1]] & b64token[s[5]]
		c &= b64token[s[2]] & b64token[s[6]]
		d &= b64token[s[3]] & b64token[s[7]]
	}
	for i := 0; i < len(s); i++ {
		a &= b64token[s[i]]
	}
	return a&b&c&d != 0
}

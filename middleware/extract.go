package middleware

import (
	"errors"
	"net/http"

	"github.com/cognitoguard/cognitoguard"
)

// ErrInvalidRequest marks a request that carries its credentials
// ambiguously: several Authorization headers, or several cookies named
// [Config.Cookie]. Such a request is not given the benefit of the doubt:
// the middleware answers 401 with error="invalid_request" (see the package
// documentation for why not 400).
//
// Errors matching it also match [cognitoguard.ErrNoToken] (no usable token
// was found), so [cognitoguard.Class] reports them as ErrNoToken.
var ErrInvalidRequest = errors.New("middleware: ambiguous credentials")

// bearerScheme is the auth-scheme of RFC 6750 §2.1, matched
// case-insensitively (RFC 9110 §11.1).
const bearerScheme = "Bearer"

// b64token marks the bytes of the RFC 6750 b64token grammar before its
// trailing "=" padding: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/".
var b64token = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~+/" {
		t[c] = true
	}
	return t
}()

// BearerToken returns the bearer token of r's Authorization header. It is
// the extraction [New] uses unless [Config.Cookie] or [Config.Extractor]
// is set; a custom Extractor may call it.
//
// The rules, all failures being [*cognitoguard.Error] values so that
// errors.Is works:
//
//   - no Authorization header, an empty one, or another scheme (Basic,
//     Digest, …): [cognitoguard.ErrNoToken];
//   - more than one Authorization header: [cognitoguard.ErrNoToken] and
//     [ErrInvalidRequest];
//   - the scheme "Bearer" in any case, then one or more spaces or tabs,
//     then the token; surrounding spaces and tabs are trimmed; nothing
//     after the scheme: ErrNoToken;
//   - a token longer than [cognitoguard.DefaultMaxTokenSize] (16 KiB) or
//     with characters outside the RFC 6750 b64token grammar
//     (A-Z a-z 0-9 - . _ ~ + / then "=" padding):
//     [cognitoguard.ErrMalformed].
//
// The returned token is a substring of the header value: nothing is copied.
// BearerToken never allocates on success. It is safe for concurrent use.
func BearerToken(r *http.Request) (string, error) {
	return bearerToken(r, cognitoguard.DefaultMaxTokenSize, true)
}

// Extract returns the token of r as [New] reads it when [Config.Extractor]
// is nil and [Config.MaxTokenSize] is the default: the Authorization header
// (see [BearerToken]), or, when cookie is not empty and r has no
// Authorization header at all, the cookie of that name, with the same
// rules (several cookies of that name: [ErrInvalidRequest]). Handlers
// beside the middleware (package signout's) use it to read tokens the same
// way. It is safe for concurrent use.
func Extract(r *http.Request, cookie string) (string, error) {
	if cookie != "" && len(r.Header["Authorization"]) == 0 {
		return extractCookie(r, cookie, cognitoguard.DefaultMaxTokenSize, true)
	}
	return bearerToken(r, cognitoguard.DefaultMaxTokenSize, true)
}

// bearerToken is BearerToken with a size limit; grammar false skips the
// b64token scan, for verifiers that enforce a stricter alphabet themselves.
func bearerToken(r *http.Request, maxSize int, grammar bool) (string, error) {
	// Direct map access: "Authorization" is already canonical, and this
	// avoids the canonicalisation of Header.Values.
	vs := r.Header["Authorization"]
	switch len(vs) {
	case 0:
		return "", noToken("no Authorization header")
	case 1:
	default:
		return "", invalidRequest("several Authorization headers")
	}
	return parseBearer(vs[0], maxSize, grammar)
}

// parseBearer extracts the token of one Authorization header value.
func parseBearer(h string, maxSize int, grammar bool) (string, error) {
	h = trimOWS(h)
	if h == "" {
		return "", noToken("empty Authorization header")
	}
	if len(h) < len(bearerScheme) || !equalFoldASCII(h[:len(bearerScheme)], bearerScheme) {
		return "", noToken("Authorization scheme is not Bearer")
	}
	rest := h[len(bearerScheme):]
	if rest == "" {
		return "", noToken("empty bearer token")
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		// "Bearerx …" is another scheme.
		return "", noToken("Authorization scheme is not Bearer")
	}
	tok := trimOWS(rest)
	if tok == "" {
		return "", noToken("empty bearer token")
	}
	return checkToken(tok, maxSize, grammar)
}

// checkToken bounds tok's size, then checks the b64token grammar unless
// grammar is false. The size is checked first so that an oversized value is
// never scanned.
func checkToken(tok string, maxSize int, grammar bool) (string, error) {
	if len(tok) > maxSize {
		return "", malformed("token larger than the limit")
	}
	if !grammar {
		return tok, nil
	}
	i := 0
	for i < len(tok) && b64token[tok[i]] {
		i++
	}
	if i == 0 {
		return "", malformed("token does not start with a b64token character")
	}
	for i < len(tok) && tok[i] == '=' {
		i++
	}
	if i != len(tok) {
		return "", malformed("token has characters outside the b64token grammar")
	}
	return tok, nil
}

// extractCookie returns the token of the cookie named name.
func extractCookie(r *http.Request, name string, maxSize int, grammar bool) (string, error) {
	cs := r.CookiesNamed(name)
	switch len(cs) {
	case 0:
		return "", noToken("no Authorization header and no token cookie")
	case 1:
	default:
		// Several cookies of one name: a sibling or parent domain may
		// have planted one (cookie tossing). Refuse to pick.
		return "", invalidRequest("several token cookies")
	}
	v := trimOWS(cs[0].Value)
	if v == "" {
		return "", noToken("empty token cookie")
	}
	return checkToken(v, maxSize, grammar)
}

func trimOWS(s string) string {
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

func noToken(reason string) error {
	return &cognitoguard.Error{Kind: cognitoguard.ErrNoToken, Reason: reason}
}

func invalidRequest(reason string) error {
	return &cognitoguard.Error{Kind: cognitoguard.ErrNoToken, Reason: reason, Err: ErrInvalidRequest}
}

func malformed(reason string) error {
	return &cognitoguard.Error{Kind: cognitoguard.ErrMalformed, Reason: reason}
}

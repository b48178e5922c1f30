package middleware

import (
	"net/http"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/bearer"
)

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
//     [cognitoguard.ErrInvalidRequest];
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
// rules (several cookies of that name:
// [cognitoguard.ErrInvalidRequest]). Handlers beside the middleware (package signout's) use it to read tokens the same
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
	return bearer.Token("Authorization header", r.Header["Authorization"], maxSize, grammar)
}

// extractCookie returns the token of the cookie named name.
func extractCookie(r *http.Request, name string, maxSize int, grammar bool) (string, error) {
	cs := r.CookiesNamed(name)
	switch len(cs) {
	case 0:
		return "", bearer.NoToken("no Authorization header and no token cookie")
	case 1:
	default:
		// Several cookies of one name: a sibling or parent domain may
		// have planted one (cookie tossing). Refuse to pick.
		return "", bearer.Ambiguous("several token cookies")
	}
	return bearer.Value("token cookie", cs[0].Value, maxSize, grammar)
}

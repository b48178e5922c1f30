package alb

import (
	"net/http"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/bearer"
)

// Headers an Application Load Balancer adds to the requests it
// authenticated (in canonical form).
const (
	// HeaderAccessToken carries the identity provider's access token: for
	// Cognito, the user pool's access token, verified by the cognitoguard
	// Verifier like a bearer token.
	HeaderAccessToken = "X-Amzn-Oidc-Accesstoken"
	// HeaderIdentity carries the user's sub, unsigned: never trust it alone.
	HeaderIdentity = "X-Amzn-Oidc-Identity"
	// HeaderData carries the data token that [Verifier.Verify] checks.
	HeaderData = "X-Amzn-Oidc-Data"
)

// AccessTokenExtractor reads the access token the load balancer forwards
// in x-amzn-oidc-accesstoken. Set it as [middleware.Config.Extractor] so
// that the cognitoguard middleware verifies that token — signature, issuer,
// client, expiry and revocation — as it would a bearer token:
//
//	mw := middleware.New(v, middleware.Config{Extractor: alb.AccessTokenExtractor})
//
// No header or an empty one is [cognitoguard.ErrNoToken]; several headers
// are ErrNoToken and [cognitoguard.ErrInvalidRequest]; a value larger than
// [cognitoguard.DefaultMaxTokenSize] or outside the RFC 6750 b64token
// grammar is [cognitoguard.ErrMalformed], as for a bearer token. It is safe
// for concurrent use.
func AccessTokenExtractor(r *http.Request) (string, error) {
	return headerToken(r, HeaderAccessToken, true)
}

// DataToken reads the data token of x-amzn-oidc-data under the same rules
// as [AccessTokenExtractor], except the b64token grammar: the data token's
// segments carry "=" padding, and [Verifier.Verify] checks their alphabet.
func DataToken(r *http.Request) (string, error) {
	return headerToken(r, HeaderData, false)
}

// headerToken applies the bearer grammar of package middleware to the one
// value of header name (canonical), which holds the bare token.
func headerToken(r *http.Request, name string, grammar bool) (string, error) {
	v, err := bearer.Single(name+" header", r.Header[name])
	if err != nil {
		return "", err
	}
	return bearer.Value(name+" header", v, cognitoguard.DefaultMaxTokenSize, grammar)
}

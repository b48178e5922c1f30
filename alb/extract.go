package alb

import (
	"net/http"
	"strings"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
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
// are ErrNoToken and [middleware.ErrInvalidRequest]; a value larger than
// [cognitoguard.DefaultMaxTokenSize] is [cognitoguard.ErrMalformed]. It is
// safe for concurrent use.
func AccessTokenExtractor(r *http.Request) (string, error) {
	return headerToken(r, HeaderAccessToken)
}

// DataToken reads the data token of x-amzn-oidc-data under the same rules
// as [AccessTokenExtractor].
func DataToken(r *http.Request) (string, error) {
	return headerToken(r, HeaderData)
}

func headerToken(r *http.Request, name string) (string, error) {
	vs := r.Header[name]
	switch len(vs) {
	case 0:
		return "", newError(cognitoguard.ErrNoToken, "no "+name+" header", nil)
	case 1:
	default:
		return "", newError(cognitoguard.ErrNoToken, "several "+name+" headers", middleware.ErrInvalidRequest)
	}
	v := strings.Trim(vs[0], " \t")
	switch {
	case v == "":
		return "", newError(cognitoguard.ErrNoToken, "empty "+name+" header", nil)
	case len(v) > cognitoguard.DefaultMaxTokenSize:
		return "", malformed("token larger than the limit")
	}
	return v, nil
}

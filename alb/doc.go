// Package alb serves apps behind an AWS Application Load Balancer that
// authenticates users with Amazon Cognito (or another OIDC provider). The
// load balancer adds three headers to every request it lets through:
//
//	x-amzn-oidc-accesstoken  the provider's access token (for Cognito, the user pool's)
//	x-amzn-oidc-identity     the user's sub, unsigned
//	x-amzn-oidc-data         the user's claims, signed by the load balancer
//
// # The access token: verification and sign-outs
//
// The Cognito access token carries auth_time and origin_jti, so it is the
// one sign-outs apply to. [AccessTokenExtractor] lets the cognitoguard
// middleware read it instead of the Authorization header; everything else
// — keys, issuer, client, expiry, revocation store — is the usual
// cognitoguard configuration:
//
//	access := middleware.New(v, middleware.Config{Extractor: alb.AccessTokenExtractor})
//
// # The data token
//
// The data token is no Cognito token: it is ES256, its segments are
// base64url with "=" padding, its signature is the raw 64-byte R‖S, its
// header names the load balancer (signer, an ARN) and the key (kid), and
// the key is a PEM file at
// https://public-keys.auth.elb.{region}.amazonaws.com/{kid}. [Verifier]
// checks it on its own — the RS256 allow-list of the cognitoguard Verifier
// is never widened: alg exactly ES256, kid a UUID, signer one of the
// configured ARNs (pin yours: any ALB of any account signs with these
// keys), exp, and optionally client and iss. Keys are fetched on first
// use, per kid (concurrent misses share one fetch), with a timeout and a
// 16 KiB body limit, and kept (bounded); a kid the endpoint does not know
// (403/404) is remembered for a while (bounded too), so tokens with random
// kids cost one fetch each and never hold back a real new key by a
// cooldown. A kid that cannot be fetched is a 503, never a 401.
//
// The data token has no auth_time (nor iat): it cannot show that its user
// signed out, and a load balancer keeps minting it for the life of its
// session cookie. Sign-outs hold through the access token only: always
// verify the access token with revocation, and use [NewMiddleware] behind
// it, which also requires both tokens to name the same user.
//
// # Quick start
//
//	av, err := alb.NewVerifier([]string{"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"},
//		alb.Config{ClientIDs: []string{clientID}})
//	if err != nil {
//		return err
//	}
//	access := middleware.New(cognitoVerifier, middleware.Config{Extractor: alb.AccessTokenExtractor})
//	data := alb.NewMiddleware(av, alb.MiddlewareConfig{})
//	http.ListenAndServe(addr, access(data(app)))
//
// Tests need no AWS: cognitotest.ALB mints data tokens and serves its
// keys (set [Config.KeyURL] to its KeyURL).
package alb

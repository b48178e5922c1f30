package cognitoguard

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by [Verifier.Verify] matches exactly
// one of the class sentinels [ErrNoToken], [ErrInvalidToken],
// [ErrInsufficientScope] or [ErrUnavailable] with [errors.Is], and, for
// invalid tokens, also the specific sentinel that names the failed check.
//
// Map them to HTTP like this (the middleware package does it for you):
//
//	ErrNoToken           401  WWW-Authenticate: Bearer realm="…"
//	ErrInvalidToken      401  WWW-Authenticate: Bearer error="invalid_token"
//	ErrInsufficientScope 403  WWW-Authenticate: Bearer error="insufficient_scope"
//	ErrUnavailable       503  Retry-After
var (
	// ErrNoToken means the request carried no token at all.
	ErrNoToken = errors.New("cognitoguard: no token")

	// ErrInvalidRequest marks a request that carries its credentials
	// ambiguously: several Authorization headers (or gRPC authorization
	// values, or ALB token headers), or several token cookies. Such a
	// request is not given the benefit of the doubt. Errors matching it
	// are of class [ErrNoToken] (no usable token was found); package
	// middleware answers them 401 with error="invalid_request".
	ErrInvalidRequest = errors.New("cognitoguard: ambiguous credentials")

	// ErrInvalidToken is the class of every token that must be rejected
	// with 401: each of the specific sentinels below that names a token
	// check matches it too.
	ErrInvalidToken = errors.New("cognitoguard: invalid token")

	// ErrMalformed: not a compact RS256 JWS of the expected shape (segments,
	// base64url, JSON objects, size, alg, kid, claim types, duplicate keys).
	ErrMalformed = errors.New("cognitoguard: malformed token")
	// ErrUnknownKey: the kid is not in the issuer's key set (after the
	// throttled refetch).
	ErrUnknownKey = errors.New("cognitoguard: unknown signing key")
	// ErrSignature: the RS256 signature does not verify.
	ErrSignature = errors.New("cognitoguard: bad signature")
	// ErrIssuer: iss is not one of the configured issuers.
	ErrIssuer = errors.New("cognitoguard: wrong issuer")
	// ErrTokenUse: token_use is missing or not the configured one.
	ErrTokenUse = errors.New("cognitoguard: wrong token use")
	// ErrClient: client_id (access) or aud (id) is missing or not allowed.
	ErrClient = errors.New("cognitoguard: wrong client")
	// ErrExpired: exp is missing or not in the future (after leeway).
	ErrExpired = errors.New("cognitoguard: token expired")
	// ErrNotYetValid: nbf, iat or auth_time is in the future (after leeway).
	ErrNotYetValid = errors.New("cognitoguard: token not yet valid")
	// ErrRevoked: the user signed out after the token's authentication, or
	// the token's session (origin_jti) was revoked.
	ErrRevoked = errors.New("cognitoguard: token revoked")

	// ErrInsufficientScope: the token is valid but lacks a required scope
	// or group, or a custom check refused it (403).
	ErrInsufficientScope = errors.New("cognitoguard: insufficient scope")

	// ErrUnavailable: the token could not be fully checked because a
	// dependency (the JWKS endpoint, the revocation store) is unavailable.
	// The token is NOT accepted (fail closed); answer 503 and let the client
	// retry.
	ErrUnavailable = errors.New("cognitoguard: verification unavailable")
)

// Error is the detailed error returned by [Verifier.Verify]. Kind is one of
// the package sentinels; errors.Is matches Kind and its class (for example
// [ErrExpired] and [ErrInvalidToken]). Reason is a short human text meant
// for logs, never for clients; it never contains the token.
type Error struct {
	Kind   error
	Reason string
	Err    error // underlying cause, if any
	// Subject is the sub of a token whose signature verified before the
	// failure (expired, wrong client, revoked, …), for logs; empty when the
	// token was not authentic. It is not part of Error().
	Subject string
	// TokenUse is the token_use of a token rejected as revoked
	// ([ErrRevoked]), empty for other failures, so that an answer can
	// word it as Cognito does: "Access Token has been revoked" for an
	// access token, "Token has been revoked" for an ID token.
	TokenUse TokenUse
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is reports whether target is e's Kind or e's class sentinel.
func (e *Error) Is(target error) bool {
	return target == e.Kind || target == classOf(e.Kind)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func classOf(kind error) error {
	switch kind {
	case ErrNoToken, ErrInsufficientScope, ErrUnavailable, ErrInvalidToken:
		return kind
	default:
		return ErrInvalidToken
	}
}

func newError(kind error, reason string, cause error) *Error {
	return &Error{Kind: kind, Reason: reason, Err: cause}
}

// Class returns the class sentinel err belongs to: [ErrNoToken],
// [ErrInvalidToken], [ErrInsufficientScope] or [ErrUnavailable]. Any other
// error (nil excluded) is reported as [ErrUnavailable], so that an unknown
// failure is never mistaken for a client's mistake nor for success.
// Class(nil) is nil.
func Class(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoToken):
		return ErrNoToken
	case errors.Is(err, ErrInsufficientScope):
		return ErrInsufficientScope
	case errors.Is(err, ErrUnavailable):
		return ErrUnavailable
	case errors.Is(err, ErrInvalidToken):
		return ErrInvalidToken
	}
	// A bare or wrapped specific sentinel (not an *Error) still belongs to
	// the invalid-token class.
	for _, k := range invalidKinds {
		if errors.Is(err, k) {
			return ErrInvalidToken
		}
	}
	return ErrUnavailable
}

var invalidKinds = [...]error{ErrMalformed, ErrUnknownKey, ErrSignature, ErrIssuer, ErrTokenUse, ErrClient, ErrExpired, ErrNotYetValid, ErrRevoked}

package cognitoguard

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"time"

	"github.com/cognitoguard/cognitoguard/jwks"
)

// Default bounds.
const (
	// DefaultMaxTokenSize is the largest token Verify reads (16 KiB).
	DefaultMaxTokenSize = 16 << 10
	// DefaultCacheSize is the default number of verified tokens remembered.
	DefaultCacheSize = 4096
)

// KeySource returns the RSA public key for a kid. [*jwks.Set] is the
// default implementation. Errors matching [jwks.ErrKeyNotFound] make the
// token invalid ([ErrUnknownKey]); any other error makes verification
// unavailable ([ErrUnavailable]). Implementations MUST be safe for
// concurrent use.
type KeySource interface {
	Key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// RevocationChecker is consulted for every token that passed all other
// checks, cached tokens included. The stores of package revocation
// implement it.
//
// Revoked reports whether the token described by c was revoked: its user
// signed out at or after c.AuthenticatedAt(), or its session (origin_jti)
// was revoked. A non-nil error means the answer is unknown; Verify then
// fails with [ErrUnavailable] (fail closed) unless
// [Config.RevocationFailOpen] is set. Implementations MUST be safe for
// concurrent use and SHOULD answer from memory in steady state: Revoked is
// on every request's path.
type RevocationChecker interface {
	Revoked(ctx context.Context, c *Claims) (bool, error)
}

// Pool describes one Cognito user pool whose tokens a [Verifier] accepts.
type Pool struct {
	// UserPoolID is the pool id, such as "eu-west-1_AbCdEf123". Its
	// region prefix gives the default Issuer.
	UserPoolID string

	// Issuer is the exact iss value accepted. Default:
	// https://cognito-idp.{region}.amazonaws.com/{UserPoolID}. Set it for
	// multi-Region issuers (issuer-cognito-idp…), emulators and tests. It
	// is never read from the token. It must not end with a slash.
	Issuer string

	// JWKSURL is where the keys are fetched. Default: Issuer +
	// "/.well-known/jwks.json". It must be https, or http to a loopback
	// host (tests, emulators).
	JWKSURL string

	// Keys, if set, replaces the JWKS fetcher (JWKSURL is then ignored).
	Keys KeySource

	// ClientIDs are the app clients whose tokens are accepted: client_id
	// of access tokens, aud of ID tokens. It must not be empty unless
	// AnyClient is set.
	ClientIDs []string

	// AnyClient disables the client check. It MUST only be set when every
	// app client of the pool is trusted with this service: any of them can
	// then call it.
	AnyClient bool
}

// Config holds the optional settings of a [Verifier]. Its zero value is
// the secure default: access tokens only, no leeway, 16 KiB token limit,
// no revocation store, fail closed.
type Config struct {
	// Issuer and JWKSURL override the defaults of the pool built by
	// [NewVerifier] (see [Pool]). [New] rejects them: set them per Pool.
	Issuer  string
	JWKSURL string

	// TokenUse is the accepted token_use. Zero means [TokenUseAccess].
	TokenUse TokenUse

	// Leeway tolerates clock skew on exp, nbf and iat. Default 0. It must
	// be between 0 and 5 minutes.
	Leeway time.Duration

	// MaxTokenSize bounds the token length in bytes. Default
	// [DefaultMaxTokenSize].
	MaxTokenSize int

	// RequiredScopes must all be in the token's scope claim (ID tokens
	// have none, so they fail). Failure: [ErrInsufficientScope].
	RequiredScopes []string

	// RequiredGroups: the user must be in at least one of them
	// (cognito:groups). Failure: [ErrInsufficientScope].
	RequiredGroups []string

	// Check, if set, runs after every other check except revocation, on
	// every call (cached tokens included). A returned error that matches
	// none of this package's classes is reported as
	// [ErrInsufficientScope] (403) wrapping it.
	Check func(ctx context.Context, c *Claims) error

	// Revocation is consulted for every token; nil disables revocation.
	Revocation RevocationChecker

	// RevocationFailOpen accepts tokens when Revocation errors, logging
	// each such acceptance at Warn. Default false: such tokens fail with
	// [ErrUnavailable]. Setting it MUST be a deliberate choice: during a
	// store outage signed-out users get in.
	RevocationFailOpen bool

	// CacheSize bounds the cache of verified tokens, which makes a repeat
	// token cost a map lookup instead of an RSA verification. Default
	// [DefaultCacheSize]; negative disables the cache. It also bounds the
	// cache's memory to CacheSize × 4 KiB, whatever the token sizes. A
	// cached token is still checked for expiry, Check and revocation on
	// every call.
	CacheSize int

	// Now is the clock. Default time.Now.
	Now func() time.Time

	// HTTPClient fetches the JWKS. If nil, the jwks package builds one with
	// a timeout (never http.DefaultClient).
	HTTPClient *http.Client

	// JWKS tunes the key fetchers the Verifier creates (cooldown, fetch
	// timeout, body limit). Its HTTPClient, Now and Logger default to the
	// fields above.
	JWKS jwks.Config

	// Logger receives Warn records for fail-open acceptances. Nil discards.
	Logger *slog.Logger
}

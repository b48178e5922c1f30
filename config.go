package cognitoguard

import (
	"context"
	"crypto/rsa"
	"log/slog"
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
// concurrent use. A source may also implement the optional [Readier],
// [KeyRefresher] and [KeyVersioner]; without KeyVersioner, it is asked
// for the key of a cached token at every cache hit.
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

// RevocationCheckerAt is a [RevocationChecker] that takes the time of the
// request, so that a repeated request reads the clock once: for a token
// from its cache, the Verifier calls RevokedAt instead of Revoked, with
// now the instant its expiry check used, when its clock is the real one
// ([Config.Now] nil; a test clock is never shared). now carries a monotonic reading (see package time);
// implementations MAY use it for their own freshness checks instead of
// reading the clock, and MUST otherwise answer as Revoked would.
// *redisstore.Store implements it.
type RevocationCheckerAt interface {
	RevocationChecker
	RevokedAt(ctx context.Context, c *Claims, now time.Time) (bool, error)
}

// Pool describes one Cognito user pool whose tokens a [Verifier] accepts.
// A user is identified by (UserPoolID, sub) whichever of the pool's
// issuers minted the token: a sign-out recorded through one issuer rejects
// the user's tokens of all of them.
type Pool struct {
	// UserPoolID is the pool ID, such as "eu-west-1_AbCdEf123". Sign-outs
	// are keyed by it. It is required, except when Issuers are given in
	// AWS format and all end with the same pool ID (it is then derived).
	// Two Pools of a Verifier must not share it.
	UserPoolID string

	// Regions lists the replica regions of multi-Region replication: the
	// original-format issuer of each is accepted too (see
	// [DefaultIssuers]). Ignored when Issuers is set.
	Regions []string

	// Issuers, if set, replaces the default issuers ([DefaultIssuers] of
	// UserPoolID and Regions), for emulators and tests: then nothing is
	// fetched from AWS hosts. Each issuer is an exact iss value, never read
	// from the token, without a trailing slash; the first is the home
	// issuer (warmed by [Verifier.Refresh]).
	Issuers []string

	// Keys, if set, serves the keys of every issuer of the pool (nothing is
	// fetched). Otherwise each issuer's keys are fetched lazily from
	// issuer + "/.well-known/jwks.json", which must be https or http to a
	// loopback host. A default issuer other than the home one whose key
	// endpoint answers 4xx (a pool not opted into the updated issuer
	// format answers 403) makes its tokens invalid ([ErrUnknownKey]), not
	// unavailable.
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
	// (cognito:groups). Failure: [ErrInsufficientScope]. Group names are
	// pool-agnostic: with several pools, a member of a group of that name
	// in any of them passes. Where a group MUST belong to one pool, check
	// [Claims.UserPoolID] too (in Check).
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

	// Now is the clock. Default time.Now, which is then also the clock of
	// a [RevocationCheckerAt]'s freshness check (one read per request).
	Now func() time.Time

	// JWKS tunes the key fetchers the Verifier creates: the HTTP client
	// (default: one with a timeout, never http.DefaultClient; any client
	// refuses https→http redirects), cooldown, fetch timeout, body limit.
	// Its Now and Logger default to the fields of this Config.
	JWKS jwks.Config

	// Logger receives Warn records for fail-open acceptances and the key
	// fetchers' records; the adapters built on the Verifier (middleware,
	// sign-out helper and handlers) log there too. Nil: the Revocation
	// store's logger when it has a Logger method (the stores of package
	// revocation do), so that a service sets its logger once, on whatever
	// it builds first; else nothing is logged.
	Logger *slog.Logger

	// OnVerify, if set, is called after every Verify and Authenticate with
	// its outcome, for metrics and traces (see the otelguard module). It
	// runs on the caller's goroutine and MUST be fast and safe for
	// concurrent use. Nil costs nothing: no clock is read.
	OnVerify func(ctx context.Context, ev VerifyEvent)
}

// VerifyEvent describes one completed [Verifier.Verify] or
// [Verifier.Authenticate] call. It never carries the token.
type VerifyEvent struct {
	Claims       *Claims       // the verified claims; nil when Err is set
	Err          error         // nil: accepted; else an [*Error] ([Class] gives its class)
	Cached       bool          // answered from the token cache (no signature check)
	Authenticate bool          // the call was Authenticate, not Verify
	Duration     time.Duration // wall time of the call
}

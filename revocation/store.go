package revocation

import (
	"context"
	"errors"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

// Store records sign-outs and answers the [cognitoguard.Verifier] through
// [cognitoguard.RevocationChecker]. [*Memory] implements it, and
// the Redis store of package [github.com/cognitoguard/cognitoguard/revocation/redisstore].
// Implementations are safe for concurrent use.
//
// Times are kept at millisecond precision; a token's authentication time
// (auth_time, or iat when absent; [cognitoguard.Claims.AuthenticatedAt]) is
// a whole second. A token is revoked when
//
//	authenticatedAt_seconds*1000 <= T_milliseconds
//
// so a new sign-in within the same second as a sign-out is rejected too (fail
// closed; the user signs in again a second later).
type Store interface {
	cognitoguard.RevocationChecker

	// RevokeUser records that the user sub of the user pool poolID (e.g.
	// "eu-west-1_AbCdEf123", [cognitoguard.Claims.UserPoolID]) signed out
	// at at: every token of that user, from any issuer of the pool (access
	// and ID, refreshed ones too), authenticated at or before at is
	// revoked. The latest at wins: an older at never lowers a recorded one.
	// It is idempotent.
	RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error

	// RevokeUserSince is RevokeUser for a retried sign-out of a token
	// authenticated at since: if a user sign-out at or after since is
	// already recorded, that time is kept (a sign-in made after it stays
	// valid) and, in a shared store, published again; otherwise at is
	// recorded. It returns the time in force and whether it was kept. The
	// rule is decided with the write, never by a read before it.
	RevokeUserSince(ctx context.Context, poolID, sub string, since, at time.Time) (time.Time, bool, error)

	// RevokeSession records that the session originJTI (the origin_jti
	// claim, one sign-in and its refreshes) of user sub was revoked at at:
	// tokens carrying that origin_jti and authenticated at or before at are
	// revoked. Tokens without origin_jti are not affected. Idempotent,
	// latest at wins.
	RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error

	// SignedOutAt returns the latest live user sign-out of sub (session
	// revocations excluded), and false if there is none.
	SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error)

	// RevokeClient records that the app client clientID of pool poolID
	// was revoked at at (a leaked or rotated client secret): every token
	// issued to it (client_id of an access token, aud of an ID token)
	// whose iat is at or before at is revoked — client-credentials (M2M)
	// tokens and the tokens of users signed in through that client alike;
	// tokens issued later pass. Cognito has no call that revokes a
	// client's tokens: this record, kept only in the store, is the whole
	// revocation. Idempotent, latest at wins, expires TTL after at like
	// the other records.
	RevokeClient(ctx context.Context, poolID, clientID string, at time.Time) error

	// ClientRevokedAt returns the latest live revocation of the app
	// client clientID, and false if there is none.
	ClientRevokedAt(ctx context.Context, poolID, clientID string) (time.Time, bool, error)
}

// ErrUnavailable is matched (errors.Is) by every error a store returns
// because it cannot answer or record: Redis unreachable or too slow, the
// local view possibly stale, the in-memory store full. The Verifier turns it
// into [cognitoguard.ErrUnavailable] (503, fail closed). A write that failed
// with it MAY have been applied; retrying is safe.
var ErrUnavailable = errors.New("revocation: store unavailable")

// ErrUnconfirmed is matched, together with [ErrUnavailable], by a write
// that Redis recorded but that was not confirmed as asked:
// the replicas or instances the store was
// configured to wait for did not acknowledge it within Timeout. The record is in Redis
// and published, so every instance that read or received it rejects the
// tokens; retrying is safe and completes the confirmation.
var ErrUnconfirmed = errors.New("revocation: sign-out recorded, not confirmed")

// MaxAhead bounds how far past a store's clock a sign-out time may be
// (10 minutes: the sign-out helper's largest move, 5 minutes, plus clock
// skew between hosts). Writes with a later time fail (an argument error,
// not [ErrUnavailable]); a shared store ignores messages carrying one, so
// that no one can lock a user's later sign-ins out for longer.
const MaxAhead = record.MaxAhead

// DefaultTTL is how long a record lives after its time T: the longest
// Cognito token lifetime (1 day) plus 5 minutes of leeway. Past T+TTL every
// token authenticated at or before T has expired anyway.
const DefaultTTL = 24*time.Hour + 5*time.Minute

// Compile-time check.
var _ Store = (*Memory)(nil)

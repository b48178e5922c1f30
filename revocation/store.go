package revocation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cognitoguard/cognitoguard"
)

// Store records sign-outs and answers the [cognitoguard.Verifier] through
// [cognitoguard.RevocationChecker]. [*Memory] and [*Redis] implement it.
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

	// RevokeSession records that the session originJTI (the origin_jti
	// claim, one sign-in and its refreshes) of user sub was revoked at at:
	// tokens carrying that origin_jti and authenticated at or before at are
	// revoked. Tokens without origin_jti are not affected. Idempotent,
	// latest at wins.
	RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error

	// SignedOutAt returns the latest live user sign-out of sub (session
	// revocations excluded), and false if there is none.
	SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error)
}

// ErrUnavailable is matched (errors.Is) by every error a store returns
// because it cannot answer or record: Redis unreachable or too slow, the
// local view possibly stale, the in-memory store full. The Verifier turns it
// into [cognitoguard.ErrUnavailable] (503, fail closed). A write that failed
// with it MAY have been applied; retrying is safe.
var ErrUnavailable = errors.New("revocation: store unavailable")

// ErrUnconfirmed is matched, together with [ErrUnavailable], by a write
// that Redis recorded but that was not confirmed as asked:
// [RedisConfig.WaitReplicas] replicas or [RedisConfig.WaitInstances]
// instances did not acknowledge it within Timeout. The record is in Redis
// and published, so every instance that read or received it rejects the
// tokens; retrying is safe and completes the confirmation.
var ErrUnconfirmed = errors.New("revocation: sign-out recorded, not confirmed")

// DefaultTTL is how long a record lives after its time T: the longest
// Cognito token lifetime (1 day) plus 5 minutes of leeway. Past T+TTL every
// token authenticated at or before T has expired anyway.
const DefaultTTL = 24*time.Hour + 5*time.Minute

// userKey identifies a user across pools. Stored keys MUST own their
// strings (strings.Clone): claim strings alias the token payload.
type userKey struct{ pool, sub string }

// claimsKey is the key of c's user, or an error when c names no pool.
func claimsKey(c *cognitoguard.Claims) (userKey, error) {
	switch {
	case c == nil:
		return userKey{}, errors.New("revocation: nil claims")
	case c.UserPoolID == "":
		return userKey{}, errors.New("revocation: claims without a user pool ID")
	}
	return userKey{c.UserPoolID, c.Subject}, nil
}

// authMillis is the token's authentication time in Unix milliseconds,
// truncated to the second as the claims are.
func authMillis(c *cognitoguard.Claims) int64 {
	return c.AuthenticatedAt().Unix() * 1000
}

// checkArgs validates the arguments of a write.
func checkArgs(poolID, sub string, at time.Time) (int64, error) {
	switch {
	case poolID == "":
		return 0, errors.New("revocation: empty user pool ID")
	case sub == "":
		return 0, errors.New("revocation: empty sub")
	case strings.IndexByte(poolID, 0) >= 0 || strings.IndexByte(sub, 0) >= 0:
		return 0, errors.New("revocation: NUL byte in user pool ID or sub")
	}
	ms := at.UnixMilli()
	if at.IsZero() || ms <= 0 {
		return 0, fmt.Errorf("revocation: sign-out time %v is not after 1970", at)
	}
	return ms, nil
}

// checkSession validates an origin_jti.
func checkSession(originJTI string) error {
	switch {
	case originJTI == "":
		return errors.New("revocation: empty origin_jti")
	case strings.IndexByte(originJTI, 0) >= 0:
		return errors.New("revocation: NUL byte in origin_jti")
	}
	return nil
}

// entry is what a store knows of one user. The zero entry means "no record"
// (cached negative answer).
type entry struct {
	user     int64            // latest user sign-out, Unix ms; 0: none
	sessions map[string]int64 // origin_jti → latest session revocation, Unix ms
}

// revoked applies the revocation rule. Records whose T+ttl is before now
// are ignored (expired); now is only called when a record would match. It
// does not allocate.
func (e *entry) revoked(c *cognitoguard.Claims, now func() time.Time, ttlMs int64) bool {
	a := authMillis(c)
	if e.user != 0 && a <= e.user && e.user+ttlMs >= now().UnixMilli() {
		return true
	}
	if c.OriginJTI != "" && e.sessions != nil {
		if t, ok := e.sessions[c.OriginJTI]; ok && a <= t && t+ttlMs >= now().UnixMilli() {
			return true
		}
	}
	return false
}

// signedOut returns the live user sign-out time.
func (e *entry) signedOut(nowMs, ttlMs int64) (time.Time, bool) {
	if e.user == 0 || e.user+ttlMs < nowMs {
		return time.Time{}, false
	}
	return time.UnixMilli(e.user), true
}

// Compile-time checks.
var (
	_ Store = (*Memory)(nil)
	_ Store = (*Redis)(nil)
)

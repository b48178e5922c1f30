// Package record holds what the revocation stores share: the key of a
// user, what a store knows of one user, the validation of writes, and the
// revocation rule ([Revoked]) that every store applies. It does no I/O.
package record

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cognitoguard/cognitoguard"
)

// MaxInterned bounds the pool IDs a store shares between its entries (a
// process verifies tokens of a handful of pools).
const MaxInterned = 64

// MaxAhead bounds how far past a store's clock a sign-out time may be: the
// sign-out helper's largest move (a token's auth_time up to 5 minutes
// ahead, the Verifier's largest Leeway) plus 5 minutes of clock skew
// between hosts. A later time is refused when written and ignored when
// received, so that no one can lock a user out for longer.
const MaxAhead = 10 * time.Minute

// MaxField bounds the bytes of a pool ID, sub or origin_jti (Cognito's are
// under 100): a record, a message and a journal entry stay small.
const MaxField = 1024

// Key identifies a user across pools. Stored keys MUST own their strings
// (strings.Clone): claim strings alias the token payload.
type Key struct{ Pool, Sub string }

// ClaimsKey is the key of c's user, or an error when c names no pool.
func ClaimsKey(c *cognitoguard.Claims) (Key, error) {
	switch {
	case c == nil:
		return Key{}, errors.New("revocation: nil claims")
	case c.UserPoolID == "":
		return Key{}, errors.New("revocation: claims without a user pool ID")
	case c.Subject == "":
		return Key{}, errors.New("revocation: claims without a sub")
	}
	return Key{c.UserPoolID, c.Subject}, nil
}

// ClientsKey is the key of the app-client revocations of pool: an Entry
// whose Sessions map client_id to the time T of its revocation (its User
// is unused). Its Sub is empty, which no user's is (CheckArgs,
// ClaimsKey), so the stores keep it beside the users without a collision.
func ClientsKey(pool string) Key { return Key{Pool: pool} }

// CheckClient validates a client_id.
func CheckClient(clientID string) error {
	switch {
	case clientID == "":
		return errors.New("revocation: empty client_id")
	case strings.IndexByte(clientID, 0) >= 0:
		return errors.New("revocation: NUL byte in client_id")
	case len(clientID) > MaxField:
		return fmt.Errorf("revocation: client_id longer than %d bytes", MaxField)
	}
	return nil
}

// AuthMillis is the token's authentication time in Unix milliseconds,
// truncated to the second as the claims are.
func AuthMillis(c *cognitoguard.Claims) int64 {
	return c.AuthenticatedAt().Unix() * 1000
}

// CheckArgs validates the arguments of a write and returns at in Unix ms.
func CheckArgs(poolID, sub string, at time.Time) (int64, error) {
	switch {
	case poolID == "":
		return 0, errors.New("revocation: empty user pool ID")
	case sub == "":
		return 0, errors.New("revocation: empty sub")
	case strings.IndexByte(poolID, 0) >= 0 || strings.IndexByte(sub, 0) >= 0:
		return 0, errors.New("revocation: NUL byte in user pool ID or sub")
	case len(poolID) > MaxField || len(sub) > MaxField:
		return 0, fmt.Errorf("revocation: user pool ID or sub longer than %d bytes", MaxField)
	}
	ms := at.UnixMilli()
	if at.IsZero() || ms <= 0 {
		return 0, fmt.Errorf("revocation: sign-out time %v is not after 1970", at)
	}
	return ms, nil
}

// CheckSession validates an origin_jti.
func CheckSession(originJTI string) error {
	switch {
	case originJTI == "":
		return errors.New("revocation: empty origin_jti")
	case strings.IndexByte(originJTI, 0) >= 0:
		return errors.New("revocation: NUL byte in origin_jti")
	case len(originJTI) > MaxField:
		return fmt.Errorf("revocation: origin_jti longer than %d bytes", MaxField)
	}
	return nil
}

// CheckAhead refuses a sign-out time t (Unix ms) more than MaxAhead past
// nowMs.
func CheckAhead(t, nowMs int64) error {
	if t > nowMs+MaxAhead.Milliseconds() {
		return fmt.Errorf("revocation: sign-out time %v is more than %v ahead of this clock", time.UnixMilli(t).UTC(), MaxAhead)
	}
	return nil
}

// Entry is what a store knows of one user. The zero Entry means "no
// record" (a cached negative answer).
type Entry struct {
	User     int64            // latest user sign-out, Unix ms; 0: none
	Sessions map[string]int64 // origin_jti → latest session revocation, Unix ms
}

// Revoked is the revocation rule, the one place it is decided. c is
// revoked when a live record at or after its authentication time matches
// it: the user's sign-out (e.User), its session's revocation (e.Sessions
// by origin_jti), or floor, the time of a data loss the store could not
// prove restored (every token authenticated at or before it; 0: none). An
// app client's revocation (clients, the Entry at ClientsKey, by c's
// client_id or aud) matches every token issued to that client, M2M and
// user tokens alike, whose iat (not auth_time: a client-credentials token
// has none, and a user token refreshed after the revocation was issued
// after it) is at or before its T. A record at T is live while T+ttlMs is
// not before now; since a later T outlives an earlier one, only the latest
// matching T is tested, and now is called only when one matches. e and
// clients may be nil (no record). It does not allocate.
func Revoked(c *cognitoguard.Claims, e, clients *Entry, floor int64, now func() time.Time, ttlMs int64) bool {
	a := AuthMillis(c)
	var t int64 // the latest matching record; 0: none
	if floor != 0 && a <= floor {
		t = floor
	}
	if e != nil {
		if e.User != 0 && a <= e.User {
			t = max(t, e.User)
		}
		if c.OriginJTI != "" && e.Sessions != nil {
			if s, ok := e.Sessions[c.OriginJTI]; ok && a <= s {
				t = max(t, s)
			}
		}
	}
	if clients != nil && clients.Sessions != nil {
		if s, ok := clients.Sessions[c.ClientID]; ok && c.IssuedAt.Unix()*1000 <= s {
			t = max(t, s)
		}
	}
	return t != 0 && t+ttlMs >= now().UnixMilli()
}

// Session returns the live time of e's session (or app client) id at
// nowMs.
func (e *Entry) Session(id string, nowMs, ttlMs int64) (time.Time, bool) {
	t, ok := e.Sessions[id]
	if !ok || t+ttlMs < nowMs {
		return time.Time{}, false
	}
	return time.UnixMilli(t), true
}

// SignedOut returns the live user sign-out time of e at nowMs.
func (e *Entry) SignedOut(nowMs, ttlMs int64) (time.Time, bool) {
	if e.User == 0 || e.User+ttlMs < nowMs {
		return time.Time{}, false
	}
	return time.UnixMilli(e.User), true
}

package revocation

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

// DefaultMemoryMaxEntries is the default bound of a [Memory] store.
const DefaultMemoryMaxEntries = 1_000_000

// MemoryConfig holds the optional settings of [NewMemory]. Its zero value is
// the default.
type MemoryConfig struct {
	// TTL is how long a record lives after its sign-out time T: records
	// with T+TTL in the past are ignored and purged. Default [DefaultTTL]
	// (24h5m). It MUST be at least the longest token lifetime of the pools
	// (Cognito allows up to 1 day), or tokens revoked less than their
	// lifetime ago would pass again.
	TTL time.Duration

	// MaxEntries bounds the number of records (each user sign-out, each
	// revoked session and each revoked app client is one record). Default [DefaultMemoryMaxEntries];
	// BENCHMARKS.md gives the bytes per record. When full, expired records
	// are purged first; if none can be, the write fails with
	// [ErrUnavailable]: a live sign-out is never dropped silently.
	MaxEntries int

	// Now is the clock. Default time.Now.
	Now func() time.Time

	// Logger receives a Warn record when the store is full. Nil discards.
	Logger *slog.Logger
}

// Memory is the in-process [Store]: sign-outs recorded in one process are
// honoured by that process only. Use it for a single instance (it is the
// embedded default) and in tests; use the Redis store of package redisstore when several instances serve
// the same users.
//
// Memory owns no goroutine: expired records are purged lazily by writes.
// Revoked is a read-locked map lookup that does not allocate. It is safe for
// concurrent use; the zero value is not usable, call [NewMemory].
type Memory struct {
	ttlMs int64
	max   int
	now   func() time.Time
	log   *slog.Logger

	mu        sync.RWMutex
	users     map[record.Key]*record.Entry
	pools     map[string]string // interned pool IDs
	n         int               // records (user sign-outs, sessions, app clients), expired ones included until purged
	clients   int               // app-client records among n: while 0, Revoked makes one map lookup
	minExp    int64             // lower bound of the earliest expiry (Unix ms) among records
	lastPurge int64             // Unix ms
}

// NewMemory returns an in-process store.
func NewMemory(cfg MemoryConfig) *Memory {
	m := &Memory{
		ttlMs:  cfg.TTL.Milliseconds(),
		max:    cfg.MaxEntries,
		now:    cfg.Now,
		log:    cfg.Logger,
		users:  make(map[record.Key]*record.Entry),
		pools:  make(map[string]string),
		minExp: math.MaxInt64,
	}
	if cfg.TTL <= 0 {
		m.ttlMs = DefaultTTL.Milliseconds()
	}
	if m.max <= 0 {
		m.max = DefaultMemoryMaxEntries
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m
}

// Revoked reports whether c's user signed out, or c's session was revoked,
// at or after c's authentication time, or c's app client was revoked at or
// after c's iat. While the store holds no app-client record, that last
// check costs nothing. It fails only for claims without pool or sub.
func (m *Memory) Revoked(_ context.Context, c *cognitoguard.Claims) (bool, error) {
	k, err := record.ClaimsKey(c)
	if err != nil {
		return false, err
	}
	m.mu.RLock()
	e := m.users[k]
	var ce *record.Entry
	if m.clients != 0 {
		ce = m.users[record.ClientsKey(k.Pool)]
	}
	r := (e != nil || ce != nil) && record.Revoked(c, e, ce, 0, m.now, m.ttlMs)
	m.mu.RUnlock()
	return r, nil
}

// RevokeUser implements [Store.RevokeUser]. It fails with [ErrUnavailable]
// only when the store is full of live records.
func (m *Memory) RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error {
	t, err := record.CheckArgs(poolID, sub, at)
	if err != nil {
		return err
	}
	return m.write(ctx, poolID, sub, "", t)
}

// RevokeUserSince implements [Store.RevokeUserSince] under the store's
// lock. It fails with [ErrUnavailable] only when the store is full of live
// records.
func (m *Memory) RevokeUserSince(ctx context.Context, poolID, sub string, since, at time.Time) (time.Time, bool, error) {
	t, err := record.CheckArgs(poolID, sub, at)
	if err != nil {
		return time.Time{}, false, err
	}
	keep := max(since.UnixMilli(), 1)
	nowMs := m.now().UnixMilli()
	if err := record.CheckAhead(t, nowMs); err != nil {
		return time.Time{}, false, err
	}
	m.mu.Lock()
	if e := m.users[record.Key{Pool: poolID, Sub: sub}]; e != nil && e.User >= keep && e.User+m.ttlMs >= nowMs {
		kept := e.User
		m.mu.Unlock()
		return time.UnixMilli(kept), kept != t, nil
	}
	m.mu.Unlock()
	// Between the unlock and write a concurrent writer may record a later
	// time: write keeps the latest, which is what a retry keeps too.
	return at, false, m.write(ctx, poolID, sub, "", t)
}

// RevokeSession implements [Store.RevokeSession]. It fails with
// [ErrUnavailable] only when the store is full of live records.
func (m *Memory) RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error {
	t, err := record.CheckArgs(poolID, sub, at)
	if err != nil {
		return err
	}
	if err := record.CheckSession(originJTI); err != nil {
		return err
	}
	return m.write(ctx, poolID, sub, originJTI, t)
}

// RevokeClient implements [Store.RevokeClient]. It fails with
// [ErrUnavailable] only when the store is full of live records.
func (m *Memory) RevokeClient(ctx context.Context, poolID, clientID string, at time.Time) error {
	if err := record.CheckClient(clientID); err != nil {
		return err
	}
	t, err := record.CheckArgs(poolID, clientID, at)
	if err != nil {
		return err
	}
	return m.write(ctx, poolID, "", clientID, t)
}

// ClientRevokedAt implements [Store.ClientRevokedAt]; it never fails.
func (m *Memory) ClientRevokedAt(_ context.Context, poolID, clientID string) (time.Time, bool, error) {
	nowMs := m.now().UnixMilli()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e := m.users[record.ClientsKey(poolID)]; e != nil {
		t, ok := e.Session(clientID, nowMs, m.ttlMs)
		return t, ok, nil
	}
	return time.Time{}, false, nil
}

// SignedOutAt implements [Store.SignedOutAt]; it never fails.
func (m *Memory) SignedOutAt(_ context.Context, poolID, sub string) (time.Time, bool, error) {
	nowMs := m.now().UnixMilli()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e := m.users[record.Key{Pool: poolID, Sub: sub}]; e != nil {
		t, ok := e.SignedOut(nowMs, m.ttlMs)
		return t, ok, nil
	}
	return time.Time{}, false, nil
}

// Len returns the number of records held, expired ones not yet purged
// included.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.n
}

// write records T (Unix ms) for the user (jti == "") or the session jti,
// or, when sub is empty, for the app client jti (see record.ClientsKey).
func (m *Memory) write(ctx context.Context, poolID, sub, jti string, t int64) error {
	nowMs := m.now().UnixMilli()
	if err := record.CheckAhead(t, nowMs); err != nil {
		return err
	}
	exp := t + m.ttlMs
	if exp < nowMs {
		return nil // already expired: every token it would reject has expired
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if nowMs >= m.minExp && nowMs-m.lastPurge >= m.ttlMs/8 {
		m.purgeLocked(nowMs)
	}
	e := m.users[record.Key{Pool: poolID, Sub: sub}]
	var cur int64
	var exists bool
	if e != nil {
		if jti == "" {
			cur, exists = e.User, e.User != 0
		} else {
			cur, exists = e.Sessions[jti]
		}
	}
	if exists && cur >= t {
		return nil // a later (or the same) time is already recorded
	}
	if !exists && m.n >= m.max {
		if nowMs >= m.minExp {
			m.purgeLocked(nowMs)
			e = m.users[record.Key{Pool: poolID, Sub: sub}]
		}
		if m.n >= m.max {
			m.log.LogAttrs(ctx, slog.LevelWarn, "revocation: in-memory store full; sign-out not recorded",
				slog.Int("max_entries", m.max))
			return fmt.Errorf("%w: in-memory store full (%d live records; raise MaxEntries or use Redis)", ErrUnavailable, m.max)
		}
	}
	if e == nil {
		e = m.newEntryLocked(poolID, sub)
	}
	if sub == "" && !exists {
		m.clients++
	}
	m.setLocked(e, jti, t)
	m.minExp = min(m.minExp, exp)
	return nil
}

// newEntryLocked adds an empty entry for the user, owning its strings.
func (m *Memory) newEntryLocked(poolID, sub string) *record.Entry {
	e := &record.Entry{}
	pool, ok := m.pools[poolID]
	if !ok {
		pool = strings.Clone(poolID)
		if len(m.pools) < record.MaxInterned {
			m.pools[pool] = pool
		}
	}
	m.users[record.Key{Pool: pool, Sub: strings.Clone(sub)}] = e
	return e
}

// setLocked records t for the user (jti == "") or the session jti of e,
// counting a new record.
func (m *Memory) setLocked(e *record.Entry, jti string, t int64) {
	if jti == "" {
		if e.User == 0 {
			m.n++
		}
		e.User = t
		return
	}
	if e.Sessions == nil {
		e.Sessions = make(map[string]int64, 1)
	}
	if _, ok := e.Sessions[jti]; !ok {
		m.n++
	}
	// A copy even for an existing key: assigning replaces the stored key,
	// and jti may alias a caller's buffer.
	e.Sessions[strings.Clone(jti)] = t
}

// purgeLocked drops expired records and recomputes minExp.
func (m *Memory) purgeLocked(nowMs int64) {
	m.lastPurge = nowMs
	minExp := int64(math.MaxInt64)
	for k, e := range m.users {
		if e.User != 0 {
			if exp := e.User + m.ttlMs; exp < nowMs {
				e.User = 0
				m.n--
			} else {
				minExp = min(minExp, exp)
			}
		}
		for j, t := range e.Sessions {
			if exp := t + m.ttlMs; exp < nowMs {
				delete(e.Sessions, j)
				m.n--
				if k.Sub == "" {
					m.clients--
				}
			} else {
				minExp = min(minExp, exp)
			}
		}
		if e.User == 0 && len(e.Sessions) == 0 {
			delete(m.users, k)
		}
	}
	m.minExp = minExp
}

// Logger returns the store's logger (MemoryConfig.Logger, or a discarding
// one). A Verifier given this store logs there unless configured
// otherwise.
func (m *Memory) Logger() *slog.Logger { return m.log }

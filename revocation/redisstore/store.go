package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

// ErrWriteOnly is returned by the lookups of a [Config.WriteOnly] store,
// which keeps no view of the records. It does not match
// [revocation.ErrUnavailable]: it is a configuration error, not an outage.
var ErrWriteOnly = errors.New("redisstore: lookup on a write-only store")

// Stats are counters of a [Store] since it was created.
type Stats struct {
	MemoryHits      uint64 // Revoked answered from the local view, without Redis
	Lookups         uint64 // Revoked calls that read Redis
	RoundTrips      uint64 // Redis commands sent for callers: lookups, writes, publishes, SignedOutAt
	Messages        uint64 // messages received on the sign-out channels
	Ignored         uint64 // messages ignored: malformed, oversized, or a time past now + revocation.MaxAhead
	Rebuilds        uint64 // view resets after a resubscription (lost connection)
	StaleRejections uint64 // Revoked calls failed with revocation.ErrUnavailable: view not fresh, or Redis refused
	Unconfirmed     uint64 // writes recorded but returned as revocation.ErrUnconfirmed (WaitReplicas, WaitInstances)
	AcksSent        uint64 // acknowledgements published, of any writer's sign-out (WaitInstances)
	AcksDropped     uint64 // acknowledgements dropped: queue full or publish failed
	DataLosses      uint64 // data losses of Redis detected (marker absent or changed)
	Restored        uint64 // sign-outs re-written from the journal after a data loss
	Unheld          uint64 // sign-out messages whose time Redis did not hold when re-read (forged, or lost): never journaled
	Entries         int    // users, and pools' app-client revocations, in the local view now
	Journaled       int    // sign-outs in the journal now (as Redis held them), restored after a data loss
	Trusted         bool   // the view answers lookups now

	// EvictionPolicy is what the last check found: "noeviction", the
	// evicting masters' policies, or "unknown" (INFO refused or incomplete:
	// trusted, and logged at Warn once). Empty before the first check.
	EvictionPolicy string

	// Floor, when not zero, rejects every token authenticated at or before
	// it: the time of a data loss the journal could not prove restored.
	Floor time.Time

	// FreshnessAge is the age of the oldest subscription's last proof that
	// the view is complete (the store's age before the first proof). Past
	// Config.Staleness, lookups fail closed.
	FreshnessAge time.Duration
}

// Store is a [revocation.Store] shared by every instance using the same
// Redis (standalone, Sentinel or Cluster, through [redis.UniversalClient]).
//
// Each user's records are one Redis hash; writes keep the latest time with
// a Lua script and publish the result. Each instance keeps a bounded local
// view of the users it has seen, kept current by pub/sub, so that Revoked
// for a known user makes no network round trip; a first-seen user costs
// one HGETALL. The package documentation states the freshness guarantees.
//
// Store composes components that own their state: the reader (lookups),
// the writer (sign-outs), the subscriber (pub/sub, the view and the
// journal), the health check and the data-loss healer (loss), the
// acknowledger (acks), all on one runner that owns their goroutines,
// started by [New] and stopped by [Store.Close]. It is safe for concurrent
// use.
type Store struct {
	log    *slog.Logger
	run    *runner
	trust  *trust // nil when write-only
	view   *view
	reader *reader
	writer *writer
	subs   *subscriber
	health *health
	loss   *loss
	acks   *acks
	once   sync.Once
}

// New returns a store using client, and starts its subscriptions and
// health check. It makes no call itself: call [Store.Ready] to wait until
// the store is trusted. Until then, and for at most Staleness, Revoked
// reads Redis directly once it has been checked (waiting, within Timeout,
// for the first check). client is a *redis.Client (standalone, or Sentinel
// through NewFailoverClient) or a *redis.ClusterClient (Cluster, or Sentinel
// through NewFailoverClusterClient); a *redis.Ring is refused. It refuses a
// client whose timeouts could block a subscription forever (ReadTimeout or
// WriteTimeout -1 or -2: none). The caller MUST call [Store.Close]; it does
// not close client.
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	st, err := configure(client, cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{log: st.Logger, run: newRunner(st.Timeout)}
	s.writer = &writer{client: client, wire: st.wire, run: s.run, ttlMs: st.ttl.Milliseconds(),
		replicas: st.WaitReplicas, sharded: st.sharded, now: st.Now, log: st.Logger}
	if st.WriteOnly {
		return s, nil
	}
	s.compose(client, st)
	s.trust.refuse(refuseUnchecked, errUnchecked)
	s.run.start(s.acks.runAcker)
	s.run.start(s.health.loop)
	s.run.start(s.subs.loop)
	s.run.start(s.subs.verifier.loop)
	return s, nil
}

// compose builds the components of a store that reads.
func (s *Store) compose(client redis.UniversalClient, st settings) {
	ttlMs := st.ttl.Milliseconds()
	s.trust = newTrust(st.Channels, st.Staleness)
	s.view = newView(st.maxEntries)
	s.acks = newAcks(rand.Text(), s.run, s.writer.publish, st.Logger)
	s.writer.view, s.writer.trust = s.view, s.trust
	live := newPresence(client, st.wire, s.acks.id, st.Timeout, st.Staleness)
	if st.WaitInstances {
		s.writer.acks, s.writer.presence = s.acks, live
	}
	journal := &journal{max: st.maxEntries, ttlMs: ttlMs}
	fl := new(floor)
	s.reader = &reader{client: client, wire: st.wire, run: s.run, view: s.view, trust: s.trust, floor: fl,
		ttlMs: ttlMs, staleness: st.Staleness, now: st.Now, log: st.Logger, flights: make(map[userKey]*flight)}
	s.health = &health{client: client, wire: st.wire, run: s.run, trust: s.trust, allowEviction: st.AllowEviction,
		trustUnverified: st.TrustUnverifiedEviction, presence: live,
		log: st.Logger, kick: make(chan struct{}, 1),
		about: []slog.Attr{slog.Int("channels", st.Channels), slog.Bool("sharded", st.sharded)}}
	s.loss = &loss{client: client, run: s.run, writer: s.writer, trust: s.trust, view: s.view, journal: journal,
		floor: fl, recheck: s.health.recheck, ttlMs: ttlMs, restoreStagger: st.restoreStagger, now: st.Now,
		log: st.Logger, gens: make(map[string]string)}
	s.health.loss = s.loss
	s.subs = newSubscriber(&subscriber{client: client, wire: st.wire, sharded: st.sharded, staleness: st.Staleness,
		run: s.run, trust: s.trust, view: s.view, journal: journal, acks: s.acks,
		verifier:  newVerifier(client, st.wire, s.run, journal, st.Now, st.Logger),
		requester: st.WaitInstances, health: s.health, now: st.Now, log: st.Logger})
}

// Revoked implements [cognitoguard.RevocationChecker]. While the view is
// fresh, a user already in it costs a read-locked map lookup, without
// allocation or network. Otherwise it reads Redis (bounded by Timeout), or
// fails with [revocation.ErrUnavailable] when the view may be stale or
// Redis is refused (see [Config.Staleness], [Config.AllowEviction]). A
// write-only store fails with [ErrWriteOnly].
func (s *Store) Revoked(ctx context.Context, c *cognitoguard.Claims) (bool, error) {
	if s.reader == nil {
		return false, ErrWriteOnly
	}
	return s.reader.revoked(ctx, c, s.trust.now())
}

// RevokedAt implements [cognitoguard.RevocationCheckerAt]: Revoked, with
// the view's freshness judged at now instead of a clock read of its own
// (one read per request). A now without a monotonic reading (from
// time.Date, or stripped by Round(0)) is not trusted for that: the store
// then reads its clock.
func (s *Store) RevokedAt(ctx context.Context, c *cognitoguard.Claims, now time.Time) (bool, error) {
	if s.reader == nil {
		return false, ErrWriteOnly
	}
	return s.reader.revoked(ctx, c, s.trust.at(now))
}

// RevokeUser implements [revocation.Store.RevokeUser]: it records the
// sign-out in Redis (keeping the latest time) in one script call (with
// [Config.WaitReplicas], followed by WAIT), applies it to the local view
// and publishes it to the other instances. Any failure, including a failed
// publish after a successful write, is returned wrapping
// [revocation.ErrUnavailable]; retrying is safe.
func (s *Store) RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error {
	t, err := record.CheckArgs(poolID, sub, at)
	if err != nil {
		return err
	}
	_, err = s.writer.write(ctx, userKey{Pool: poolID, Sub: sub}, "", t, 0)
	return err
}

// RevokeUserSince implements [revocation.Store.RevokeUserSince] in one
// script call: the rule is decided by Redis, with no read before the
// write. The recorded time, kept or new, is published either way.
func (s *Store) RevokeUserSince(ctx context.Context, poolID, sub string, since, at time.Time) (time.Time, bool, error) {
	t, err := record.CheckArgs(poolID, sub, at)
	if err != nil {
		return time.Time{}, false, err
	}
	keep := max(since.UnixMilli(), 1)
	res, err := s.writer.write(ctx, userKey{Pool: poolID, Sub: sub}, "", t, keep)
	if res == 0 {
		return time.Time{}, false, err
	}
	return time.UnixMilli(res), res != t, err
}

// RevokeSession implements [revocation.Store.RevokeSession], as
// [Store.RevokeUser] does for a user.
func (s *Store) RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error {
	t, err := record.CheckArgs(poolID, sub, at)
	if err != nil {
		return err
	}
	if err := record.CheckSession(originJTI); err != nil {
		return err
	}
	_, err = s.writer.write(ctx, userKey{Pool: poolID, Sub: sub}, originJTI, t, 0)
	return err
}

// SignedOutAt implements [revocation.Store.SignedOutAt]; it always reads
// Redis, on a write-only store too.
func (s *Store) SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error) {
	return s.writer.signedOutAt(ctx, poolID, sub, "")
}

// RevokeClient implements [revocation.Store.RevokeClient], as
// [Store.RevokeUser] does for a user: the pool's app-client revocations are
// a hash of their own (not a user's), written by the same script, published
// on the same channels and restored after a data loss from the journal
// like a sign-out. Each instance holds them as one entry of its view per
// pool, so a lookup of a known user of a known pool stays free of round
// trips.
func (s *Store) RevokeClient(ctx context.Context, poolID, clientID string, at time.Time) error {
	if err := record.CheckClient(clientID); err != nil {
		return err
	}
	t, err := record.CheckArgs(poolID, clientID, at)
	if err != nil {
		return err
	}
	_, err = s.writer.write(ctx, record.ClientsKey(poolID), clientID, t, 0)
	return err
}

// ClientRevokedAt implements [revocation.Store.ClientRevokedAt]; it always
// reads Redis, on a write-only store too.
func (s *Store) ClientRevokedAt(ctx context.Context, poolID, clientID string) (time.Time, bool, error) {
	return s.writer.signedOutAt(ctx, poolID, "", clientID)
}

// Ready waits until the view is trusted (every subscription subscribed and
// fresh, Redis not refused), or ctx ends, or s is closed. A write-only
// store is ready at once.
func (s *Store) Ready(ctx context.Context) error {
	if s.trust == nil {
		return nil
	}
	for {
		ch := s.trust.wait()
		if s.trust.fresh(s.trust.now()) {
			return nil
		}
		if err := s.trust.refusal(refuseClosed); err != nil {
			return fmt.Errorf("%w: %w", revocation.ErrUnavailable, err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if err := s.trust.check(s.trust.now()); err != nil {
				return fmt.Errorf("%w (%w)", err, ctx.Err())
			}
			return fmt.Errorf("%w: not subscribed: %w", revocation.ErrUnavailable, ctx.Err())
		}
	}
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	st := Stats{
		RoundTrips:  s.writer.trips.Load(),
		Unconfirmed: s.writer.unconfirmed.Load(),
	}
	if s.reader == nil {
		return st
	}
	now := s.trust.now()
	st.MemoryHits, st.Lookups = s.reader.hits.Load(), s.reader.lookups.Load()
	st.RoundTrips += s.reader.trips.Load()
	st.StaleRejections = s.reader.stale.Load()
	st.Messages, st.Rebuilds, st.Ignored = s.subs.messages.Load(), s.subs.rebuilds.Load(), s.subs.ignored.Load()
	st.AcksSent, st.AcksDropped = s.acks.sent.Load(), s.acks.dropped.Load()
	st.DataLosses, st.Restored = s.loss.losses.Load(), s.loss.restored.Load()
	st.Unheld, st.Journaled = s.subs.verifier.unheld.Load(), s.subs.journal.len()
	st.EvictionPolicy = s.health.policySummary()
	st.Floor = s.loss.floor.time(s.loss.now().UnixMilli(), s.loss.ttlMs)
	st.Entries = s.view.len()
	st.Trusted = s.trust.fresh(now)
	st.FreshnessAge = time.Duration(now - s.trust.oldest.Load())
	return st
}

// errClosed is the refusal of a closed store.
var errClosed = errors.New("store closed")

// Close stops the store's goroutines and waits for them and for the Redis
// calls in flight, which end within the client's dial and read timeouts.
// It is idempotent and does not close the client.
func (s *Store) Close() error {
	s.once.Do(func() {
		if s.trust != nil {
			s.trust.refuse(refuseClosed, errClosed)
		}
		s.run.cancel()
		if s.subs != nil {
			s.subs.closeAll()
		}
	})
	s.run.wg.Wait()
	return nil
}

// Logger returns the store's logger (Config.Logger, or a discarding
// one). A Verifier given this store logs there unless configured
// otherwise.
func (s *Store) Logger() *slog.Logger { return s.log }

var _ revocation.Store = (*Store)(nil)

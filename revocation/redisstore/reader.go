package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

// maxInflight bounds the Redis reads of distinct users in flight at once; a
// Revoked call needing one more fails with ErrUnavailable.
const maxInflight = 1024

// flight is one HGETALL shared by the concurrent lookups of a user.
type flight struct {
	done chan struct{}
	e    entry
	err  error
}

// reader answers Revoked: from the view while trust says it is fresh,
// otherwise from Redis (one HGETALL shared by the concurrent lookups of a
// user), or fails closed.
type reader struct {
	client    redis.UniversalClient
	wire      wire
	run       *runner
	view      *view
	trust     *trust
	floor     *floor
	ttlMs     int64
	staleness time.Duration
	now       func() time.Time
	log       *slog.Logger

	flightMu sync.Mutex
	flights  map[userKey]*flight

	hits, lookups, trips, stale atomic.Uint64
}

// revoked implements [Store.Revoked] at monotonic time now (see
// [trust.now]). It is the hot path: a fresh view holding the user and its
// pool's app-client revocations (loaded once per pool, reached from the
// user's entry) costs one atomic load, one map lookup under a read lock
// and the rule. Everything else is
// [reader.read]'s. A hit needs no check of the claims' key: the view
// holds only keys that passed it.
func (rd *reader) revoked(ctx context.Context, c *cognitoguard.Claims, now int64) (bool, error) {
	if c != nil && rd.trust.fresh(now) {
		if e, ce, ok := rd.view.hit(userKey{Pool: c.UserPoolID, Sub: c.Subject}); ok {
			rd.hits.Add(1)
			return record.Revoked(c, &e, &ce, rd.floor.load(), rd.now, rd.ttlMs), nil
		}
	}
	return rd.read(ctx, c, now)
}

// read answers revoked when the view cannot: it reads from Redis what the
// view lacks (the user, the pool's clients, or both), after waiting for a
// health check in progress when the view is stale, or fails closed.
func (rd *reader) read(ctx context.Context, c *cognitoguard.Claims, now int64) (bool, error) {
	k, err := record.ClaimsKey(c)
	if err != nil {
		return false, err
	}
	var e, ce entry
	var ok, cok bool
	if rd.trust.fresh(now) {
		e, ok, ce, cok = rd.view.get(k)
	} else if err := rd.awaitCheck(ctx); err != nil {
		rd.stale.Add(1)
		warnIfStale(rd.run.ctx, rd.log, rd.trust, rd.staleness) // now, not when a blocked subscription resumes
		return false, err
	}
	// The reads of the user and of the pool's clients (once per pool)
	// are in flight together: one round trip of latency.
	var f, cf *flight
	if !ok {
		if f, err = rd.launch(k); err != nil {
			return false, err
		}
	}
	if !cok {
		if cf, err = rd.launch(record.ClientsKey(k.Pool)); err != nil {
			return false, err
		}
	}
	if f != nil {
		if e, err = rd.await(ctx, f); err != nil {
			return false, err
		}
	}
	if cf != nil {
		if ce, err = rd.await(ctx, cf); err != nil {
			return false, err
		}
	}
	return record.Revoked(c, &e, &ce, rd.floor.load(), rd.now, rd.ttlMs), nil
}

// awaitCheck returns nil when Redis may be read directly. While the only
// obstacle is a health check in progress (at start, after a
// resubscription), it waits for it rather than read a Redis that may just
// have lost its data.
func (rd *reader) awaitCheck(ctx context.Context) error {
	var err error
	_ = rd.run.await(ctx, rd.trust, func() bool {
		err = rd.trust.check(rd.trust.now())
		return err == nil || !errors.Is(err, errUnchecked)
	})
	return err
}

// launch starts reading the user's hash (or, for record.ClientsKey, the
// pool's clients hash), or joins the read in flight: one read is shared
// between concurrent callers, and cached in the view if the view is fresh
// when it ends. The read runs in a goroutine owned by the runner, so that
// the caller gets its answer (await) within Timeout whatever the client's
// own timeouts.
func (rd *reader) launch(k userKey) (*flight, error) {
	rd.flightMu.Lock()
	f, ok := rd.flights[k]
	if !ok {
		if len(rd.flights) >= maxInflight {
			rd.flightMu.Unlock()
			return nil, fmt.Errorf("%w: %d Redis lookups already in flight", revocation.ErrUnavailable, maxInflight)
		}
		k = userKey{Pool: strings.Clone(k.Pool), Sub: strings.Clone(k.Sub)}
		f = &flight{done: make(chan struct{})}
		rd.flights[k] = f
		rd.lookups.Add(1)
		rd.trips.Add(1)
		p := rd.view.begin(k)
		rd.run.start(func() { rd.fly(k, f, p) })
	}
	rd.flightMu.Unlock()
	return f, nil
}

// await waits for the read f.
func (rd *reader) await(ctx context.Context, f *flight) (entry, error) {
	if err := rd.run.wait(ctx, f.done); err != nil {
		return entry{}, fmt.Errorf("%w: Redis lookup: %w", revocation.ErrUnavailable, err)
	}
	if f.err != nil {
		return entry{}, fmt.Errorf("%w: Redis lookup: %w", revocation.ErrUnavailable, f.err)
	}
	return f.e, nil
}

// fly runs the read of flight f.
func (rd *reader) fly(k userKey, f *flight, p *pending) {
	ctx, cancel := context.WithTimeout(rd.run.ctx, rd.run.timeout)
	key, _ := rd.wire.key(k.Pool, k.Sub)
	m, err := rd.client.HGetAll(ctx, key).Result()
	cancel()
	var e entry
	if err != nil {
		rd.view.abort(k, p)
	} else {
		e = rd.view.finish(k, p, parseRecord(m), rd.trust.fresh(rd.trust.now()))
	}
	rd.flightMu.Lock()
	delete(rd.flights, k)
	rd.flightMu.Unlock()
	f.e, f.err = e, err
	close(f.done)
}

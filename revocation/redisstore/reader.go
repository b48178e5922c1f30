package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
)

// maxInflight bounds the Redis reads of distinct users in flight at once; a
// Revoked call needing one more fails with revocation.ErrUnavailable.
const maxInflight = 1024

// flight is one HGETALL shared by the concurrent lookups of a user.
type flight struct {
	done chan struct{}
	e    entry
	err  error
}

// Revoked implements [cognitoguard.RevocationChecker]. While the view is
// fresh, a user already in it costs a read-locked map lookup, without
// allocation or network. Otherwise it reads Redis (bounded by Timeout), or
// fails with [revocation.ErrUnavailable] when the view may be stale or Redis is
// refused (see [Config.Staleness], [Config.AllowEviction]).
func (r *Store) Revoked(ctx context.Context, c *cognitoguard.Claims) (bool, error) {
	k, err := record.ClaimsKey(c)
	if err != nil {
		return false, err
	}
	if r.trust.fresh(r.trust.now()) {
		if e, ok := r.view.get(k); ok {
			r.hits.Add(1)
			return record.Revoked(c, &e, r.floor.Load(), r.now, r.ttlMs), nil
		}
	} else if err := r.awaitCheck(ctx); err != nil {
		r.stale.Add(1)
		r.warnIfStale() // now, not when a blocked subscription resumes
		return false, err
	}
	e, err := r.load(ctx, k)
	if err != nil {
		return false, err
	}
	return record.Revoked(c, &e, r.floor.Load(), r.now, r.ttlMs), nil
}

// awaitCheck returns nil when Redis may be read directly. While the only
// obstacle is a health check in progress (at start, after a
// resubscription), it waits for it (see [Store.await]) rather than read a
// Redis that may just have lost its data.
func (r *Store) awaitCheck(ctx context.Context) error {
	var err error
	r.await(ctx, func() bool {
		err = r.trust.check(r.trust.now())
		return err == nil || !errors.Is(err, errUnchecked)
	})
	return err
}

// await waits until cond holds, testing it at every change of trust,
// within Timeout and while ctx and r live; it returns why it stopped
// waiting, or nil.
func (r *Store) await(ctx context.Context, cond func() bool) error {
	t := time.NewTimer(r.timeout)
	defer t.Stop()
	for {
		ch := r.trust.wait()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("not within %v", r.timeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-r.ctx.Done():
			return errors.New("store closed")
		}
	}
}

// load reads the user's hash, sharing one read between concurrent callers,
// and caches it in the view if the view is fresh when the read ends. The
// read runs in a goroutine owned by r, so that the caller gets its answer
// within Timeout whatever the client's own timeouts.
func (r *Store) load(ctx context.Context, k userKey) (entry, error) {
	r.flightMu.Lock()
	f, ok := r.flights[k]
	if !ok {
		if len(r.flights) >= maxInflight {
			r.flightMu.Unlock()
			return entry{}, fmt.Errorf("%w: %d Redis lookups already in flight", revocation.ErrUnavailable, maxInflight)
		}
		k = userKey{Pool: strings.Clone(k.Pool), Sub: strings.Clone(k.Sub)}
		f = &flight{done: make(chan struct{})}
		r.flights[k] = f
		r.lookups.Add(1)
		r.trips.Add(1)
		r.wg.Add(1)
		go r.fly(k, f, r.view.begin(k))
	}
	r.flightMu.Unlock()
	if err := r.wait(ctx, f.done); err != nil {
		return entry{}, fmt.Errorf("%w: Redis lookup: %w", revocation.ErrUnavailable, err)
	}
	if f.err != nil {
		return entry{}, fmt.Errorf("%w: Redis lookup: %w", revocation.ErrUnavailable, f.err)
	}
	return f.e, nil
}

// fly runs the read of flight f.
func (r *Store) fly(k userKey, f *flight, p *pending) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	key, _ := r.wire.key(k.Pool, k.Sub)
	m, err := r.client.HGetAll(ctx, key).Result()
	cancel()
	var e entry
	if err != nil {
		r.view.abort(k, p)
	} else {
		e = r.view.finish(k, p, parseRecord(m), r.trust.fresh(r.trust.now()))
	}
	r.flightMu.Lock()
	delete(r.flights, k)
	r.flightMu.Unlock()
	f.e, f.err = e, err
	close(f.done)
}

// wait waits for done, at most Timeout and while ctx lives.
func (r *Store) wait(ctx context.Context, done <-chan struct{}) error {
	t := time.NewTimer(r.timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("no answer within %v", r.timeout)
	case <-ctx.Done():
		return ctx.Err()
	case <-r.ctx.Done():
		return errors.New("store closed")
	}
}

// call runs fn in a goroutine owned by r and waits for it as [Store.wait]
// does. fn's context ends at Timeout or Close.
func (r *Store) call(ctx context.Context, fn func(ctx context.Context) error) error {
	var err error
	done := make(chan struct{})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(done)
		cctx, cancel := context.WithTimeout(r.ctx, r.timeout)
		defer cancel()
		err = fn(cctx)
	}()
	if werr := r.wait(ctx, done); werr != nil {
		return werr
	}
	return err
}

// RevokeUser implements [Store.RevokeUser]: it records the sign-out in
// Redis (keeping the latest time), applies it to the local view and
// publishes it to the other instances. Any failure, including a failed
// publish after a successful write, is returned wrapping [revocation.ErrUnavailable];
// retrying is safe.
func (r *Store) RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error {
	t, err := record.CheckArgs(poolID, sub, at)
	if err != nil {
		return err
	}
	return r.write(ctx, userKey{Pool: poolID, Sub: sub}, "", t)
}

// RevokeSession implements [Store.RevokeSession], as [Store.RevokeUser]
// does for a user.
func (r *Store) RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error {
	t, err := record.CheckArgs(poolID, sub, at)
	if err != nil {
		return err
	}
	if err := record.CheckSession(originJTI); err != nil {
		return err
	}
	return r.write(ctx, userKey{Pool: poolID, Sub: sub}, originJTI, t)
}

func (r *Store) write(ctx context.Context, k userKey, jti string, t int64) error {
	if t+r.ttlMs < r.now().UnixMilli() {
		return nil // already expired: every token it would reject has expired
	}
	key, ch := r.wire.key(k.Pool, k.Sub)
	res, acked, err := r.store(ctx, key, jti, t)
	if err != nil {
		// A failed write is evidence that the view may be stale too: fail
		// closed until the next proof. The write may still land, later
		// and unpublished: the view applies it now, so that this instance
		// never accepts the tokens of the user whose sign-out it was asked
		// to record.
		r.view.apply(k, jti, t)
		r.untrustAfterWriteFailure(ctx, err)
		return fmt.Errorf("%w: recording sign-out: %w", revocation.ErrUnavailable, err)
	}
	r.view.apply(k, jti, res)
	var id, nonce string
	var aw *ackWait
	var deaf error   // this instance cannot hear the acknowledgements
	if r.instances { // the message asks every receiver to acknowledge it
		id, nonce = r.id, rand.Text()
		aw = r.acks.expect(nonce)
		defer r.acks.forget(nonce)
		// The acknowledgements come back on this instance's subscription
		// to the channel: they would be lost before it is up (a store
		// just created, a reconnect).
		deaf = r.await(ctx, func() bool { return r.trust.isSubscribed(ch) })
	}
	var receivers int64
	r.trips.Add(1)
	err = r.call(ctx, func(ctx context.Context) error {
		var err error
		receivers, err = r.publish(ctx, r.wire.channel(ch), encodeSignOut(k, jti, res, id, nonce))
		return err
	})
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: sign-out recorded in Redis but not published; other instances may not see it until they reload the user",
			slog.String("error", err.Error()))
		r.untrustAfterWriteFailure(ctx, err)
		return fmt.Errorf("%w: sign-out recorded but not published (retry): %w", revocation.ErrUnavailable, err)
	}
	if deaf != nil { // published all the same: the others learn of it
		r.unconfirmed.Add(1)
		return fmt.Errorf("%w: %w: not subscribed to the acknowledgements (retry): %w", revocation.ErrUnavailable, revocation.ErrUnconfirmed, deaf)
	}
	return r.confirmWrite(ctx, acked, aw, receivers)
}

// store runs the write script (and WAIT, with WaitReplicas) for field jti
// ("" for the user) of key, returning the stored time and the replicas
// that acknowledged it.
// The results are read only once the call has returned: an abandoned call
// (Timeout) may still write them.
func (r *Store) store(ctx context.Context, key, jti string, t int64) (int64, int64, error) {
	field := fieldUser
	if jti != "" {
		field = fieldSession + jti
	}
	var res, acked int64
	r.trips.Add(1)
	err := r.call(ctx, func(ctx context.Context) error {
		var err error
		if r.replicas == 0 {
			res, err = writeScript.Run(ctx, r.client, []string{key}, field, t, r.ttlMs).Int64()
		} else {
			res, acked, err = r.writeAndWait(ctx, key, field, t)
		}
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return res, acked, nil
}

// confirmWrite checks the confirmations asked for of a published write:
// replicas (WaitReplicas), instances (WaitInstances: aw, the message having
// reached receivers), and a Redis that does not evict.
func (r *Store) confirmWrite(ctx context.Context, acked int64, aw *ackWait, receivers int64) error {
	if err := r.trust.refusal(refuseEviction); err != nil {
		r.unconfirmed.Add(1)
		return fmt.Errorf("%w: %w: %w", revocation.ErrUnavailable, revocation.ErrUnconfirmed, err)
	}
	if acked < int64(r.replicas) {
		r.unconfirmed.Add(1)
		return fmt.Errorf("%w: %w: acknowledged by %d of %d replicas (retry)",
			revocation.ErrUnavailable, revocation.ErrUnconfirmed, acked, r.replicas)
	}
	if aw != nil {
		if err := r.confirm(ctx, aw, receivers); err != nil {
			r.unconfirmed.Add(1)
			return err
		}
	}
	return nil
}

// publish publishes msg on channel, sharded or not, and returns the
// number of subscribers that received it.
func (r *Store) publish(ctx context.Context, channel, msg string) (int64, error) {
	if r.sharded {
		return r.client.SPublish(ctx, channel, msg).Result()
	}
	return r.client.Publish(ctx, channel, msg).Result()
}

// SignedOutAt implements [Store.SignedOutAt]; it always reads Redis.
func (r *Store) SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error) {
	var v string
	key, _ := r.wire.key(poolID, sub)
	r.trips.Add(1)
	err := r.call(ctx, func(ctx context.Context) error {
		var err error
		v, err = r.client.HGet(ctx, key, fieldUser).Result()
		if errors.Is(err, redis.Nil) {
			v, err = "", nil
		}
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%w: reading sign-out: %w", revocation.ErrUnavailable, err)
	}
	t, _ := strconv.ParseInt(v, 10, 64)
	e := entry{User: t}
	at, ok := e.SignedOut(r.now().UnixMilli(), r.ttlMs)
	return at, ok, nil
}

// untrustAfterWriteFailure stops answering from the view after a failed
// write, until the next proof of freshness.
func (r *Store) untrustAfterWriteFailure(ctx context.Context, err error) {
	if r.trust.writeFailure() {
		r.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: Redis write failed; reading Redis directly until it answers again",
			slog.String("error", err.Error()))
	}
}

package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

// writer records sign-outs: one script call (with WaitReplicas, the script
// and WAIT on one connection) and then one PUBLISH; nothing is read
// before the write. A store's writer also applies each sign-out to the
// local view and asks for acknowledgements (WaitInstances); a write-only
// store's writer has no view, trust or acks (nil).
type writer struct {
	client   redis.UniversalClient
	wire     wire
	run      *runner
	ttlMs    int64
	replicas int  // WaitReplicas
	sharded  bool // SPUBLISH
	now      func() time.Time
	log      *slog.Logger

	view     *view     // nil when write-only
	trust    *trust    // nil when write-only
	acks     *acks     // nil unless WaitInstances
	presence *presence // nil unless WaitInstances

	trips, unconfirmed atomic.Uint64
}

// write records T (Unix ms) for the user k (jti == "") or its session jti
// and publishes the stored time, which it returns; with keep (0: none), a
// recorded time at or after keep is kept (see writeScript). Any failure,
// including a failed publish after a successful write, is returned
// wrapping ErrUnavailable.
func (w *writer) write(ctx context.Context, k userKey, jti string, t, keep int64) (int64, error) {
	nowMs := w.now().UnixMilli()
	if err := record.CheckAhead(t, nowMs); err != nil {
		return 0, err
	}
	if t+w.ttlMs < nowMs {
		return t, nil // already expired: every token it would reject has expired
	}
	key, ch := w.wire.key(k.Pool, k.Sub)
	res, acked, err := w.store(ctx, key, field(k, jti), t, keep)
	if err != nil {
		// A failed write is evidence that the view may be stale too: fail
		// closed until the next proof. The write may still land, later
		// and unpublished: the view applies it now, so that this instance
		// never accepts the tokens of the user whose sign-out it was asked
		// to record.
		w.apply(k, jti, t)
		w.untrust(ctx, err)
		return 0, fmt.Errorf("%w: recording sign-out: %w", revocation.ErrUnavailable, err)
	}
	w.apply(k, jti, res)
	var id, nonce string
	var aw *ackWait
	var deaf error // this instance cannot hear the acknowledgements
	if w.acks != nil {
		id, nonce = w.acks.id, rand.Text()
		aw = w.acks.expect(nonce)
		defer w.acks.forget(nonce)
		// The acknowledgements come back on this instance's subscription
		// to the channel: they would be lost before it is up (a store
		// just created, a reconnect).
		deaf = w.run.await(ctx, w.trust, func() bool { return w.trust.isSubscribed(ch) })
	}
	receivers, err := w.publishSignOut(ctx, ch, encodeSignOut(k, jti, res, id, nonce))
	if err != nil {
		w.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: sign-out recorded in Redis but not published; other instances may not see it until they reload the user",
			slog.String("error", err.Error()))
		w.untrust(ctx, err)
		return res, fmt.Errorf("%w: sign-out recorded but not published (retry): %w", revocation.ErrUnavailable, err)
	}
	if deaf != nil { // published all the same: the others learn of it
		w.unconfirmed.Add(1)
		return res, fmt.Errorf("%w: %w: not subscribed to the acknowledgements (retry): %w", revocation.ErrUnavailable, revocation.ErrUnconfirmed, deaf)
	}
	return res, w.confirm(ctx, acked, aw, receivers)
}

// apply applies a sign-out to the local view, if any.
func (w *writer) apply(k userKey, jti string, t int64) {
	if w.view != nil {
		w.view.apply(k, jti, t)
	}
}

// store runs the write script (and WAIT, with WaitReplicas) for field of
// key, returning the stored time and the replicas that acknowledged it.
// The results are read only once the call has returned: an abandoned call
// (Timeout) may still write them.
func (w *writer) store(ctx context.Context, key, field string, t, keep int64) (int64, int64, error) {
	var res, acked int64
	w.trips.Add(1)
	err := w.run.call(ctx, func(ctx context.Context) error {
		var err error
		if w.replicas == 0 {
			res, err = writeScript.Run(ctx, w.client, []string{key}, field, t, w.ttlMs, keep).Int64()
		} else {
			res, acked, err = w.writeAndWait(ctx, key, field, t, keep)
		}
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return res, acked, nil
}

// publishSignOut publishes msg on sign-out channel ch, within Timeout, and
// returns the number of subscribers it reached.
func (w *writer) publishSignOut(ctx context.Context, ch int, msg string) (int64, error) {
	w.trips.Add(1)
	return callValue(ctx, w.run, func(ctx context.Context) (int64, error) {
		return w.publish(ctx, w.wire.channel(ch), msg)
	})
}

// publish publishes msg on channel, sharded or not, and returns the
// number of subscribers that received it.
func (w *writer) publish(ctx context.Context, channel, msg string) (int64, error) {
	if w.sharded {
		return w.client.SPublish(ctx, channel, msg).Result()
	}
	return w.client.Publish(ctx, channel, msg).Result()
}

// confirm checks the confirmations asked for of a published write: a
// Redis checked and found not to evict, replicas (WaitReplicas), and
// instances (WaitInstances: aw, the message having reached receivers).
func (w *writer) confirm(ctx context.Context, acked int64, aw *ackWait, receivers int64) error {
	if w.trust != nil {
		// Not checked yet (a store just created, a resubscription): wait
		// for the check, within Timeout; unchecked is unconfirmed.
		if err := w.run.await(ctx, w.trust, func() bool { return w.trust.refusal(refuseUnchecked) == nil }); err != nil {
			w.unconfirmed.Add(1)
			return fmt.Errorf("%w: %w: %w: %w", revocation.ErrUnavailable, revocation.ErrUnconfirmed, errUnchecked, err)
		}
		if err := w.trust.refusal(refuseEviction); err != nil {
			w.unconfirmed.Add(1)
			return fmt.Errorf("%w: %w: %w", revocation.ErrUnavailable, revocation.ErrUnconfirmed, err)
		}
	}
	if acked < int64(w.replicas) {
		w.unconfirmed.Add(1)
		return fmt.Errorf("%w: %w: acknowledged by %d of %d replicas (retry)",
			revocation.ErrUnavailable, revocation.ErrUnconfirmed, acked, w.replicas)
	}
	if aw != nil {
		// Every live instance, reached or not: one whose subscription
		// died silently is not among the receivers.
		live, err := w.liveInstances(ctx)
		if err != nil {
			w.unconfirmed.Add(1)
			return fmt.Errorf("%w: %w: counting the live instances (retry): %w", revocation.ErrUnavailable, revocation.ErrUnconfirmed, err)
		}
		if err := w.acks.confirm(ctx, w.run, aw, max(receivers, live)); err != nil {
			w.unconfirmed.Add(1)
			return err
		}
	}
	return nil
}

// liveInstances counts the live instances (see presence), within Timeout.
func (w *writer) liveInstances(ctx context.Context) (int64, error) {
	w.trips.Add(1)
	return callValue(ctx, w.run, w.presence.live)
}

// signedOutAt reads the user's recorded sign-out from Redis; with an
// empty sub, the app client's (client) revocation.
func (w *writer) signedOutAt(ctx context.Context, poolID, sub, client string) (time.Time, bool, error) {
	var v string
	key, _ := w.wire.key(poolID, sub)
	f := field(userKey{Pool: poolID, Sub: sub}, client)
	w.trips.Add(1)
	err := w.run.call(ctx, func(ctx context.Context) error {
		var err error
		v, err = w.client.HGet(ctx, key, f).Result()
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
	at, ok := e.SignedOut(w.now().UnixMilli(), w.ttlMs)
	return at, ok, nil
}

// untrust stops the view answering after a failed write, until the next
// proof of freshness.
func (w *writer) untrust(ctx context.Context, err error) {
	if w.trust != nil && w.trust.writeFailure() {
		w.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: Redis write failed; reading Redis directly until it answers again",
			slog.String("error", err.Error()))
	}
}

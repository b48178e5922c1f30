package redisstore

import (
	"fmt"
	"github.com/cognitoguard/cognitoguard/revocation"
	"sync"
	"sync/atomic"
	"time"
)

// trust decides whether the local view may answer. It gathers the proofs
// of freshness of every sign-out channel (each subscription proves those it
// carries) and the reasons to refuse Redis, and
// publishes one deadline that the hot path reads with one atomic load.
//
// A proof at monotonic time p says: every sign-out published before p has
// been applied to the view. The view answers while every subscription is
// subscribed, the oldest proof is younger than staleness, no write has
// failed since that proof, nothing refuses Redis, and the last successful
// health check vouches for this instance (see [trust.checked]). Times are monotonic
// nanoseconds since start ([trust.now]); no ticker is involved, so a
// blocked subscriber cannot make an old proof look young.
type trust struct {
	start     time.Time
	staleness int64

	// until is the monotonic time before which the view may answer; 0 or
	// less: not trusted. oldest is the oldest proof across subscriptions:
	// while it is younger than staleness, an untrusted store still reads
	// Redis directly (just after a break, before the first subscription).
	until       atomic.Int64
	oldest      atomic.Int64
	staleWarned atomic.Bool // the lapse of the current deadline was logged

	mu          sync.Mutex
	subs        []subTrust
	writeFailed int64            // monotonic time of the last failed write; 0: none
	vouched     int64            // until when the last health check vouches; 0: none yet
	refused     map[string]error // reasons to fail closed (eviction, loss, closed)
	changed     chan struct{}    // closed and replaced on every change
}

type subTrust struct {
	subscribed bool
	proof      int64
}

func newTrust(subs int, staleness time.Duration) *trust {
	t := &trust{
		start:     time.Now(),
		staleness: int64(staleness),
		subs:      make([]subTrust, subs),
		refused:   make(map[string]error),
		changed:   make(chan struct{}),
	}
	// Grace: direct reads for one Staleness until the first subscription.
	now := t.now()
	for i := range t.subs {
		t.subs[i].proof = now
	}
	t.oldest.Store(now)
	return t
}

// now is the monotonic time since start, in nanoseconds (never 0).
func (t *trust) now() int64 { return int64(time.Since(t.start)) + 1 }

// at converts a wall-clock reading to the monotonic time of [trust.now]:
// through its monotonic reading when it has one, else by reading the
// clock (a wall time from another clock never judges freshness).
func (t *trust) at(now time.Time) int64 {
	if now == now.Round(0) { // no monotonic reading
		return t.now()
	}
	d := now.Sub(t.start)
	if d < 0 { // before start: a time of another process or clock
		return t.now()
	}
	return int64(d) + 1
}

// fresh reports whether the view may answer at monotonic time now.
func (t *trust) fresh(now int64) bool { return now < t.until.Load() }

// check returns nil when Redis may be read directly at now, or the error
// wrapping revocation.ErrUnavailable to fail closed with.
func (t *trust) check(now int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, reason := range []string{refuseClosed, refuseEviction, refuseLoss, refuseUnchecked} {
		if err := t.refused[reason]; err != nil {
			return fmt.Errorf("%w: %w", revocation.ErrUnavailable, err)
		}
	}
	if age := time.Duration(now - t.oldest.Load()); age > time.Duration(t.staleness) {
		return fmt.Errorf("%w: revocation view may be stale (last proof of freshness %v ago, bound %v)",
			revocation.ErrUnavailable, age.Round(time.Millisecond), time.Duration(t.staleness))
	}
	return nil
}

// subscribed records that channels idx are subscribed as of now: what is
// published from now on reaches them. It reports whether the view became
// trusted.
func (t *trust) subscribed(now int64, idx ...int) bool {
	return t.update(func() {
		for _, i := range idx {
			t.subs[i].subscribed = true
			t.subs[i].proof = max(t.subs[i].proof, now)
		}
	})
}

// proved records a proof of channels idx. It reports whether the view
// became trusted.
func (t *trust) proved(proof int64, idx ...int) bool {
	return t.update(func() {
		for _, i := range idx {
			t.subs[i].proof = max(t.subs[i].proof, proof)
		}
	})
}

// lost records that channels idx may miss messages. It reports whether
// the view was trusted.
func (t *trust) lost(idx ...int) bool {
	was := t.fresh(t.now())
	t.update(func() {
		for _, i := range idx {
			t.subs[i].subscribed = false
		}
	})
	return was
}

// writeFailure withdraws trust until the next proof. It reports whether
// the view was trusted.
func (t *trust) writeFailure() bool {
	now := t.now()
	was := t.fresh(now)
	t.update(func() { t.writeFailed = now })
	return was
}

// checked records a health check that succeeded, having begun at began:
// its refresh of this instance's live entry keeps the entry until at
// least began + ttl, and the view may answer until staleness before
// that. So an instance whose health checks keep failing stops answering
// from its view before writers stop counting it ([Config.WaitInstances]),
// even while its subscriptions look alive; it then reads Redis.
func (t *trust) checked(began int64, ttl time.Duration) {
	t.update(func() { t.vouched = max(t.vouched, began+int64(ttl)-t.staleness) })
}

// refuse makes every lookup fail closed with err (nil lifts it) for
// reason. It reports whether the view became trusted.
func (t *trust) refuse(reason string, err error) bool {
	return t.update(func() {
		if err == nil {
			delete(t.refused, reason)
		} else {
			t.refused[reason] = err
		}
	})
}

// refusal returns the error of reason, or nil.
func (t *trust) refusal(reason string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refused[reason]
}

// isSubscribed reports whether channel i is subscribed.
func (t *trust) isSubscribed(i int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.subs[i].subscribed
}

// lapsed reports, once per lapse, that the deadline passed at now while
// nothing else withdrew trust; the caller logs it.
func (t *trust) lapsed(now int64) bool {
	until := t.until.Load()
	return until > 0 && now >= until && t.staleWarned.CompareAndSwap(false, true)
}

// wait returns a channel closed at the next change.
func (t *trust) wait() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changed
}

// update applies fn and recomputes the deadlines, waking waiters. It
// reports whether the view became trusted.
func (t *trust) update(fn func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	was := t.fresh(now)
	fn()
	oldest, all := t.subs[0].proof, true
	for _, s := range t.subs {
		oldest = min(oldest, s.proof)
		all = all && s.subscribed
	}
	t.oldest.Store(oldest)
	until := min(oldest+t.staleness, t.vouched)
	if !all || len(t.refused) > 0 || oldest <= t.writeFailed {
		until = 0
	}
	if until > t.until.Load() {
		t.staleWarned.Store(false)
	}
	t.until.Store(until)
	close(t.changed)
	t.changed = make(chan struct{})
	return !was && t.fresh(now)
}

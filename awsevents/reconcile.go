package awsevents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation"
)

// Defaults of [ReconcileConfig].
const (
	DefaultReconcileEvery  = 15 * time.Minute
	DefaultReconcileWindow = time.Hour
	DefaultReconcileKey    = "cognitoguard:events:reconcile"
)

// ReconcileConfig holds the optional settings of a [Reconciler].
type ReconcileConfig struct {
	// Every is the period of [Reconciler.Run]. Default 15 minutes.
	Every time.Duration
	// Window is the least range each pass looks back over. Default 1
	// hour: CloudTrail's event history lags by minutes.
	Window time.Duration
	// TTL is the record TTL, the furthest a pass looks back (the first
	// one, with nothing reconciled yet, looks back that far). Default
	// [revocation.DefaultTTL]; it MUST be the consumer's.
	TTL time.Duration
	// Key prefixes the Redis keys of the lock (Key+":lock") and of the
	// end of the last complete pass (Key+":done"). Default
	// [DefaultReconcileKey]. Consumers of the same pools MUST share it.
	Key string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives a record per pass. Default: none.
	Logger *slog.Logger
}

// Reconciler runs a [Backfill] at first deployment (over the last record
// TTL), after an outage (from the end of the last complete pass) and
// periodically (over the last Window), by one consumer at a time: a
// [Lock] in Redis, taken for each pass.
type Reconciler struct {
	b      *Backfill
	client redis.UniversalClient
	lock   *Lock
	cfg    ReconcileConfig
	log    *slog.Logger
}

// NewReconciler returns the reconciler of b, coordinated through client.
func NewReconciler(b *Backfill, client redis.UniversalClient, cfg ReconcileConfig) (*Reconciler, error) {
	if b == nil || client == nil {
		return nil, errors.New("awsevents: NewReconciler: nil Backfill or client")
	}
	if cfg.Every < 0 || cfg.Window < 0 || cfg.TTL < 0 {
		return nil, errors.New("awsevents: NewReconciler: negative duration")
	}
	cfg.Every = cmpOr(cfg.Every, DefaultReconcileEvery)
	cfg.Window = cmpOr(cfg.Window, DefaultReconcileWindow)
	cfg.TTL = cmpOr(cfg.TTL, revocation.DefaultTTL)
	if cfg.Key == "" {
		cfg.Key = DefaultReconcileKey
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The lock outlives a pass: a pass over the TTL at 2 requests/s is a
	// few minutes; a crashed owner's lock expires after it.
	lock, err := NewLock(client, cfg.Key+":lock", max(cfg.Every, 30*time.Minute))
	if err != nil {
		return nil, err
	}
	return &Reconciler{b: b, client: client, lock: lock, cfg: cfg, log: log}, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Once runs one pass if no other consumer is running one: ran is false
// when the lock was held elsewhere.
func (r *Reconciler) Once(ctx context.Context) (st BackfillStats, ran bool, err error) {
	held, err := r.lock.Acquire(ctx)
	if errors.Is(err, ErrLocked) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultSQSTimeout)
		defer cancel()
		if rerr := held.Release(rctx); rerr != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "awsevents: reconcile lock not released; it expires", slog.Any("error", rerr))
		}
	}()
	now := r.cfg.Now()
	start, err := r.start(ctx, now)
	if err != nil {
		return st, true, err
	}
	st, err = r.b.Run(ctx, start, now)
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelError
	} else if st.Missed > 0 {
		lvl = slog.LevelWarn
	}
	r.log.LogAttrs(ctx, lvl, "awsevents: reconcile pass", slog.Time("start", start), slog.Time("end", now),
		slog.Int("events", st.Events), slog.Int("recorded", st.Recorded), slog.Int("missed", st.Missed), slog.Any("error", err))
	if err != nil {
		return st, true, err
	}
	if err := r.client.Set(ctx, r.cfg.Key+":done", now.UnixMilli(), r.cfg.TTL).Err(); err != nil {
		return st, true, fmt.Errorf("awsevents: reconcile: %w", err)
	}
	return st, true, nil
}

// start is where a pass at now begins: the end of the last complete pass
// minus Window, or now minus Window if later, never before now − TTL.
func (r *Reconciler) start(ctx context.Context, now time.Time) (time.Time, error) {
	floor := now.Add(-r.cfg.TTL)
	v, err := r.client.Get(ctx, r.cfg.Key+":done").Result()
	if errors.Is(err, redis.Nil) {
		return floor, nil // first deployment
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("awsevents: reconcile: %w", err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return floor, nil
	}
	last := time.UnixMilli(ms)
	if last.After(now) {
		last = now
	}
	start := last.Add(-r.cfg.Window)
	if start.Before(floor) {
		start = floor
	}
	return start, nil
}

// Run runs a pass at once and then every Every until ctx is done; a
// failed pass is logged (at Error) and retried at the next tick.
func (r *Reconciler) Run(ctx context.Context) {
	tick := time.NewTicker(r.cfg.Every)
	defer tick.Stop()
	for {
		if _, _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.log.LogAttrs(ctx, slog.LevelError, "awsevents: reconcile failed", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

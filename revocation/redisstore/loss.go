package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// markerScript reads a master's data-loss marker, creating it with the
// generation ARGV[1] when absent, and raises its floor to ARGV[2]. It
// returns {generation, floor, created}.
//
// KEYS[1] marker hash; ARGV[1] new generation; ARGV[2] floor (Unix ms, 0: none).
var markerScript = redis.NewScript(`
local gen = redis.call('HGET', KEYS[1], 'g')
local created = 0
if not gen then
  gen = ARGV[1]
  created = 1
  redis.call('HSET', KEYS[1], 'g', gen)
end
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0') or 0
local nf = tonumber(ARGV[2]) or 0
if nf > f then
  f = nf
  redis.call('HSET', KEYS[1], 'f', ARGV[2])
end
return {gen, tostring(f), created}
`)

// loss detects and heals data losses of Redis from the markers the
// health check reads: it fails closed, resets the view, restores the
// journal and, unless the journal proves complete, records the floor. It
// owns the floor and the generations seen; its methods run on the health
// goroutine, except restore, which runs on one of its own.
type loss struct {
	client         redis.UniversalClient
	run            *runner
	writer         *writer // restores through it
	trust          *trust
	view           *view
	journal        *journal
	floor          *floor
	recheck        func() // asks the health check to run again
	ttlMs          int64
	restoreStagger time.Duration
	now            func() time.Time
	log            *slog.Logger

	gens     map[string]string // marker key → generation seen
	floorDue atomic.Int64      // Unix ms of a floor to record on every master; 0: none

	losses, restored atomic.Uint64
}

// floor is the live data-loss floor, Unix ms (0: none), read by every
// lookup: see [record.Revoked].
type floor struct{ v atomic.Int64 }

func (f *floor) load() int64 { return f.v.Load() }

// raise applies a floor read from Redis, if live at nowMs.
func (f *floor) raise(v, nowMs, ttlMs int64) {
	if v+ttlMs < nowMs {
		return
	}
	for {
		cur := f.v.Load()
		if v <= cur || f.v.CompareAndSwap(cur, v) {
			return
		}
	}
}

// time is the floor live at nowMs, or zero.
func (f *floor) time(nowMs, ttlMs int64) time.Time {
	if v := f.v.Load(); v != 0 && v+ttlMs >= nowMs {
		return time.UnixMilli(v)
	}
	return time.Time{}
}

// checkMarkers checks every master's marker, as probed. A marker absent
// or of another generation than last seen means that master lost its
// data: the store fails closed, restores and, when it cannot prove the
// restore complete, records the floor (see [loss.lost]).
func (l *loss) checkMarkers(ctx context.Context, ms []master, ps []probe) error {
	if err := l.recordFloor(ctx, ms); err != nil { // a floor of an earlier loss, not yet recorded
		return err
	}
	for i, m := range ms {
		gen, floor := ps[i].gen, ps[i].floor
		l.floor.raise(floor, l.now().UnixMilli(), l.ttlMs)
		if known, seen := l.gens[m.marker]; seen && known != gen {
			l.gens[m.marker] = gen
			return l.lost(ctx, m, ms)
		}
		l.gens[m.marker] = gen
	}
	return nil
}

func (l *loss) readMarker(ctx context.Context, m master, floor int64) (gen string, f int64, err error) {
	gen, f, err = parseMarker(markerScript.Run(ctx, l.client, []string{m.marker}, rand.Text(), floor).Slice())
	if err != nil {
		return "", 0, fmt.Errorf("data-loss marker on %s: %w", cmpOrAddr(m.addr), err)
	}
	return gen, f, nil
}

// parseMarker parses markerScript's reply.
func parseMarker(v []any, err error) (gen string, floor int64, _ error) {
	if err != nil || len(v) != 3 {
		return "", 0, fmt.Errorf("%v %w", v, err)
	}
	gen, _ = v[0].(string)
	fs, _ := v[1].(string)
	fmt.Sscan(fs, &floor)
	return gen, floor, nil
}

// lost handles a data loss of master m detected now, at L: it fails
// closed, restores the journal in the background and, unless the journal
// proves complete, records the floor L on every master (retried by later
// checks until done) before trusting again.
func (l *loss) lost(ctx context.Context, m master, ms []master) error {
	lossAt := l.now().UnixMilli()
	l.losses.Add(1)
	l.trust.refuse(refuseLoss, fmt.Errorf("data lost by Redis %s; restoring", cmpOrAddr(m.addr)))
	l.view.reset() // entries read from the emptied Redis may lack sign-outs
	complete := l.journal.complete(lossAt, l.ttlMs)
	l.log.LogAttrs(l.run.ctx, slog.LevelError, "redisstore: Redis lost the sign-outs (restart without persistence, FLUSHALL or failover to an empty replica); failing closed while restoring",
		slog.String("master", cmpOrAddr(m.addr)), slog.Bool("journal_complete", complete))
	if !complete {
		l.dueFloor(lossAt)
	}
	l.run.start(func() { l.restore(complete, lossAt) })
	return l.recordFloor(ctx, ms)
}

// dueFloor schedules floor f to be recorded on every master.
func (l *loss) dueFloor(f int64) {
	for {
		cur := l.floorDue.Load()
		if f <= cur || l.floorDue.CompareAndSwap(cur, f) {
			return
		}
	}
}

// recordFloor records the floor due, if any, on every master, then lifts
// the loss refusal.
func (l *loss) recordFloor(ctx context.Context, ms []master) error {
	f := l.floorDue.Load()
	if f == 0 {
		return nil
	}
	for _, each := range ms {
		if _, _, err := l.readMarker(ctx, each, f); err != nil {
			return fmt.Errorf("recording the floor after a data loss: %w", err)
		}
	}
	l.floor.raise(f, l.now().UnixMilli(), l.ttlMs)
	l.floorDue.CompareAndSwap(f, 0)
	l.log.LogAttrs(l.run.ctx, slog.LevelError, "redisstore: sign-outs may be lost: every token authenticated at or before the loss is rejected (users sign in again)",
		slog.Time("floor", time.UnixMilli(f)))
	l.trust.refuse(refuseLoss, nil)
	return nil
}

// restore re-writes the journal after a random delay (so
// that many instances do not all write at once to a Redis that just
// restarted). With a complete journal it then lifts the loss refusal, or,
// if some writes failed, falls back to the floor; without one, the floor
// covers every lost sign-out and the restore only adds what it can.
func (l *loss) restore(complete bool, lossAt int64) {
	t := time.NewTimer(time.Duration(mrand.Int64N(int64(l.restoreStagger) + 1)))
	defer t.Stop()
	select {
	case <-l.run.ctx.Done():
		return
	case <-t.C:
	}
	n, failed := 0, 0
	for _, j := range l.journal.live(l.now().UnixMilli(), l.ttlMs) {
		if l.run.ctx.Err() != nil {
			return
		}
		if err := l.rewrite(j); err != nil {
			failed++
			continue
		}
		n++
	}
	l.restored.Add(uint64(n))
	l.log.LogAttrs(l.run.ctx, slog.LevelInfo, "redisstore: sign-outs restored after the data loss",
		slog.Int("restored", n), slog.Int("failed", failed))
	switch {
	case complete && failed == 0:
		l.trust.refuse(refuseLoss, nil)
	case complete:
		l.dueFloor(lossAt)
		l.recheck()
	}
}

// rewrite writes a journal entry again and publishes the stored time, as
// a sign-out is: an instance that started after the loss, found no loss
// itself (it created the first marker it saw) and cached "no record" from
// the emptied Redis learns of it now. A publish failure is a failed
// rewrite (the floor then covers it).
func (l *loss) rewrite(j journalEntry) error {
	key, ch := l.writer.wire.key(j.k.Pool, j.k.Sub)
	res, _, err := l.writer.store(l.run.ctx, key, field(j.k, j.jti), j.t, 0)
	if err != nil {
		return err
	}
	_, err = l.writer.publishSignOut(l.run.ctx, ch, encodeSignOut(j.k, j.jti, res, "", ""))
	return err
}

package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
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

// checkMarkers checks every master's marker, as probed. A marker absent
// or of another generation than last seen means that master lost its
// data: the store fails closed, restores and, when it cannot prove the
// restore complete, records the floor (see [Store.lost]).
func (r *Store) checkMarkers(ctx context.Context, ms []master, ps []probe) error {
	if err := r.recordFloor(ctx, ms); err != nil { // a floor of an earlier loss, not yet recorded
		return err
	}
	for i, m := range ms {
		gen, floor := ps[i].gen, ps[i].floor
		r.raiseFloor(floor)
		if known, seen := r.health.gens[m.marker]; seen && known != gen {
			r.health.gens[m.marker] = gen
			return r.lost(ctx, m, ms)
		}
		r.health.gens[m.marker] = gen
	}
	return nil
}

func (r *Store) readMarker(ctx context.Context, m master, floor int64) (gen string, f int64, err error) {
	gen, f, err = parseMarker(markerScript.Run(ctx, r.client, []string{m.marker}, rand.Text(), floor).Slice())
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

// raiseFloor applies a floor read from Redis, if live.
func (r *Store) raiseFloor(f int64) {
	if f+r.ttlMs < r.now().UnixMilli() {
		return
	}
	for {
		cur := r.floor.Load()
		if f <= cur || r.floor.CompareAndSwap(cur, f) {
			return
		}
	}
}

// lost handles a data loss of master m detected now, at L: it fails
// closed, restores the journal in the background and, unless the journal
// proves complete, records the floor L on every master (retried by later
// checks until done) before trusting again.
func (r *Store) lost(ctx context.Context, m master, ms []master) error {
	lossAt := r.now().UnixMilli()
	r.losses.Add(1)
	r.trust.refuse(refuseLoss, fmt.Errorf("Redis %s lost its data; restoring", cmpOrAddr(m.addr)))
	r.view.reset() // entries read from the emptied Redis may lack sign-outs
	complete := r.journal.complete(lossAt, r.ttlMs)
	r.log.LogAttrs(r.ctx, slog.LevelError, "redisstore: Redis lost the sign-outs (restart without persistence, FLUSHALL or failover to an empty replica); failing closed while restoring",
		slog.String("master", cmpOrAddr(m.addr)), slog.Bool("journal_complete", complete))
	if !complete {
		r.dueFloor(lossAt)
	}
	r.wg.Add(1)
	go r.restore(complete, lossAt)
	return r.recordFloor(ctx, ms)
}

// dueFloor schedules floor f to be recorded on every master.
func (r *Store) dueFloor(f int64) {
	for {
		cur := r.floorDue.Load()
		if f <= cur || r.floorDue.CompareAndSwap(cur, f) {
			return
		}
	}
}

// recordFloor records the floor due, if any, on every master, then lifts
// the loss refusal.
func (r *Store) recordFloor(ctx context.Context, ms []master) error {
	f := r.floorDue.Load()
	if f == 0 {
		return nil
	}
	for _, each := range ms {
		if _, _, err := r.readMarker(ctx, each, f); err != nil {
			return fmt.Errorf("recording the floor after a data loss: %w", err)
		}
	}
	r.raiseFloor(f)
	r.floorDue.CompareAndSwap(f, 0)
	r.log.LogAttrs(r.ctx, slog.LevelError, "redisstore: sign-outs may be lost: every token authenticated at or before the loss is rejected (users sign in again)",
		slog.Time("floor", time.UnixMilli(f)))
	r.trust.refuse(refuseLoss, nil)
	return nil
}

// restore re-writes the journal after a random delay (so
// that many instances do not all write at once to a Redis that just
// restarted). With a complete journal it then lifts the loss refusal, or,
// if some writes failed, falls back to the floor; without one, the floor
// covers every lost sign-out and the restore only adds what it can.
func (r *Store) restore(complete bool, lossAt int64) {
	defer r.wg.Done()
	t := time.NewTimer(time.Duration(mrand.Int64N(int64(r.restoreStagger) + 1)))
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return
	case <-t.C:
	}
	n, failed := 0, 0
	for _, j := range r.journal.live(r.now().UnixMilli(), r.ttlMs) {
		if r.ctx.Err() != nil {
			return
		}
		if err := r.rewrite(j); err != nil {
			failed++
			continue
		}
		n++
	}
	r.restored.Add(uint64(n))
	r.log.LogAttrs(r.ctx, slog.LevelInfo, "redisstore: sign-outs restored after the data loss",
		slog.Int("restored", n), slog.Int("failed", failed))
	switch {
	case complete && failed == 0:
		r.trust.refuse(refuseLoss, nil)
	case complete:
		r.dueFloor(lossAt)
		r.recheck()
	}
}

// rewrite writes a journal entry again and publishes the stored time, as
// a sign-out is: an instance that started after the loss, found no loss
// itself (it created the first marker it saw) and cached "no record" from
// the emptied Redis learns of it now. A publish failure is a failed
// rewrite (the floor then covers it).
func (r *Store) rewrite(j journalEntry) error {
	key, ch := r.wire.key(j.k.Pool, j.k.Sub)
	res, _, err := r.store(r.ctx, key, j.jti, j.t)
	if err != nil {
		return err
	}
	r.trips.Add(1)
	return r.call(r.ctx, func(ctx context.Context) error {
		_, err := r.publish(ctx, r.wire.channel(ch), encodeSignOut(j.k, j.jti, res, "", ""))
		return err
	})
}

// journal is a bounded record of the sign-out messages received, kept
// across view resets, to restore Redis after a data loss.
type journal struct {
	mu            sync.Mutex
	max           int
	ttlMs         int64
	entries       []journalEntry // oldest first
	completeSince int64          // Unix ms since which no message can have been missed; 0: none
}

type journalEntry struct {
	k   userKey
	jti string
	t   int64
}

// add records a received sign-out. When full it drops the oldest entries,
// expired ones first (which loses nothing); dropping a live one means the
// journal is complete only from now on.
func (j *journal) add(k userKey, jti string, t, nowMs int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.entries) >= j.max {
		for len(j.entries) > 0 && j.entries[0].t+j.ttlMs < nowMs {
			j.entries = j.entries[1:]
		}
	}
	if len(j.entries) >= j.max {
		j.entries = j.entries[1:]
		j.completeSince = max(j.completeSince, nowMs)
	}
	j.entries = append(j.entries, journalEntry{userKey{Pool: strings.Clone(k.Pool), Sub: strings.Clone(k.Sub)}, strings.Clone(jti), t})
}

// gap records that messages may have been missed until nowMs.
func (j *journal) gap(nowMs int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.completeSince = nowMs
}

// complete reports whether the journal holds every sign-out live at lossAt.
func (j *journal) complete(lossAt, ttlMs int64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.completeSince != 0 && j.completeSince <= lossAt-ttlMs
}

// live returns the entries not expired at nowMs, pruning the others.
func (j *journal) live(nowMs, ttlMs int64) []journalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	kept := j.entries[:0]
	for _, e := range j.entries {
		if e.t+ttlMs >= nowMs {
			kept = append(kept, e)
		}
	}
	j.entries = kept
	return append([]journalEntry(nil), kept...)
}

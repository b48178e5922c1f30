package redisstore

import (
	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
	"maps"
	"strings"
	"sync"
)

// view is the local, bounded copy of the Redis records of the users this
// instance has seen. Redis is authoritative: any entry may be dropped at any
// time (eviction, reset) and is then loaded again.
//
// Consistency. A sign-out message carries one field of a user's record, so
// the subscriber applies it (keeping the maximum) to the user's entry if
// present, and to the user's load in flight if any, but never creates an
// entry from it. A load (HGETALL) registers itself before it reads Redis
// (begin) and, when cached (finish), merges the messages applied to it
// meanwhile. So every sign-out is either in what the load read, or merged
// into it, or applied to the cached entry afterwards. A reset (after a gap
// in the subscription, when messages may have been lost) drops every entry
// and moves epoch, so that loads begun before it are not cached.
type view struct {
	mu      sync.RWMutex
	m       map[userKey]entry
	max     int
	epoch   uint64               // moved by reset
	pending map[userKey]*pending // loads in flight
	pools   map[string]string    // interned pool IDs
}

// pending is a load in flight: the messages applied to its user meanwhile.
type pending struct {
	epoch uint64
	e     entry // owned by the view until finish
}

func newView(max int) *view {
	return &view{
		m:       make(map[userKey]entry),
		max:     max,
		pending: make(map[userKey]*pending),
		pools:   make(map[string]string),
	}
}

// get returns the entry of k. The entry's sessions map is never mutated
// once published (copy on write), so it may be read without the lock.
func (v *view) get(k userKey) (entry, bool) {
	v.mu.RLock()
	e, ok := v.m[k]
	v.mu.RUnlock()
	return e, ok
}

// get2 is get of a and b under one read lock.
func (v *view) get2(a, b userKey) (ea entry, oka bool, eb entry, okb bool) {
	v.mu.RLock()
	ea, oka = v.m[a]
	eb, okb = v.m[b]
	v.mu.RUnlock()
	return ea, oka, eb, okb
}

// begin registers a load of k, which MUST own its strings, before the read
// is sent. At most one load per user may be in flight (callers share it).
func (v *view) begin(k userKey) *pending {
	v.mu.Lock()
	defer v.mu.Unlock()
	p := &pending{epoch: v.epoch}
	v.pending[k] = p
	return p
}

// finish ends the load p of k that read e, merging the messages applied to
// it meanwhile. If cache is set and no reset happened since begin, the
// result is cached, evicting an arbitrary entry when the view is full. It
// returns the merged entry.
func (v *view) finish(k userKey, p *pending, e entry, cache bool) entry {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pending[k] == p {
		delete(v.pending, k)
	}
	e = merge(e, p.e)
	if !cache || p.epoch != v.epoch {
		return e
	}
	if cur, ok := v.m[k]; ok {
		v.m[k] = merge(cur, e)
		return e
	}
	if len(v.m) >= v.max {
		for old := range v.m { // map iteration starts at a random place
			delete(v.m, old)
			break
		}
	}
	v.m[userKey{Pool: v.intern(k.Pool), Sub: k.Sub}] = e
	return e
}

// abort ends a failed load.
func (v *view) abort(k userKey, p *pending) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pending[k] == p {
		delete(v.pending, k)
	}
}

// intern returns a copy of pool owned by the view, shared between entries.
func (v *view) intern(pool string) string {
	if s, ok := v.pools[pool]; ok {
		return s
	}
	s := strings.Clone(pool)
	if len(v.pools) < record.MaxInterned {
		v.pools[s] = s
	}
	return s
}

// apply raises the record of a user (jti == "") or of one of its sessions
// to t in the user's entry and load in flight, if any.
func (v *view) apply(k userKey, jti string, t int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.m[k]; ok {
		if e2, changed := raise(e, jti, t); changed {
			// Assigning to an existing string key also replaces the stored
			// key with k, which may alias a caller's buffer: store a copy.
			v.m[userKey{Pool: v.intern(k.Pool), Sub: strings.Clone(k.Sub)}] = e2
		}
	}
	if p, ok := v.pending[k]; ok {
		p.e, _ = raise(p.e, jti, t)
	}
}

// reset drops every entry (after a gap in the subscription).
func (v *view) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.epoch++
	v.m = make(map[userKey]entry) // a new map: clear would keep the old capacity
}

func (v *view) len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.m)
}

// raise returns e with the user record (jti == "") or the session jti
// raised to t. The sessions map is copied, never mutated.
func raise(e entry, jti string, t int64) (entry, bool) {
	if jti == "" {
		if t <= e.User {
			return e, false
		}
		e.User = t
		return e, true
	}
	if cur, ok := e.Sessions[jti]; ok && cur >= t {
		return e, false
	}
	s := make(map[string]int64, len(e.Sessions)+1)
	maps.Copy(s, e.Sessions)
	s[strings.Clone(jti)] = t
	e.Sessions = s
	return e, true
}

// merge returns the field-wise maximum of a and b.
func merge(a, b entry) entry {
	a.User = max(a.User, b.User)
	for j, t := range b.Sessions {
		a, _ = raise(a, j, t)
	}
	return a
}

package redisstore

import (
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
	m       map[userKey]cached   // users (Sub != "")
	max     int                  // bounds users and loaded pool records together
	epoch   uint64               // moved by reset
	pending map[userKey]*pending // loads in flight
	pools   map[string]*poolView // pools of cached users and their app-client records
	loaded  int                  // pools whose app-client record is loaded
}

// cached is a user's entry and its pool, whose app-client record the hot
// path reads through the pointer: one map lookup per verification.
type cached struct {
	e    entry
	pool *poolView
}

// poolView is a pool as the view knows it: its ID, owned by the view and
// shared by its users' keys, and its app-client record (the entry of
// record.ClientsKey), once loaded.
type poolView struct {
	id      string
	clients entry
	loaded  bool
}

// pending is a load in flight: the messages applied to its user meanwhile.
type pending struct {
	epoch uint64
	e     entry // owned by the view until finish
}

func newView(max int) *view {
	return &view{
		m:       make(map[userKey]cached),
		max:     max,
		pending: make(map[userKey]*pending),
		pools:   make(map[string]*poolView),
	}
}

// hit returns the entry of user k and its pool's app-client record when
// the view holds both: the hot path's one lookup.
func (v *view) hit(k userKey) (e, clients entry, ok bool) {
	v.mu.RLock()
	c, ok := v.m[k]
	if ok {
		ok, clients = c.pool.loaded, c.pool.clients
	}
	v.mu.RUnlock()
	return c.e, clients, ok
}

// get returns the entry of user k and its pool's app-client record, each
// with whether the view holds it. Entries' sessions maps are never mutated
// once published (copy on write), so they may be read without the lock.
func (v *view) get(k userKey) (e entry, ok bool, clients entry, cok bool) {
	v.mu.RLock()
	c, ok := v.m[k]
	p := c.pool
	if !ok {
		p = v.pools[k.Pool]
	}
	if p != nil {
		clients, cok = p.clients, p.loaded
	}
	v.mu.RUnlock()
	return c.e, ok, clients, cok
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
// result is cached, evicting an arbitrary user when the view is full. It
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
	pv := v.pool(k.Pool)
	switch {
	case pv == nil: // as many pools as entries: not cached
	case k.Sub == "":
		if !pv.loaded {
			pv.loaded = true
			v.loaded++
		}
		pv.clients = merge(pv.clients, e)
	default:
		if cur, ok := v.m[k]; ok {
			cur.e = merge(cur.e, e)
			v.m[k] = cur
			return e
		}
		if len(v.m)+v.loaded >= v.max {
			for old := range v.m { // map iteration starts at a random place
				delete(v.m, old)
				break
			}
		}
		v.m[userKey{Pool: pv.id, Sub: k.Sub}] = cached{e, pv}
	}
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

// pool returns the view's record of pool, creating it (with a copy of
// the ID) unless the view already knows as many pools as it may hold
// entries.
func (v *view) pool(id string) *poolView {
	if pv, ok := v.pools[id]; ok {
		return pv
	}
	if len(v.pools) >= v.max {
		return nil
	}
	pv := &poolView{id: strings.Clone(id)}
	v.pools[pv.id] = pv
	return pv
}

// apply raises the record of a user (jti == "") or of one of its sessions
// (or, for record.ClientsKey, of one app client) to t in the view and in
// the load in flight, if any.
func (v *view) apply(k userKey, jti string, t int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k.Sub == "" {
		if pv := v.pools[k.Pool]; pv != nil && pv.loaded {
			pv.clients, _ = raise(pv.clients, jti, t)
		}
	} else if c, ok := v.m[k]; ok {
		if e2, changed := raise(c.e, jti, t); changed {
			// Assigning to an existing string key also replaces the stored
			// key with k, which may alias a caller's buffer: store a copy.
			v.m[userKey{Pool: c.pool.id, Sub: strings.Clone(k.Sub)}] = cached{e2, c.pool}
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
	v.m = make(map[userKey]cached) // new maps: clear would keep the old capacity
	v.pools = make(map[string]*poolView)
	v.loaded = 0
}

// len is the number of users and loaded app-client records.
func (v *view) len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.m) + v.loaded
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

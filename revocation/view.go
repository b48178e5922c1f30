package revocation

import (
	"maps"
	"strings"
	"sync"
)

// maxInterned bounds the issuer strings a view shares between its entries
// (a process verifies tokens of a handful of pools).
const maxInterned = 64

// view is the local, bounded copy of the Redis records of the users this
// instance has seen. Redis is authoritative: any entry may be dropped at any
// time (eviction, reset) and is then loaded again.
//
// Consistency: the subscriber applies every published sign-out to the
// entry of its user if present (never creating one from a partial message)
// and bumps epoch; a loader caches what it read from Redis only if epoch did
// not move during its read (insert). So an entry read before a sign-out can
// never shadow it: either the entry was present when the message was applied,
// or the message moved epoch and the stale read is not cached.
type view struct {
	mu      sync.RWMutex
	m       map[userKey]entry
	max     int
	epoch   uint64            // guarded by mu
	issuers map[string]string // interned issuers, guarded by mu
}

func newView(max int) *view {
	return &view{m: make(map[userKey]entry), max: max, issuers: make(map[string]string)}
}

// get returns the entry of k. The entry's sessions map is never mutated
// once published (copy on write), so it may be read without the lock.
func (v *view) get(k userKey) (entry, bool) {
	v.mu.RLock()
	e, ok := v.m[k]
	v.mu.RUnlock()
	return e, ok
}

// currentEpoch returns the epoch a loader must present to insert.
func (v *view) currentEpoch() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.epoch
}

// insert caches e, read from Redis, if nothing was applied or reset since
// epoch was taken. It evicts an arbitrary entry when full. It reports
// whether e was cached.
func (v *view) insert(k userKey, e entry, epoch uint64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.epoch != epoch {
		return false
	}
	if _, ok := v.m[k]; ok {
		return true // cached meanwhile by a concurrent load of the same epoch
	}
	if len(v.m) >= v.max {
		for old := range v.m { // map iteration starts at a random place
			delete(v.m, old)
			break
		}
	}
	v.m[userKey{v.intern(k.iss), strings.Clone(k.sub)}] = e
	return true
}

// intern returns a copy of iss owned by the view, shared between entries.
func (v *view) intern(iss string) string {
	if s, ok := v.issuers[iss]; ok {
		return s
	}
	s := strings.Clone(iss)
	if len(v.issuers) < maxInterned {
		v.issuers[s] = s
	}
	return s
}

// apply raises the record of a user (jti == "") or of one of its sessions
// to t if the user's entry is present, and moves epoch in any case.
func (v *view) apply(k userKey, jti string, t int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.epoch++
	e, ok := v.m[k]
	if !ok {
		return
	}
	if jti == "" {
		if t <= e.user {
			return
		}
		e.user = t
	} else {
		if cur, ok := e.sessions[jti]; ok && cur >= t {
			return
		}
		s := make(map[string]int64, len(e.sessions)+1)
		maps.Copy(s, e.sessions)
		s[strings.Clone(jti)] = t
		e.sessions = s
	}
	v.m[k] = e
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

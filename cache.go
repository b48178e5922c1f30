package cognitoguard

import (
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/alias"
)

const cacheShards = 16

// cacheBytesPerEntry is the memory budget of the cache per entry of
// CacheSize: the cache charges each entry what it keeps alive and never
// holds more than CacheSize × cacheBytesPerEntry bytes (16 MiB by default),
// whatever the size of the tokens. Cognito's access and ID tokens are
// charged less than that, so for them the entry bound is the one that binds.
const cacheBytesPerEntry = 4 << 10

// cacheEntryOverhead is charged per entry beyond the token and payload:
// the Claims struct and its origin, the map slot and the entry's pointers.
var cacheEntryOverhead = int(reflect.TypeFor[Claims]().Size()+reflect.TypeFor[origin]().Size()) + 96

// stringHeader is the size of a string header, charged per element of the
// Scopes and Groups slices.
var stringHeader = int(reflect.TypeFor[string]().Size())

// tokenCache remembers authentic tokens (signature, issuer, token_use,
// client and time checks passed), keyed by the whole token string: a hit
// requires byte-for-byte equality, so it cannot be poisoned by a crafted
// collision. It is bounded in entries and in bytes; an entry is dropped
// when its token expires (checked on every hit) or to make room.
type tokenCache struct {
	perShard      int
	perShardBytes int
	shards        [cacheShards]cacheShard
}

type cacheShard struct {
	mu    sync.RWMutex
	m     map[string]cacheEntry
	bytes int // sum of the entries' costs
}

type cacheEntry struct {
	claims *Claims
	cost   int
}

func newTokenCache(size int) *tokenCache {
	per := (size + cacheShards - 1) / cacheShards
	c := &tokenCache{perShard: per, perShardBytes: per * cacheBytesPerEntry}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry)
	}
	return c
}

// entryCost is what caching token with claims keeps alive: the key (a
// copy of the token), the decoded header and payload buffer the claims'
// strings alias, the strings that had escapes and were copied, with 1/8
// added for the allocator's size classes; the Scopes and Groups slices; and
// the fixed overhead.
func entryCost(token string, c *Claims) int {
	hdr := b64.DecodedLen(strings.IndexByte(token, '.'))
	data := len(token) + hdr + cap(c.payload()) + copiedBytes(c)
	return data + data/8 + stringHeader*(cap(c.Scopes)+cap(c.Groups)) + cacheEntryOverhead
}

// copiedBytes sums the lengths of the claims' strings that do not alias
// the payload buffer (those decoded from escapes).
func copiedBytes(c *Claims) int {
	n := 0
	add := func(s string) {
		if s != "" && !alias.Inside(s, c.payload()) {
			n += len(s)
		}
	}
	for _, s := range [...]string{c.Issuer, c.Subject, c.Username, string(c.TokenUse), c.ClientID, c.Email, c.JTI, c.OriginJTI, c.EventID} {
		add(s)
	}
	for _, s := range c.Scopes {
		add(s)
	}
	for _, s := range c.Groups {
		add(s)
	}
	return n
}

// shard picks a shard from a signature character: cheap, and spreading
// valid tokens evenly (signatures are uniformly random).
func (c *tokenCache) shard(token string) *cacheShard {
	var b byte
	if len(token) >= 2 {
		b = token[len(token)-2]
	}
	return &c.shards[b%cacheShards]
}

func (c *tokenCache) get(token string) *Claims {
	s := c.shard(token)
	s.mu.RLock()
	v := s.m[token]
	s.mu.RUnlock()
	return v.claims
}

func (c *tokenCache) put(token string, claims *Claims, now time.Time) {
	cost := entryCost(token, claims)
	if cost > c.perShardBytes {
		return // larger than a shard's budget: not worth evicting for
	}
	s := c.shard(token)
	key := string([]byte(token)) // own copy: token may alias a larger buffer
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[token]; ok {
		return
	}
	if len(s.m) >= c.perShard || s.bytes+cost > c.perShardBytes {
		// Drop expired entries first, then arbitrary ones (map order is
		// random) until the new entry fits, visiting at least 8.
		visited := 0
		for k, v := range s.m {
			full := len(s.m) >= c.perShard || s.bytes+cost > c.perShardBytes
			if !full && visited >= 8 {
				break
			}
			if full || !now.Before(v.claims.Expiry) {
				delete(s.m, k)
				s.bytes -= v.cost
			}
			visited++
		}
	}
	s.m[key] = cacheEntry{claims: claims, cost: cost}
	s.bytes += cost
}

func (c *tokenCache) remove(token string) {
	s := c.shard(token)
	s.mu.Lock()
	if v, ok := s.m[token]; ok {
		delete(s.m, token)
		s.bytes -= v.cost
	}
	s.mu.Unlock()
}

func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// size returns the bytes charged to the cache's entries.
func (c *tokenCache) size() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += s.bytes
		s.mu.RUnlock()
	}
	return n
}

package cognitoguard

import (
	"sync"
	"time"
)

const cacheShards = 16

// tokenCache remembers authentic tokens (signature, issuer, token_use,
// client and time checks passed), keyed by the whole token string: a hit
// requires byte-for-byte equality, so it cannot be poisoned by a crafted
// collision. Entries are bounded in number; an entry is dropped when its
// token expires (checked on every hit) or to make room.
//
// Memory per entry: the token string (≈ 1.1 KiB for a Cognito access
// token), its decoded payload (≈ 0.6 KiB), the Claims struct (≈ 300 B) and
// map overhead (≈ 50 B): about 2.1 KiB, so the default 4096 entries hold
// at most ≈ 9 MiB (tokens are at most MaxTokenSize, 16 KiB, each).
type tokenCache struct {
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]*Claims
}

func newTokenCache(size int) *tokenCache {
	per := (size + cacheShards - 1) / cacheShards
	c := &tokenCache{perShard: per}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*Claims)
	}
	return c
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
	return v
}

func (c *tokenCache) put(token string, claims *Claims, now time.Time) {
	s := c.shard(token)
	key := string([]byte(token)) // own copy: token may alias a larger buffer
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[token]; ok {
		return
	}
	if len(s.m) >= c.perShard {
		// Drop expired entries first, then arbitrary ones (map order is
		// random), visiting a bounded number.
		visited := 0
		for k, v := range s.m {
			if len(s.m) < c.perShard && visited >= 8 {
				break
			}
			if !now.Before(v.Expiry) || len(s.m) >= c.perShard {
				delete(s.m, k)
			}
			visited++
		}
	}
	s.m[key] = claims
}

func (c *tokenCache) remove(token string) {
	s := c.shard(token)
	s.mu.Lock()
	delete(s.m, token)
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

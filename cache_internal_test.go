package cognitoguard

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTokenCacheAccounting: the bytes charged follow every put, eviction
// and remove, never pass the bound, and an entry larger than a shard's
// budget is not cached.
func TestTokenCacheAccounting(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newTokenCache(64) // 4 entries and 16 KiB per shard
	claims := func(payload int) *Claims {
		return &Claims{Expiry: now.Add(time.Hour), from: &origin{raw: make([]byte, payload)}, Groups: []string{"a", "b"}}
	}
	var tokens []string
	for i := range 500 {
		tok := strings.Repeat("t", 100*(i%20)) + "." + strconv.Itoa(i) + string(rune('A'+i%16)) + "x"
		tokens = append(tokens, tok)
		c.put(tok, claims(50*(i%20)), now)
		if got, limit := c.size(), cacheShards*c.perShardBytes; got > limit {
			t.Fatalf("after %d puts: %d bytes charged, bound %d", i+1, got, limit)
		}
		if n := c.len(); n > cacheShards*c.perShard {
			t.Fatalf("after %d puts: %d entries", i+1, n)
		}
	}
	sum := 0
	for i := range c.shards {
		for tok, e := range c.shards[i].m {
			if e.cost != entryCost(tok, e.claims) {
				t.Fatalf("entry cost %d, want %d", e.cost, entryCost(tok, e.claims))
			}
			sum += e.cost
		}
	}
	if sum != c.size() {
		t.Fatalf("charged %d bytes, entries cost %d", c.size(), sum)
	}
	for _, tok := range tokens {
		c.remove(tok)
	}
	if c.len() != 0 || c.size() != 0 {
		t.Fatalf("after removing all: %d entries, %d bytes", c.len(), c.size())
	}
	huge := strings.Repeat("h", c.perShardBytes)
	c.put(huge, claims(10), now)
	if c.get(huge) != nil || c.size() != 0 {
		t.Fatal("an entry larger than a shard's budget was cached")
	}
}

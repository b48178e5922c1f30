package redisstore_test

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation/internal/storetest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

var _ cognitoguard.RevocationCheckerAt = (*redisstore.Store)(nil)

// TestRevokedAtJudgesFreshnessAtNow: RevokedAt judges the view's
// freshness at the time it is given (the Verifier's one clock read of the
// request) rather than reading the clock: a now past the staleness bound
// sends the lookup to Redis; a now without a monotonic reading is not
// trusted, and the store reads its own clock.
func TestRevokedAtJudgesFreshnessAtNow(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	s := newRedisStore(t, client, redisstore.Config{Prefix: uniquePrefix(), Staleness: time.Minute})
	ctx := t.Context()
	c := storetest.Claims(testPool, "alice", time.Now().Add(-time.Minute), "")
	if _, err := s.RevokedAt(ctx, c, time.Now()); err != nil { // first sight: one lookup
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		now     time.Time
		lookups uint64 // Redis lookups the call makes
	}{
		{"now", time.Now(), 0},
		{"past the staleness bound", time.Now().Add(time.Hour), 2}, // the user and the pool's app clients
		{"wall time only, past the bound", time.Now().Add(time.Hour).Round(0), 0},
		{"before the store started", time.Now().Add(-time.Hour), 0},
	} {
		before := s.Stats()
		if r, err := s.RevokedAt(ctx, c, tc.now); err != nil || r {
			t.Fatalf("%s: RevokedAt = %v, %v; want false, nil", tc.name, r, err)
		}
		after := s.Stats()
		if got := after.Lookups - before.Lookups; got != tc.lookups {
			t.Errorf("%s: %d Redis lookups, want %d", tc.name, got, tc.lookups)
		}
		hits := uint64(1)
		if tc.lookups > 0 {
			hits = 0
		}
		if got := after.MemoryHits - before.MemoryHits; got != hits {
			t.Errorf("%s: %d memory hits, want %d", tc.name, got, hits)
		}
	}
}

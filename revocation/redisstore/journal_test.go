package redisstore_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestRedisServerForgedPublishNotRestored: a client that can only PUBLISH
// forges a sign-out of mallory, and a revocation of an app client, that
// Redis never held. After a FLUSHALL the instance restores the sign-outs
// it knows Redis held (alice's, its own write), never the forged ones: the
// journal keeps only what a re-read of Redis returned (issue 19 item 4).
func TestRedisServerForgedPublishNotRestored(t *testing.T) {
	redisstore.SetHealthEveryForTest(t, 100*time.Millisecond)
	addr, _ := redistest.Server(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	s := newRedisStore(t, c, redisstore.Config{})
	ctx := t.Context()
	if err := s.RevokeUser(ctx, testPool, "alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	forge(t, c, "mallory", "2", "u", now, testPool, "mallory")
	// An app client's revocation travels on the pool's channel (the empty sub's).
	forge(t, c, "", "2", "c", now, testPool, "app-1")
	eventually(t, 2*time.Second, "both messages checked against Redis", func() bool {
		st := s.Stats()
		return st.Journaled == 1 && st.Unheld == 2
	})
	if _, err := redistest.Do(addr, "FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "loss detected and restored", func() bool {
		st := s.Stats()
		return st.DataLosses == 1 && st.Restored >= 1 && st.Trusted
	})
	if n, err := c.Exists(ctx, redisstore.KeyForTest(redisstore.DefaultPrefix, testPool, "alice")).Result(); n != 1 || err != nil {
		t.Errorf("alice's sign-out (held by Redis) not restored: %d, %v", n, err)
	}
	if v, err := c.HGetAll(ctx, redisstore.KeyForTest(redisstore.DefaultPrefix, testPool, "mallory")).Result(); len(v) != 0 || err != nil {
		t.Errorf("forged sign-out of mallory restored into Redis after the loss: %v, %v", v, err)
	}
	if v, err := c.HGetAll(ctx, redisstore.KeyForTest(redisstore.DefaultPrefix, testPool, "")).Result(); len(v) != 0 || err != nil {
		t.Errorf("forged revocation of app client app-1 restored into Redis after the loss: %v, %v", v, err)
	}
	if st := s.Stats(); st.Restored != 1 {
		t.Errorf("Stats.Restored = %d, want 1 (alice only)", st.Restored)
	}
}

package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestRunRedisOutage runs three consumers on the Redis store (miniredis)
// and stops Redis for a while: the message stays hidden in the hand of
// the one that received it (no other receives it, no dead letter
// although its visibility is 1 s and MaxReceiveCount 2), and is recorded
// in Redis once it is back.
func TestRunRedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of outage")
	}
	leaktest.Check(t)
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	store := newRedisStore(t, client)
	mq := events.NewMemQueue(events.MemQueueConfig{Visibility: time.Second, Wait: 200 * time.Millisecond, MaxReceiveCount: 2})
	c, err := events.New(store, testPools, events.Config{Visibility: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Second)
	mr.Close() // Redis down
	send(t, mq, edit(t, testdata(t, "AdminDeleteUser"), func(_, d map[string]any) { d["eventTime"] = at.Format(time.RFC3339) }))
	for range 3 {
		defer run(t, c, mq)()
	}
	time.Sleep(4 * time.Second)
	if dead := mq.DeadLetters(); len(dead) != 0 || mq.Len() != 1 {
		t.Fatalf("during the outage: %d dead letters, %d queued; want 0, 1", len(dead), mq.Len())
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for mq.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("not recorded 20 s after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(mq.DeadLetters()) != 0 {
		t.Error("a dead letter")
	}
	got, ok, err := store.SignedOutAt(t.Context(), testPool, testSub)
	if err != nil || !ok || !got.Equal(at) {
		t.Errorf("SignedOutAt = %v, %v, %v; want %v", got, ok, err, at)
	}
}

// redisStore is the Redis revocation store as the consumer and the test
// use it.
type redisStore interface {
	events.Recorder
	SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error)
}

// newRedisStore is the one place that builds the Redis store.
func newRedisStore(t *testing.T, client redis.UniversalClient) redisStore {
	t.Helper()
	s, err := redisstore.New(client, redisstore.Config{TrustUnverifiedEviction: true}) // miniredis reports no eviction policy
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

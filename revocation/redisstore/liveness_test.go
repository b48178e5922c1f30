package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestRedisServerWaitInstancesSilentSubscriber: an instance whose
// connections die silently (Redis drops them, the instance sees neither a
// byte nor a reset) keeps answering from its view until Staleness passes.
// A WaitInstances sign-out made meanwhile reaches one subscriber by
// PUBLISH's count, the writer itself, but two instances are live: it is a
// shortfall (ErrUnconfirmed), never a success while the silent instance
// still answers "not revoked".
func TestRedisServerWaitInstancesSilentSubscriber(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	addr, _ := redistest.Server(t)
	proxy := redistest.NewProxy(t, addr)
	prefix := uniquePrefix()
	const staleness = time.Second
	pc := redis.NewClient(&redis.Options{Addr: proxy.Addr()})
	t.Cleanup(func() { pc.Close() })
	silent := newRedisStore(t, pc, redisstore.Config{Prefix: prefix, Staleness: staleness})
	dc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { dc.Close() })
	writer := newRedisStore(t, dc, redisstore.Config{Prefix: prefix, Staleness: staleness, WaitInstances: true})
	ctx := t.Context()
	if r, err := revokedErr(ctx, silent, "alice"); r || err != nil { // "no record" cached
		t.Fatalf("warm-up: %v, %v", r, err)
	}
	if err := writer.RevokeUser(ctx, testPool, "bob", time.Now()); err != nil {
		t.Fatalf("with both instances live: %v", err)
	}

	proxy.Silence()
	// Redis has seen the silent instance's subscription go.
	eventually(t, 2*time.Second, "Redis drops the silent subscriber", func() bool {
		n, err := dc.PubSubNumSub(ctx, redisstore.ChannelForTest(prefix, testPool, "alice")).Result()
		return err == nil && n[redisstore.ChannelForTest(prefix, testPool, "alice")] == 1
	})
	err := writer.RevokeUser(ctx, testPool, "alice", time.Now())
	r, lookupErr := revokedErr(ctx, silent, "alice")
	answered := lookupErr == nil && !r
	if err == nil && answered {
		t.Fatalf("RevokeUser with WaitInstances returned nil while a silent instance answers alice not revoked")
	}
	if !errors.Is(err, revocation.ErrUnconfirmed) || !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("RevokeUser with a silent instance: %v, want revocation.ErrUnconfirmed", err)
	}
}

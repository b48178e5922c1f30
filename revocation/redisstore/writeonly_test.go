package redisstore_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// pubsubClients counts the connections of addr in a pub/sub state.
func pubsubClients(t *testing.T, addr string) int {
	t.Helper()
	out, err := redistest.Do(addr, "CLIENT", "LIST", "TYPE", "pubsub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(out, "id=")
}

// TestRedisServerWriteOnly: a write-only store (the events consumer's
// Lambda) opens no subscription and starts no goroutine, writes through
// the same script (latest T wins, TTL) and publishes, so that a normal
// store that already cached "no record" for the user learns of it by
// pub/sub; its lookups fail with ErrWriteOnly.
func TestRedisServerWriteOnly(t *testing.T) {
	addr, _ := redistest.Server(t)
	prefix := uniquePrefix()
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { c.Close() })
		return c
	}
	reader := newRedisStore(t, newClient(), redisstore.Config{Prefix: prefix})
	ctx := t.Context()
	at := time.Now()
	if mustRevoked(t, ctx, reader, claims(testPool, "alice", at.Add(-time.Hour), "")) { // cached: no record
		t.Fatal("alice revoked before any sign-out")
	}
	subscribers := pubsubClients(t, addr)
	wc := newClient()
	goroutines := runtime.NumGoroutine()
	w, err := redisstore.New(wc, redisstore.Config{Prefix: prefix, WriteOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if n := runtime.NumGoroutine(); n != goroutines {
		t.Errorf("New started %d goroutines, want none", n-goroutines)
	}
	if err := w.Ready(ctx); err != nil {
		t.Errorf("Ready = %v, want nil at once", err)
	}
	if err := w.RevokeUser(ctx, testPool, "alice", at); err != nil {
		t.Fatal(err)
	}
	if err := w.RevokeUser(ctx, testPool, "alice", at.Add(-time.Minute)); err != nil { // stale: never lowers
		t.Fatal(err)
	}
	if err := w.RevokeSession(ctx, testPool, "bob", "origin-1", at); err != nil {
		t.Fatal(err)
	}
	lookups := reader.Stats().Lookups
	eventually(t, 2*time.Second, "the normal store applies the write-only store's sign-out", func() bool {
		return mustRevoked(t, ctx, reader, claims(testPool, "alice", at.Add(-time.Hour), ""))
	})
	if got := reader.Stats().Lookups; got != lookups {
		t.Errorf("the sign-out reached the reader by %d Redis reads, want by pub/sub", got-lookups)
	}
	if !mustRevoked(t, ctx, reader, claims(testPool, "bob", at.Add(-time.Hour), "origin-1")) {
		t.Error("bob's revoked session accepted")
	}
	if got, ok, err := reader.SignedOutAt(ctx, testPool, "alice"); err != nil || !ok || got.UnixMilli() != at.UnixMilli() {
		t.Errorf("SignedOutAt = %v, %v, %v; want %v (the stale write ignored)", got, ok, err, at)
	}
	ttl, err := redistest.Do(addr, "PTTL", redisstore.KeyForTest(prefix, testPool, "alice"))
	if err != nil || ttl == "-1" || ttl == "-2" {
		t.Errorf("PTTL of alice's record = %q, %v; want a TTL", ttl, err)
	}
	if n := pubsubClients(t, addr); n != subscribers {
		t.Errorf("%d pub/sub connections after the write-only store's writes, want %d (no subscription)", n, subscribers)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		eventually(t, time.Second, "the write calls' goroutines end", func() bool { return runtime.NumGoroutine() <= goroutines })
	}
	if _, err := w.Revoked(ctx, claims(testPool, "alice", at, "")); !errors.Is(err, redisstore.ErrWriteOnly) || errors.Is(err, revocation.ErrUnavailable) {
		t.Errorf("Revoked on a write-only store = %v, want ErrWriteOnly only", err)
	}
}

// TestRedisWriteOnlyConfig: WaitInstances needs a subscription;
// WaitReplicas is honoured.
func TestRedisWriteOnlyConfig(t *testing.T) {
	addr, _ := redistest.Server(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	if _, err := redisstore.New(c, redisstore.Config{WriteOnly: true, WaitInstances: true}); err == nil {
		t.Error("WriteOnly with WaitInstances: no error")
	}
	w, err := redisstore.New(c, redisstore.Config{Prefix: uniquePrefix(), WriteOnly: true, WaitReplicas: 1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.RevokeUser(t.Context(), testPool, "alice", time.Now()); !errors.Is(err, revocation.ErrUnconfirmed) {
		t.Errorf("RevokeUser with WaitReplicas 1 and no replica = %v, want ErrUnconfirmed", err)
	}
}

package otelguard_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/otelguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// TestObserveRedis reads a revocation.Redis store on a real redis-server
// through verifications and a sign-out, then while Redis is down.
func TestObserveRedis(t *testing.T) {
	addr, proc := redistest.Server(t)
	checkGoroutines(t)
	e := newEnv(t, otelguard.Config{})
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	// WaitReplicas 1 on a master without replicas: every write is
	// recorded but unconfirmed.
	store, err := revocation.NewRedis(client, revocation.RedisConfig{WaitReplicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	inst := attribute.String("store", "a")
	if _, err := e.tel.ObserveRedis(store, inst); err != nil {
		t.Fatal(err)
	}
	pool := newPool(t)
	v := newVerifier(t, pool, e.tel, cognitoguard.Config{Revocation: store})

	alice := pool.AccessToken("alice")
	for range 3 {
		if _, err := v.Verify(t.Context(), alice); err != nil {
			t.Fatal(err)
		}
	}
	rec := e.tel.Recorder(store)
	err = rec.RevokeUser(t.Context(), pool.PoolID(), sub(t, pool, "bob"), time.Now())
	if !errors.Is(err, revocation.ErrUnconfirmed) {
		t.Fatalf("RevokeUser with WaitReplicas 1 and no replica: %v, want ErrUnconfirmed", err)
	}
	waitUntil(t, "the sign-out message", func() bool { return store.Stats().Messages == 1 })

	st := store.Stats()
	if st.Lookups != 1 || st.MemoryHits != 2 || st.Unconfirmed != 1 || st.Entries != 1 || !st.Trusted {
		t.Fatalf("Stats %+v: the scenario did not run as planned", st)
	}
	m := e.collect(t)
	one := set(inst)
	for name, want := range map[string]uint64{
		"cognitoguard.revocation.lookups":          st.Lookups,
		"cognitoguard.revocation.memory_hits":      st.MemoryHits,
		"cognitoguard.revocation.round_trips":      st.RoundTrips,
		"cognitoguard.revocation.messages":         st.Messages,
		"cognitoguard.revocation.unconfirmed":      st.Unconfirmed,
		"cognitoguard.revocation.rebuilds":         0,
		"cognitoguard.revocation.stale_rejections": 0,
		"cognitoguard.revocation.acks.sent":        st.AcksSent,
		"cognitoguard.revocation.acks.dropped":     st.AcksDropped,
		"cognitoguard.revocation.view.entries":     1,
		"cognitoguard.revocation.trusted":          1,
	} {
		equalPoints(t, name, m.ints(t, name), map[string]int64{one: int64(want)})
	}
	equalPoints(t, "cognitoguard.signouts", m.ints(t, "cognitoguard.signouts"), map[string]int64{
		set(otelguard.AttrSignOutScope.String("user"), otelguard.AttrSignOutOutcome.String("unconfirmed")): 1,
	})

	// Redis goes away: the view is no longer trusted and Revoked fails
	// closed.
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the view to be untrusted", func() bool { return !store.Stats().Trusted })
	if _, err := v.Verify(t.Context(), alice); !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("Verify with Redis down: %v, want unavailable", err)
	}
	st = store.Stats()
	m = e.collect(t)
	equalPoints(t, "trusted", m.ints(t, "cognitoguard.revocation.trusted"), map[string]int64{one: 0})
	equalPoints(t, "stale_rejections", m.ints(t, "cognitoguard.revocation.stale_rejections"), map[string]int64{one: int64(st.StaleRejections)})
	equalPoints(t, "lookups", m.ints(t, "cognitoguard.revocation.lookups"), map[string]int64{one: int64(st.Lookups)})
	if got := m.ints(t, "cognitoguard.verifications")[set(otelguard.AttrOutcome.String("unavailable"), verify)]; got != 1 {
		t.Errorf("unavailable verifications = %d, want 1", got)
	}
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package otelguard_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/otelguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestObserveRedis reads a redisstore.Store store on a real redis-server
// through verifications and a sign-out, a data loss (FLUSHALL), an
// evicting configuration, then while Redis is down.
func TestObserveRedis(t *testing.T) {
	addr, proc := redistest.Server(t)
	checkGoroutines(t)
	f := &redisFixture{env: newEnv(t, otelguard.Config{}), addr: addr, one: set(attribute.String("store", "a"))}
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	// WaitReplicas 1 on a master without replicas: every write is
	// recorded but unconfirmed.
	store, err := redisstore.New(client, redisstore.Config{WaitReplicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.store = store
	if _, err := f.tel.ObserveRedis(store, attribute.String("store", "a")); err != nil {
		t.Fatal(err)
	}
	f.pool = newPool(t)
	f.v = newVerifier(t, f.pool, f.tel, cognitoguard.Config{Revocation: store})

	f.steady(t)
	f.dataLoss(t)
	f.evicting(t)

	// Redis goes away: Revoked fails closed.
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(t.Context(), f.pool.AccessToken("alice")); !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("Verify with Redis down: %v, want unavailable", err)
	}
	st := store.Stats()
	m := f.collect(t)
	equalPoints(t, "trusted", m.floats(t, "cognitoguard.revocation.trusted"), map[string]float64{f.one: 0})
	equalPoints(t, "lookups", m.ints(t, "cognitoguard.revocation.lookups"), map[string]int64{f.one: int64(st.Lookups)})
	if got := m.ints(t, "cognitoguard.verifications")[set(otelguard.AttrOutcome.String("unavailable"), verify)]; got != 1 {
		t.Errorf("unavailable verifications = %d, want 1", got)
	}
}

// redisFixture is the store of TestObserveRedis and what it verifies
// with; one is the attribute set of the store's series.
type redisFixture struct {
	*env
	addr  string
	one   string
	store *redisstore.Store
	pool  *cognitotest.Pool
	v     *cognitoguard.Verifier
}

// steady: verifications (one lookup, then memory hits) and an unconfirmed
// sign-out, every instrument equal to Stats.
func (f *redisFixture) steady(t *testing.T) {
	alice := f.pool.AccessToken("alice")
	for range 3 {
		if _, err := f.v.Verify(t.Context(), alice); err != nil {
			t.Fatal(err)
		}
	}
	err := f.tel.Recorder(f.store).RevokeUser(t.Context(), f.pool.PoolID(), sub(t, f.pool, "bob"), time.Now())
	if !errors.Is(err, revocation.ErrUnconfirmed) {
		t.Fatalf("RevokeUser with WaitReplicas 1 and no replica: %v, want ErrUnconfirmed", err)
	}
	// Journaled, not only heard: the re-read for the journal must see the
	// record before dataLoss flushes it, or nothing is restored.
	waitUntil(t, "the sign-out journaled", func() bool { st := f.store.Stats(); return st.Messages == 1 && st.Journaled == 1 })

	st := f.store.Stats()
	// Two lookups and entries: alice's record and her pool's app-client revocations.
	if st.Lookups != 2 || st.MemoryHits != 2 || st.Unconfirmed != 1 || st.Entries != 2 || !st.Trusted {
		t.Fatalf("Stats %+v: the scenario did not run as planned", st)
	}
	m := f.collect(t)
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
		"cognitoguard.revocation.data_losses":      0,
		"cognitoguard.revocation.restored":         0,
	} {
		equalPoints(t, name, m.ints(t, name), map[string]int64{f.one: int64(want)})
	}
	for name, want := range map[string]float64{
		"cognitoguard.revocation.view.entries": 2,
		"cognitoguard.revocation.trusted":      1,
		"cognitoguard.revocation.evicting":     0,
		"cognitoguard.revocation.floor":        0,
	} {
		equalPoints(t, name, m.floats(t, name), map[string]float64{f.one: want})
	}
	// Proofs come every Staleness/4: a trusted view's is younger than
	// Staleness (1 s by default).
	if age := m.floats(t, "cognitoguard.revocation.freshness_age")[f.one]; age <= 0 || age > 1 {
		t.Errorf("freshness_age = %v s, want within (0, 1]", age)
	}
	equalPoints(t, "cognitoguard.signouts", m.ints(t, "cognitoguard.signouts"), map[string]int64{
		set(otelguard.AttrSignOutScope.String("user"), otelguard.AttrSignOutOutcome.String("unconfirmed")): 1,
	})
}

// dataLoss: Redis loses its data; the store notices, restores bob's
// sign-out and sets a floor.
func (f *redisFixture) dataLoss(t *testing.T) {
	lossStart := time.Now()
	if _, err := redistest.Do(f.addr, "FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the data loss healed", func() bool {
		st := f.store.Stats()
		return st.DataLosses >= 1 && st.Restored >= 1 && !st.Floor.IsZero()
	})
	lo := f.store.Stats()
	m := f.collect(t)
	hi := f.store.Stats()
	for name, get := range map[string]func(redisstore.Stats) uint64{
		"cognitoguard.revocation.data_losses": func(s redisstore.Stats) uint64 { return s.DataLosses },
		"cognitoguard.revocation.restored":    func(s redisstore.Stats) uint64 { return s.Restored },
	} {
		if got := m.ints(t, name)[f.one]; got < int64(get(lo)) || got > int64(get(hi)) {
			t.Errorf("%s = %d, want between %d and %d", name, got, get(lo), get(hi))
		}
	}
	floor := m.floats(t, "cognitoguard.revocation.floor")[f.one]
	if want := float64(hi.Floor.UnixNano()) / 1e9; floor != want || floor < float64(lossStart.Add(-time.Minute).Unix()) {
		t.Errorf("floor = %v, want %v (the floor set after %v)", floor, want, lossStart)
	}
}

// evicting: Redis may now evict keys; the store refuses it.
func (f *redisFixture) evicting(t *testing.T) {
	for _, args := range [][]string{{"CONFIG", "SET", "maxmemory", "1gb"}, {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}} {
		if _, err := redistest.Do(f.addr, args...); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the eviction policy noticed", func() bool { return strings.Contains(f.store.Stats().EvictionPolicy, "allkeys-lru") })
	m := f.collect(t)
	equalPoints(t, "evicting", m.floats(t, "cognitoguard.revocation.evicting"), map[string]float64{f.one: 1})
	equalPoints(t, "trusted", m.floats(t, "cognitoguard.revocation.trusted"), map[string]float64{f.one: 0})
}

// waitUntil polls cond for up to 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

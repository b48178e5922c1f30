package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// recordLog keeps the records logged at or above Warn.
type recordLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *recordLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelWarn }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	return nil
}
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *recordLog) WithGroup(string) slog.Handler      { return l }

// count returns how many records of level lv mention s.
func (l *recordLog) count(lv slog.Level, s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.recs {
		if r.Level == lv && strings.Contains(r.Message, s) {
			n++
		}
	}
	return n
}

func TestRedisServerEvictionRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	addr, _ := redistest.Server(t)
	for _, kv := range [][2]string{{"maxmemory", "4mb"}, {"maxmemory-policy", "volatile-lru"}} {
		if _, err := redistest.Do(addr, "CONFIG", "SET", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	prefix := uniquePrefix()
	logs := new(recordLog)
	s, err := redisstore.New(c, redisstore.Config{Prefix: prefix, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.Ready(short); !errors.Is(err, revocation.ErrUnavailable) || !strings.Contains(err.Error(), "maxmemory-policy") {
		t.Fatalf("Ready with an evicting Redis: %v, want revocation.ErrUnavailable naming maxmemory-policy", err)
	}
	_, err = revokedErr(ctx, s, "alice")
	if !errors.Is(err, revocation.ErrUnavailable) || !strings.Contains(err.Error(), "maxmemory-policy") {
		t.Fatalf("Revoked with an evicting Redis: %v, want revocation.ErrUnavailable naming maxmemory-policy", err)
	}
	err = s.RevokeUser(ctx, testPool, "alice", time.Now())
	if !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "maxmemory-policy") {
		t.Fatalf("RevokeUser with an evicting Redis: %v, want revocation.ErrUnconfirmed naming maxmemory-policy", err)
	}
	if _, ok, err := s.SignedOutAt(ctx, testPool, "alice"); !ok || err != nil {
		t.Errorf("the write was not attempted: SignedOutAt = %v, %v", ok, err)
	}
	if st := s.Stats(); !strings.Contains(st.EvictionPolicy, "volatile-lru") || st.Trusted {
		t.Errorf("Stats: policy %q, trusted %v", st.EvictionPolicy, st.Trusted)
	}
	if logs.count(slog.LevelError, "maxmemory-policy") != 1 {
		t.Errorf("want one Error record naming maxmemory-policy, got %d", logs.count(slog.LevelError, "maxmemory-policy"))
	}

	// The explicit opt-in trusts it.
	allowed := newRedisStore(t, c, redisstore.Config{Prefix: prefix, AllowEviction: true})
	if r, err := revokedErr(ctx, allowed, "alice"); !r || err != nil {
		t.Errorf("AllowEviction: Revoked = %v, %v; want true", r, err)
	}

	// Fixed: trusted again at the next check.
	if _, err := redistest.Do(addr, "CONFIG", "SET", "maxmemory-policy", "noeviction"); err != nil {
		t.Fatal(err)
	}
	ready, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	if err := s.Ready(ready); err != nil {
		t.Fatalf("after CONFIG SET maxmemory-policy noeviction: %v", err)
	}
	if r, err := revokedErr(ctx, s, "alice"); !r || err != nil {
		t.Errorf("Revoked = %v, %v; want true", r, err)
	}
}

func TestRedisEvictionPolicyUnknown(t *testing.T) {
	logs := new(recordLog)
	s, _, _ := miniStore(t, redisstore.Config{Logger: slog.New(logs)}) // miniredis refuses INFO memory
	if st := s.Stats(); st.EvictionPolicy != "unknown" || !st.Trusted {
		t.Errorf("Stats: policy %q, trusted %v; want unknown and trusted", st.EvictionPolicy, st.Trusted)
	}
	if n := logs.count(slog.LevelWarn, "maxmemory-policy unreadable"); n != 1 {
		t.Errorf("%d Warn records about the unreadable policy, want 1", n)
	}
	// Without the opt-in, an unverifiable policy fails closed.
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { c.Close() })
	s2, err := redisstore.New(c, redisstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := s2.Ready(ctx); !errors.Is(err, revocation.ErrUnavailable) || !strings.Contains(err.Error(), "TrustUnverifiedEviction") {
		t.Errorf("Ready without TrustUnverifiedEviction = %v, want ErrUnavailable naming it", err)
	}
}

// TestRedisServerDataLoss: Redis loses everything (FLUSHALL, or a restart
// without persistence). The running instances notice, restore what they
// received and, unable to prove that complete, record the floor; an
// instance started afterwards rejects the signed-out user's token and every
// token authenticated before the loss, and accepts later sign-ins.
func TestRedisServerDataLoss(t *testing.T) {
	for _, how := range []string{"FLUSHALL", "restart"} {
		t.Run(how, func(t *testing.T) {
			if testing.Short() && how == "restart" {
				t.Skip("multi-second restart")
			}
			addr, _ := redistest.Server(t)
			prefix := uniquePrefix()
			cfg := redisstore.Config{Prefix: prefix}
			newClient := func() *redis.Client {
				c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond})
				t.Cleanup(func() { c.Close() })
				return c
			}
			a := newRedisStore(t, newClient(), cfg)
			b := newRedisStore(t, newClient(), cfg)
			ctx := t.Context()
			before := time.Now().Add(-time.Minute)
			if err := a.RevokeUser(ctx, testPool, "alice", time.Now()); err != nil {
				t.Fatal(err)
			}
			eventually(t, 2*time.Second, "both journaled the sign-out", func() bool {
				return a.Stats().Journaled >= 1 && b.Stats().Journaled >= 1
			})

			start := time.Now()
			if how == "FLUSHALL" {
				if _, err := redistest.Do(addr, "FLUSHALL"); err != nil {
					t.Fatal(err)
				}
			} else {
				redistest.Restart(t, addr)
			}
			eventually(t, 15*time.Second, "both instances detect the loss", func() bool {
				return a.Stats().DataLosses >= 1 && b.Stats().DataLosses >= 1
			})
			detected := time.Since(start)
			eventually(t, 15*time.Second, "alice's sign-out restored in Redis", func() bool {
				_, ok, err := a.SignedOutAt(ctx, testPool, "alice")
				return ok && err == nil
			})
			restored := time.Since(start)
			t.Logf("%s: loss detected by both after %v, restored after %v", how, detected.Round(time.Millisecond), restored.Round(time.Millisecond))
			if detected > 5*time.Second+2*time.Second { // the design's 5 s, slack for a loaded machine
				t.Errorf("loss detected after %v, want within about 5s", detected)
			}

			c := newRedisStore(t, newClient(), cfg) // started after the loss
			wantFloor(t, before, a, b, c)
		})
	}
}

// wantFloor checks, on every store, that alice's sign-out was restored and
// the floor rejects what was authenticated before the loss, not after.
func wantFloor(t *testing.T, before time.Time, stores ...*redisstore.Store) {
	t.Helper()
	floor := stores[len(stores)-1].Stats().Floor
	if floor.IsZero() {
		t.Fatal("the last store (started after the loss) does not apply the floor")
	}
	for _, tc := range []struct {
		sub  string
		auth time.Time
		want bool
	}{
		{"alice", before, true},                    // her sign-out, restored
		{"bob", before, true},                      // authenticated before the loss: the floor
		{"bob", floor.Add(2 * time.Second), false}, // signed in after it
	} {
		for _, s := range stores {
			r, err := s.Revoked(t.Context(), claims(testPool, tc.sub, tc.auth, ""))
			if r != tc.want || err != nil {
				t.Errorf("%s authenticated %v: Revoked = %v, %v; want %v", tc.sub, tc.auth.Format(time.TimeOnly), r, err, tc.want)
			}
		}
	}
}

// TestRedisServerDataLossCompleteJournal: an instance subscribed without a
// gap for a whole TTL holds every live sign-out and app-client
// revocation: after a FLUSHALL it restores them and records no floor, so
// no one has to sign in again, and a new instance still rejects what was
// revoked.
func TestRedisServerDataLossCompleteJournal(t *testing.T) {
	if testing.Short() {
		t.Skip("waits one TTL")
	}
	redisstore.SetHealthEveryForTest(t, 100*time.Millisecond)
	addr, _ := redistest.Server(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	const ttl = 5 * time.Second
	cfg := redisstore.Config{Prefix: uniquePrefix(), TTL: ttl}
	s := newRedisStore(t, c, cfg)
	ctx := t.Context()
	time.Sleep(ttl + 200*time.Millisecond) // subscribed for a whole TTL
	before := time.Now().Add(-time.Second)
	if err := s.RevokeUser(ctx, testPool, "alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeClient(ctx, testPool, "m2m-orders", time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "both received and journaled", func() bool { return s.Stats().Journaled == 2 })
	if _, err := redistest.Do(addr, "FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "loss detected and restored", func() bool {
		st := s.Stats()
		return st.DataLosses == 1 && st.Restored == 2
	})
	if st := s.Stats(); !st.Floor.IsZero() {
		t.Errorf("floor %v recorded although the journal was complete", st.Floor)
	}
	fresh := newRedisStore(t, c, cfg)
	for _, tc := range []struct {
		name string
		c    *cognitoguard.Claims
		want bool
	}{
		{"alice, signed out", claims(testPool, "alice", before, ""), true},
		{"bob, never signed out", claims(testPool, "bob", before, ""), false},
		{"the revoked client", m2m("m2m-orders", before), true},
		{"another client", m2m("m2m-billing", before), false},
	} {
		if r, err := fresh.Revoked(ctx, tc.c); r != tc.want || err != nil {
			t.Errorf("%s, on a new store: %v, %v; want %v", tc.name, r, err, tc.want)
		}
	}
}

// roundTrips is a go-redis hook recording the commands of each round trip.
type roundTrips struct {
	mu    sync.Mutex
	trips [][]string
}

func (h *roundTrips) record(cmds ...redis.Cmder) {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.Name()
	}
	h.mu.Lock()
	h.trips = append(h.trips, names)
	h.mu.Unlock()
}

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(cmd)
		return next(ctx, cmd)
	}
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.record(cmds...)
		return next(ctx, cmds)
	}
}

// TestRedisHealthCheckOneRoundTrip: the health check reads a master's
// eviction policy and data-loss marker in one round trip, so that a
// fleet's background load on Redis is one round trip per instance and
// check.
func TestRedisHealthCheckOneRoundTrip(t *testing.T) {
	addr, _ := redistest.Server(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	h := new(roundTrips)
	c.AddHook(h)
	newRedisStore(t, c, redisstore.Config{Prefix: uniquePrefix()}) // Ready: checked once
	h.mu.Lock()
	defer h.mu.Unlock()
	checks, loads := 0, 0
	for _, trip := range h.trips {
		switch {
		case slices.Equal(trip, []string{"info", "evalsha"}), slices.Equal(trip, []string{"info", "evalsha", "evalsha"}): // with the live entry
			checks++
		case slices.Equal(trip, []string{"eval"}): // EVALSHA answered NOSCRIPT: a script's first run
			loads++
		case slices.Contains(trip, "info") || slices.Contains(trip, "evalsha"):
			t.Errorf("round trip %v: want INFO memory and the marker script together", trip)
		}
	}
	if loads > 2 {
		t.Errorf("the marker and live-entry scripts sent whole %d times, want once each", loads)
	}
	if checks == 0 {
		t.Errorf("no health check among the round trips %v", h.trips)
	}
}

// slotReads is a go-redis hook counting CLUSTER SLOTS calls.
type slotReads struct{ n atomic.Int64 }

func (h *slotReads) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *slotReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); len(args) == 2 && strings.EqualFold(fmt.Sprint(args[1]), "slots") {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *slotReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestClusterHealthCheckReusesMasters: the periodic health check reads the
// Cluster's slot map once every few checks, not at each (a fleet's
// background load on the masters).
func TestClusterHealthCheckReusesMasters(t *testing.T) {
	addrs := redistest.Cluster(t)
	redisstore.SetHealthEveryForTest(t, 20*time.Millisecond)
	c := clusterClient(t, addrs)
	h := new(slotReads)
	c.AddHook(h)
	s := newRedisStore(t, c, redisstore.Config{Prefix: uniquePrefix()})
	before, checks := h.n.Load(), 50
	time.Sleep(time.Duration(checks) * 20 * time.Millisecond)
	if got := h.n.Load() - before; got > int64(checks)/3 {
		t.Errorf("%d CLUSTER SLOTS in about %d health checks, want at most one in %d", got, checks, 3)
	}
	if !s.Stats().Trusted {
		t.Error("store not trusted")
	}
}

// healthGate is a go-redis hook failing the health check's round trip
// (INFO memory and the marker script) while closed, so that a test decides
// when an instance next reads its markers.
type healthGate struct{ closed atomic.Bool }

func (g *healthGate) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (g *healthGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (g *healthGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if g.closed.Load() && len(cmds) > 0 && cmds[0].Name() == "info" {
			return errors.New("health gate closed")
		}
		return next(ctx, cmds)
	}
}

// TestRedisServerDataLossHealedForLateInstance: an instance started
// between a FLUSHALL and the others' next check finds no loss (it creates
// the first marker it sees) and caches "no record" for a signed-out user.
// Once the others detect the loss and restore Redis from a complete
// journal (no floor), that instance MUST reject the user's token again:
// no instance keeps an answer read from the emptied Redis once the loss is
// healed (issue 19 item 3).
func TestRedisServerDataLossHealedForLateInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("waits one TTL")
	}
	redisstore.SetHealthEveryForTest(t, 100*time.Millisecond)
	addr, _ := redistest.Server(t)
	newClient := func(hooks ...redis.Hook) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr})
		for _, h := range hooks {
			c.AddHook(h)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	const ttl = 5 * time.Second
	cfg := redisstore.Config{Prefix: uniquePrefix(), TTL: ttl, Staleness: 200 * time.Millisecond}
	gate := new(healthGate)
	a := newRedisStore(t, newClient(gate), cfg)
	ctx := t.Context()
	time.Sleep(ttl + 200*time.Millisecond) // subscribed for a whole TTL: a's journal is complete
	before := time.Now().Add(-time.Second)
	if err := a.RevokeUser(ctx, testPool, "alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "a received and journaled the sign-out", func() bool { return a.Stats().Journaled >= 1 })

	gate.closed.Store(true) // a does not check again until the late instance has read Redis
	if _, err := redistest.Do(addr, "FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	late := newRedisStore(t, newClient(), cfg)
	if r, err := late.Revoked(ctx, claims(testPool, "alice", before, "")); r || err != nil {
		t.Fatalf("late instance before the loss is healed: Revoked = %v, %v; want false (read from the emptied Redis)", r, err)
	}
	gate.closed.Store(false)
	eventually(t, 5*time.Second, "a detects the loss and restores", func() bool {
		st := a.Stats()
		return st.DataLosses == 1 && st.Restored >= 1 && st.Trusted
	})
	if st := a.Stats(); !st.Floor.IsZero() {
		t.Fatalf("floor %v recorded although a's journal was complete", st.Floor)
	}
	eventually(t, 2*time.Second, "the late instance honours the restored sign-out", func() bool {
		r, err := late.Revoked(ctx, claims(testPool, "alice", before, ""))
		return r && err == nil
	})
}

// TestRedisHealthFailuresWithdrawTrust: an instance whose health checks
// keep failing while its subscriptions keep proving stops answering from
// its view before its live entry lapses, so that a WaitInstances writer
// never stops counting an instance that still answers from memory (issue
// 19 item 5). It reads Redis instead, and answers from its view again once
// a check succeeds.
func TestRedisHealthFailuresWithdrawTrust(t *testing.T) {
	redisstore.SetHealthEveryForTest(t, 50*time.Millisecond)
	mr := miniredis.RunT(t)
	gate := new(healthGate)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	c.AddHook(gate)
	t.Cleanup(func() { c.Close() })
	// The live entry lives 2×50 ms + 4×100 ms + 300 ms = 800 ms after a
	// check; the view answers until 500 ms after it.
	s := newRedisStore(t, c, redisstore.Config{Timeout: 100 * time.Millisecond, Staleness: 300 * time.Millisecond})
	ctx := t.Context()
	alice := claims(testPool, "alice", time.Now(), "")
	mustRevoked(t, ctx, s, alice)
	eventually(t, 2*time.Second, "trusted", func() bool { return s.Stats().Trusted })

	gate.closed.Store(true)
	eventually(t, 3*time.Second, "trust withdrawn while health checks fail", func() bool { return !s.Stats().Trusted })
	before := s.Stats().Lookups
	if r, err := s.Revoked(ctx, alice); r || err != nil {
		t.Fatalf("Revoked while health checks fail = %v, %v; want false from Redis", r, err)
	}
	if s.Stats().Lookups == before {
		t.Error("answered from the view while its health checks fail")
	}

	gate.closed.Store(false)
	eventually(t, 3*time.Second, "trusted again after a check", func() bool { return s.Stats().Trusted })
}

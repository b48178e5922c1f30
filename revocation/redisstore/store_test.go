package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/internal/storetest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

const testPool = "us-east-1_test"

var prefixSeq atomic.Int64

// uniquePrefix isolates stores sharing one Redis.
func uniquePrefix() string { return fmt.Sprintf("cgtest%d:", prefixSeq.Add(1)) }

// testLogger logs to the test output when -v is set.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// newRedisStore returns a ready store, closed at cleanup.
func newRedisStore(t testing.TB, c redis.UniversalClient, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	// miniredis answers neither INFO memory nor CONFIG GET; a real server
	// answers, so the opt-in changes nothing there.
	cfg.TrustUnverifiedEviction = true
	s, err := redisstore.New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually polls cond every few milliseconds until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func TestRedisMiniredisContract(t *testing.T) {
	var mr *miniredis.Miniredis
	storetest.Run(t, storetest.Env{
		NewStore: func(t *testing.T, now func() time.Time) revocation.Store {
			mr = miniredis.RunT(t)
			c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { c.Close() })
			return newRedisStore(t, c, redisstore.Config{Now: now})
		},
		Advance: func(t *testing.T, d time.Duration) { mr.FastForward(d) },
	})
}

func TestRedisServerContract(t *testing.T) {
	srv := startRedisServer(t)
	c := srv.client(t)
	storetest.Run(t, storetest.Env{
		NewStore: func(t *testing.T, now func() time.Time) revocation.Store {
			return newRedisStore(t, c, redisstore.Config{Now: now, Prefix: uniquePrefix()})
		},
	})
}

func TestClusterContract(t *testing.T) {
	addrs := startCluster(t)
	c := clusterClient(t, addrs)
	storetest.Run(t, storetest.Env{
		NewStore: func(t *testing.T, now func() time.Time) revocation.Store {
			return newRedisStore(t, c, redisstore.Config{Now: now, Prefix: uniquePrefix()})
		},
	})
}

// hook makes chosen commands fail or stall.
type hook struct {
	fail  atomic.Pointer[string] // command name to fail
	lose  atomic.Pointer[string] // command name to run, then fail (the answer lost)
	stall atomic.Pointer[string] // command name to delay by 400ms
}

func (h *hook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if p := h.fail.Load(); p != nil && cmd.Name() == *p {
			err := errors.New("injected failure")
			cmd.SetErr(err)
			return err
		}
		if p := h.stall.Load(); p != nil && cmd.Name() == *p {
			time.Sleep(400 * time.Millisecond) // ignores ctx, as a client without ContextTimeoutEnabled would
		}
		if p := h.lose.Load(); p != nil && cmd.Name() == *p {
			_ = next(ctx, cmd)
			err := errors.New("injected loss of the answer")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func ptr(s string) *string { return &s }

// miniStore returns a store on a fresh miniredis, its client and the server.
func miniStore(t *testing.T, cfg redisstore.Config) (*redisstore.Store, *redis.Client, *miniredis.Miniredis) {
	t.Helper()
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { c.Close() })
	return newRedisStore(t, c, cfg), c, mr
}

func TestRedisFirstSeenUserCostsOneRoundTrip(t *testing.T) {
	s, _, _ := miniStore(t, redisstore.Config{})
	ctx := t.Context()
	now := time.Now()
	if err := s.RevokeUser(ctx, testPool, "sub-out", now); err != nil {
		t.Fatal(err)
	}
	// The pool's app-client revocations are read once, with its first user.
	mustRevoked(t, ctx, s, claims(testPool, "sub-first", now, ""))
	if st := s.Stats(); st.Lookups != 2 || st.Entries != 2 {
		t.Errorf("first user of the pool: %d lookups, %d entries; want 2 (user, pool's clients), 2", st.Lookups, st.Entries)
	}
	for _, tc := range []struct {
		sub     string
		revoked bool
	}{
		{"sub-out", true},   // has a record
		{"sub-none", false}, // "no record" is cached too
	} {
		before := s.Stats()
		for range 10 {
			if r := mustRevoked(t, ctx, s, claims(testPool, tc.sub, now.Add(-time.Minute), "")); r != tc.revoked {
				t.Fatalf("%s: revoked = %v", tc.sub, r)
			}
		}
		after := s.Stats()
		if d := after.Lookups - before.Lookups; d != 1 {
			t.Errorf("%s: %d Redis lookups for 10 calls, want 1", tc.sub, d)
		}
		if d := after.MemoryHits - before.MemoryHits; d != 9 {
			t.Errorf("%s: %d memory hits, want 9", tc.sub, d)
		}
	}
}

func TestRedisOwnsItsKeys(t *testing.T) {
	storetest.OwnsKeys(t, func(t *testing.T) revocation.Store {
		s, _, _ := miniStore(t, redisstore.Config{})
		return s
	}, func(t *testing.T, s revocation.Store) {
		if st := s.(*redisstore.Store).Stats(); st.Lookups != 2 {
			t.Errorf("%d Redis lookups, want 2 (the user, the pool's clients): the view lost the entry", st.Lookups)
		}
	})
}

func TestRedisViewBounded(t *testing.T) {
	s, _, _ := miniStore(t, redisstore.Config{MaxEntries: 10})
	ctx := t.Context()
	for i := range 100 {
		mustRevoked(t, ctx, s, claims(testPool, fmt.Sprint("sub-", i), time.Now(), ""))
	}
	if n := s.Stats().Entries; n != 10 {
		t.Errorf("view holds %d entries, want 10", n)
	}
}

func TestRedisKeyLayout(t *testing.T) {
	s, _, mr := miniStore(t, redisstore.Config{Prefix: "app:"})
	ctx := t.Context()
	// Hostile sub and issuer strings cannot change the key layout.
	for _, sub := range []string{"plain", "{tag}", "a}b{c", "x:y", strings.Repeat("z", 1000)} {
		if err := s.RevokeUser(ctx, testPool+"/{x}", sub, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeSession(ctx, testPool, "plain", "origin-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	keys := mr.Keys()
	// The live-instance set, the records, and the data-loss marker (no TTL).
	if len(keys) != 8 || keys[0] != "app:2:live{0}" || keys[1] != "app:2:marker{0}" {
		t.Fatalf("keys = %q, want the live-instance set, the marker and 6 records", keys)
	}
	keys = keys[1:]
	if ttl := mr.TTL(keys[0]); ttl != 0 {
		t.Errorf("marker TTL %v, want none", ttl)
	}
	for _, k := range keys[1:] {
		hexPart, ok := strings.CutPrefix(k, "app:2:{")
		if !ok || len(hexPart) != 33 || hexPart[32] != '}' || strings.Trim(hexPart[:32], "0123456789abcdef") != "" {
			t.Errorf("key %q is not app:2:{<32 hex>}", k)
		}
		if ttl := mr.TTL(k); ttl <= 24*time.Hour || ttl > revocation.DefaultTTL {
			t.Errorf("key %q TTL %v, want about %v", k, ttl, revocation.DefaultTTL)
		}
	}
}

func TestRedisPublishFailure(t *testing.T) {
	mr := miniredis.RunT(t)
	h := new(hook)
	ca := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	ca.AddHook(h)
	t.Cleanup(func() { ca.Close() })
	cb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { cb.Close() })
	a := newRedisStore(t, ca, redisstore.Config{})
	b := newRedisStore(t, cb, redisstore.Config{})
	ctx := t.Context()
	at := time.Now()
	mustRevoked(t, ctx, b, claims(testPool, "sub-1", at, "")) // b caches "no record"

	h.fail.Store(ptr("publish"))
	err := a.RevokeUser(ctx, testPool, "sub-1", at)
	if !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("RevokeUser with a failing PUBLISH: %v, want revocation.ErrUnavailable", err)
	}
	// The record is in Redis (a fresh instance sees it) and a retry is safe.
	if got, ok, err := b.SignedOutAt(ctx, testPool, "sub-1"); err != nil || !ok || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("SignedOutAt = %v, %v, %v", got, ok, err)
	}
	h.fail.Store(nil)
	if err := a.RevokeUser(ctx, testPool, "sub-1", at.Add(-time.Hour)); err != nil { // retry, even with an older time
		t.Fatal(err)
	}
	eventually(t, time.Second, "b sees the retried sign-out", func() bool {
		return mustRevoked(t, ctx, b, claims(testPool, "sub-1", at.Add(-time.Minute), ""))
	})
}

// TestRedisWriteAppliedButFailed: a sign-out whose write reached Redis but
// whose answer was lost is never published; the instance that was asked
// to record it must still reject the user's tokens, even from a view that
// had cached "no record".
func TestRedisWriteAppliedButFailed(t *testing.T) {
	mr := miniredis.RunT(t)
	h := new(hook)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	c.AddHook(h)
	t.Cleanup(func() { c.Close() })
	s := newRedisStore(t, c, redisstore.Config{Staleness: 100 * time.Millisecond})
	ctx := t.Context()
	at := time.Now()
	mustRevoked(t, ctx, s, claims(testPool, "sub-1", at, "")) // caches "no record"
	h.lose.Store(ptr("evalsha"))
	if err := s.RevokeUser(ctx, testPool, "sub-1", at); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("RevokeUser with its answer lost: %v, want revocation.ErrUnavailable", err)
	}
	h.lose.Store(nil)
	if err := s.Ready(ctx); err != nil { // trusted again at the next proof
		t.Fatal(err)
	}
	if r := mustRevoked(t, ctx, s, claims(testPool, "sub-1", at.Add(-time.Minute), "")); !r {
		t.Error("the recording instance accepts the user's token after its failed sign-out")
	}
}

func TestRedisTimeoutBoundsCalls(t *testing.T) {
	mr := miniredis.RunT(t)
	h := new(hook)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()}) // ContextTimeoutEnabled false: ctx deadlines ignored
	c.AddHook(h)
	t.Cleanup(func() { c.Close() })
	s := newRedisStore(t, c, redisstore.Config{Timeout: 50 * time.Millisecond})
	ctx := t.Context()
	for _, tc := range []struct {
		cmd  string
		call func() error
	}{
		{"hgetall", func() error { _, err := revokedErr(ctx, s, "sub-slow"); return err }},
		{"evalsha", func() error { return s.RevokeUser(ctx, testPool, "sub-slow", time.Now()) }},
		{"hget", func() error { _, _, err := s.SignedOutAt(ctx, testPool, "sub-slow"); return err }},
	} {
		h.stall.Store(ptr(tc.cmd))
		start := time.Now()
		err := tc.call()
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Errorf("%s: took %v, want about Timeout (50ms)", tc.cmd, d)
		}
		if !errors.Is(err, revocation.ErrUnavailable) {
			t.Errorf("%s: %v, want revocation.ErrUnavailable", tc.cmd, err)
		}
		h.stall.Store(nil)
	}
	// Close waits for the abandoned calls.
}

func TestRedisIgnoresForeignMessages(t *testing.T) {
	s, c, _ := miniStore(t, redisstore.Config{})
	ctx := t.Context()
	mustRevoked(t, ctx, s, claims(testPool, "sub-1", time.Now(), ""))
	long := strings.Repeat("n", 65)
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	payloads := []string{"", "garbage", "2\x00u\x00notanumber\x00pool\x00sub", "9\x00u\x00" + now + "\x00" + testPool + "\x00sub-1",
		"1\x00u\x00" + now + "\x00" + testPool + "\x00sub-1\x00",   // version 1
		"2\x00u\x00" + now + "\x00" + testPool + "\x00sub-1\x00",   // a field too many
		"2\x00s\x00" + now + "\x00" + testPool + "\x00sub-1\x00",   // empty origin_jti
		"2\x00u\x00" + now + "\x00\x00sub-1",                       // empty pool
		"2\x00u\x00" + now + "\x00" + testPool + "\x00sub-1\x00id", // malformed acknowledgement requests
		"2\x00u\x00" + now + "\x00" + testPool + "\x00sub-1\x00{id}\x00nonce",
		"2\x00u\x00" + now + "\x00" + testPool + "\x00sub-1\x00id\x00" + long,
		"2\x00r\x00id\x00nonce", // the kind of an earlier draft
	}
	for _, p := range payloads {
		if err := c.Publish(ctx, redisstore.ChannelForTest(redisstore.DefaultPrefix, testPool, "sub-1"), p).Err(); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, time.Second, "messages received", func() bool { return s.Stats().Messages >= uint64(len(payloads)) })
	if r := mustRevoked(t, ctx, s, claims(testPool, "sub-1", time.Now(), "")); r {
		t.Error("revoked by garbage")
	}
	if !s.Stats().Trusted {
		t.Error("garbage made the view untrusted")
	}
}

func TestRedisConfigErrors(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { c.Close() })
	for _, tc := range []struct {
		name string
		cfg  redisstore.Config
	}{
		{"prefix with a brace", redisstore.Config{Prefix: "a{b}:"}},
		{"tiny TTL", redisstore.Config{TTL: time.Millisecond}},
		{"negative timeout", redisstore.Config{Timeout: -1}},
		{"tiny staleness", redisstore.Config{Staleness: time.Millisecond}},
		{"negative max entries", redisstore.Config{MaxEntries: -1}},
		{"negative wait replicas", redisstore.Config{WaitReplicas: -1}},
	} {
		if s, err := redisstore.New(c, tc.cfg); err == nil {
			s.Close()
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := redisstore.New(nil, redisstore.Config{}); err == nil {
		t.Error("nil client: no error")
	}
	// Timeouts that could block a subscription, and Close, forever.
	for _, o := range []*redis.Options{{Addr: mr.Addr(), ReadTimeout: -1}, {Addr: mr.Addr(), WriteTimeout: -2}} {
		unbounded := redis.NewClient(o)
		t.Cleanup(func() { unbounded.Close() })
		if s, err := redisstore.New(unbounded, redisstore.Config{}); err == nil {
			s.Close()
			t.Errorf("ReadTimeout %v, WriteTimeout %v: no error", o.ReadTimeout, o.WriteTimeout)
		}
	}
	cro := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{mr.Addr()}, ReadOnly: true})
	t.Cleanup(func() { cro.Close() })
	if s, err := redisstore.New(cro, redisstore.Config{WaitInstances: true}); err == nil {
		s.Close()
		t.Error("WaitInstances with a ReadOnly Cluster client: no error")
	}
	// A Ring hides shards from the health check and the subscriptions
	// (on c3ad881 its Subscribe panicked in the store's goroutine,
	// crashing the process): refused, naming what to use.
	mr2 := miniredis.RunT(t)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": mr.Addr(), "b": mr2.Addr()},
		ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { ring.Close() })
	if s, err := redisstore.New(ring, redisstore.Config{}); err == nil || !strings.Contains(err.Error(), "Cluster") {
		if s != nil {
			s.Close()
		}
		t.Errorf("Ring: %v, want an error naming the Redis Cluster", err)
	}
}

// storeGoroutines reports whether a goroutine runs code of package
// redisstore (the tests' own frames are redisstore_test's).
func storeGoroutines() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Contains(buf, []byte("cognitoguard/revocation/redisstore."))
}

func TestRedisReadyAndClose(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}

	s, err := redisstore.New(c, redisstore.Config{Timeout: 50 * time.Millisecond, TrustUnverifiedEviction: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 20 { // lookups (owned goroutines), writes, a stalled call
		revokedErr(ctx, s, fmt.Sprint("sub-", i))
	}
	if err := s.RevokeUser(ctx, testPool, "sub-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if !storeGoroutines() {
		t.Fatal("no goroutine of the store found before Close: the check below would prove nothing")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("Close closed the client: %v", err)
	}
	if _, err := revokedErr(ctx, s, "sub-1"); !errors.Is(err, revocation.ErrUnavailable) {
		t.Errorf("Revoked after Close: %v, want revocation.ErrUnavailable", err)
	}
	if err := s.Ready(ctx); !errors.Is(err, revocation.ErrUnavailable) {
		t.Errorf("Ready after Close: %v, want revocation.ErrUnavailable", err)
	}
	// The store's own goroutines end (counting every goroutine also counted
	// miniredis's, serving connections the pool had not closed yet).
	eventually(t, 5*time.Second, "the store's goroutines ended", func() bool { return !storeGoroutines() })

	// Ready honours its context while Redis is down.
	mr.Close()
	s2, err := redisstore.New(c, redisstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s2.Ready(rctx); !errors.Is(err, revocation.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ready with Redis down: %v", err)
	}
}

func BenchmarkRevokedHit(b *testing.B) {
	mr := miniredis.RunT(b)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	b.Cleanup(func() { c.Close() })
	s := newRedisStore(b, c, redisstore.Config{})
	ctx := b.Context()
	now := time.Now()
	const sub = "3f2a1b4c-1111-2222-3333-444455556666"
	// Claims strings as the Verifier hands them: not the ones stored.
	c1 := claims(strings.Clone(testPool), strings.Clone(sub), now.Add(time.Second), "origin")
	mustRevoked(b, ctx, s, c1) // first sight: one HGETALL
	if err := s.RevokeUser(ctx, testPool, sub, now); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r, err := s.Revoked(ctx, c1); r || err != nil {
			b.Fatal(r, err)
		}
	}
	if st := s.Stats(); st.Lookups != 2 { // the user, the pool's clients
		b.Fatalf("%d lookups: %+v", st.Lookups, st)
	}
}

func BenchmarkRevokedHitParallel(b *testing.B) {
	mr := miniredis.RunT(b)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	b.Cleanup(func() { c.Close() })
	s := newRedisStore(b, c, redisstore.Config{})
	ctx := b.Context()
	now := time.Now()
	c1 := claims(testPool, "3f2a1b4c-1111-2222-3333-444455556666", now, "origin")
	mustRevoked(b, ctx, s, c1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, err := s.Revoked(ctx, c1); r || err != nil {
				b.Fatal(r, err)
			}
		}
	})
}

// TestRedisVerifierFailsClosed checks the whole chain: a Redis outage makes
// the Verifier refuse tokens with its revocation.ErrUnavailable (503), never accept
// them, and recovers when Redis is back.
func TestRedisVerifierFailsClosed(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	s := newRedisStore(t, c, redisstore.Config{Staleness: 100 * time.Millisecond, Timeout: 50 * time.Millisecond})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{Revocation: s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	ctx := t.Context()
	pool.AddUser(cognitotest.User{Username: "alice"})
	tok := pool.AccessToken("alice")
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	mr.Close()
	eventually(t, time.Second, "503 while Redis is down", func() bool {
		_, err := v.Verify(ctx, tok)
		if err != nil && !errors.Is(err, cognitoguard.ErrUnavailable) {
			t.Fatalf("Verify = %v, want nil or revocation.ErrUnavailable", err)
		}
		return err != nil
	})
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "accepted again after Redis is back", func() bool {
		_, err := v.Verify(ctx, tok)
		return err == nil
	})
	u, _ := pool.User("alice")
	if err := s.RevokeUser(ctx, pool.PoolID(), u.Sub, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("after sign-out: %v, want ErrRevoked", err)
	}
}

var (
	claims      = storetest.Claims
	mustRevoked = storetest.MustRevoked
)

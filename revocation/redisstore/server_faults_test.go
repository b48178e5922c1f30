package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// faultConfig is the configuration of the fault tests: a short staleness
// bound so that failures show quickly.
func faultConfig(prefix string) redisstore.Config {
	return redisstore.Config{Prefix: prefix, Staleness: 300 * time.Millisecond, Timeout: 100 * time.Millisecond}
}

// revokedErr calls Revoked for a token of sub authenticated an hour ago.
func revokedErr(ctx context.Context, s revocation.Store, sub string) (bool, error) {
	return s.Revoked(ctx, claims(testPool, sub, time.Now().Add(-time.Hour), ""))
}

// propagation revokes sub through a and measures until b rejects it.
func propagation(t *testing.T, a, b revocation.Store, sub string) time.Duration {
	t.Helper()
	ctx := t.Context()
	start := time.Now()
	if err := a.RevokeUser(ctx, testPool, sub, time.Now()); err != nil {
		t.Fatal(err)
	}
	for {
		r, err := revokedErr(ctx, b, sub)
		if err != nil {
			t.Fatalf("%s: %v", sub, err)
		}
		if r {
			return time.Since(start)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%s: sign-out not seen by the other instance within 2s", sub)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func sharded(b bool) *bool { return &b }

func TestRedisServerPropagation(t *testing.T) {
	srv := startRedisServer(t)
	for _, tc := range []struct {
		name    string
		sharded *bool
		n       int
	}{
		{"classic pub/sub", nil, 200},
		{"sharded pub/sub on a standalone server", sharded(true), 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := uniquePrefix()
			cfg := redisstore.Config{Prefix: prefix, Sharded: tc.sharded}
			a := newRedisStore(t, srv.client(t), cfg)
			b := newRedisStore(t, srv.client(t), cfg)
			ctx := t.Context()
			subs := make([]string, tc.n)
			for i := range subs {
				subs[i] = fmt.Sprintf("sub-%04d", i)
				if r, err := revokedErr(ctx, b, subs[i]); r || err != nil {
					t.Fatal(r, err) // warms b's view with "no record"
				}
			}
			lookups := b.Stats().Lookups
			ds := make([]time.Duration, tc.n)
			for i, sub := range subs {
				ds[i] = propagation(t, a, b, sub)
			}
			if got := b.Stats().Lookups; got != lookups {
				t.Errorf("b read Redis %d times; want every sign-out to arrive by pub/sub", got-lookups)
			}
			p50, p99 := percentile(ds, 0.50), percentile(ds, 0.99)
			t.Logf("propagation, A.RevokeUser start → B.Revoked true, over %d sign-outs: p50 %v, p99 %v, max %v",
				tc.n, p50, p99, slices.Max(ds))
			if p99 > 100*time.Millisecond {
				t.Errorf("p99 %v above the 100ms bound of the design", p99)
			}
		})
	}
}

func TestRedisServerZeroRoundTrips(t *testing.T) {
	srv := startRedisServer(t)
	c := srv.client(t)
	s := newRedisStore(t, c, redisstore.Config{Prefix: uniquePrefix()})
	ctx := t.Context()
	now := time.Now()
	if err := s.RevokeUser(ctx, testPool, "sub-0", now); err != nil {
		t.Fatal(err)
	}
	// The sign-out's message is read back for the journal in the background.
	eventually(t, 2*time.Second, "sign-out journaled", func() bool { return s.Stats().Journaled == 1 })
	const users = 50
	for i := range users { // warm-up: one HGETALL per user at most
		revokedErr(ctx, s, "sub-"+string(rune('0'+i)))
	}
	before := s.Stats()
	counts := func() (n int64) {
		for _, cmd := range []string{"hgetall", "hget", "evalsha", "eval", "publish", "spublish", "get"} {
			n += commandCalls(t, c, cmd)
		}
		return n
	}
	serverBefore := counts()
	for i := range 1000 {
		sub := "sub-" + string(rune('0'+i%users))
		r, err := s.Revoked(ctx, claims(testPool, sub, now.Add(-time.Minute), ""))
		if err != nil || r != (i%users == 0) {
			t.Fatalf("Revoked(%s) = %v, %v", sub, r, err)
		}
	}
	after := s.Stats()
	if d := after.RoundTrips - before.RoundTrips; d != 0 {
		t.Errorf("Stats: %d round trips for 1000 known-user lookups, want 0", d)
	}
	if d := after.MemoryHits - before.MemoryHits; d != 1000 {
		t.Errorf("Stats: %d memory hits, want 1000", d)
	}
	if d := counts() - serverBefore; d != 0 {
		t.Errorf("INFO commandstats: %d data commands during 1000 known-user lookups, want 0", d)
	}
}

func TestRedisServerSIGSTOP(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	srv := startRedisServer(t)
	prefix := uniquePrefix()
	s := newRedisStore(t, srv.client(t), faultConfig(prefix))
	other := newRedisStore(t, srv.client(t), faultConfig(prefix))
	ctx := t.Context()
	for i, stop := range []time.Duration{
		500 * time.Millisecond,  // the connection survives: a pong proves freshness again
		1500 * time.Millisecond, // beyond the hung bound: the subscriber reconnects
	} {
		t.Run(stop.String(), func(t *testing.T) {
			sub := fmt.Sprint("sub-known-", i)
			if _, err := revokedErr(ctx, s, sub); err != nil {
				t.Fatal(err)
			}
			srv.signal(syscall.SIGSTOP)
			stopped := time.Now()
			resumed := false
			defer func() {
				if !resumed {
					srv.signal(syscall.SIGCONT)
				}
			}()
			failed := eventually(t, 2*time.Second, "fail closed after SIGSTOP", func() bool {
				_, err := revokedErr(ctx, s, sub)
				if err != nil && !errors.Is(err, revocation.ErrUnavailable) {
					t.Fatalf("error %v does not match revocation.ErrUnavailable", err)
				}
				return err != nil
			})
			t.Logf("SIGSTOP: known user fails closed after %v (Staleness 300ms)", failed)
			if failed > 300*time.Millisecond+150*time.Millisecond {
				t.Errorf("failed closed after %v, want within Staleness (300ms) plus scheduling slack", failed)
			}
			// Unknown users fail at once too (no round trip to a stopped server).
			start := time.Now()
			if _, err := revokedErr(ctx, s, "sub-unknown"); !errors.Is(err, revocation.ErrUnavailable) {
				t.Errorf("unknown user while stopped: %v, want revocation.ErrUnavailable", err)
			}
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Errorf("unknown user while stopped took %v, want an immediate failure", d)
			}
			if st := s.Stats(); st.Trusted || st.StaleRejections == 0 || st.FreshnessAge <= 300*time.Millisecond {
				t.Errorf("Stats = %+v, want untrusted with stale rejections, last proof older than Staleness", st)
			}
			time.Sleep(time.Until(stopped.Add(stop)))
			srv.signal(syscall.SIGCONT)
			resumed = true
			healthy := eventually(t, 3*time.Second, "healthy after SIGCONT", func() bool {
				_, err := revokedErr(ctx, s, sub)
				return err == nil
			})
			t.Logf("SIGCONT after %v stopped: healthy again after %v (rebuilds so far: %d)", stop, healthy, s.Stats().Rebuilds)
			if healthy > time.Second+200*time.Millisecond {
				t.Errorf("healthy after %v, want about 1s at most", healthy)
			}
			if st := s.Stats(); st.Trusted && st.FreshnessAge > 300*time.Millisecond {
				t.Errorf("Stats = %+v: trusted with a last proof older than Staleness", st)
			}
			// And sign-outs flow again.
			rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			if err := other.Ready(rctx); err != nil {
				t.Fatal(err)
			}
			if _, err := revokedErr(ctx, s, sub); err != nil {
				t.Fatal(err)
			}
			propagation(t, other, s, sub)
		})
	}
}

func TestRedisServerPubSubKill(t *testing.T) {
	srv := startRedisServer(t)
	prefix := uniquePrefix()
	admin := srv.client(t)
	a := newRedisStore(t, srv.client(t), faultConfig(prefix))
	b := newRedisStore(t, srv.client(t), faultConfig(prefix))
	ctx := t.Context()
	for _, sub := range []string{"sub-1", "sub-2"} {
		if _, err := revokedErr(ctx, b, sub); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.Stats().Entries; n != 3 { // and the pool's app-client revocations
		t.Fatalf("view holds %d entries, want 3", n)
	}
	// While b's subscription is down, a's sign-out of sub-1 is published
	// to nobody: b must not keep its cached "no record" for sub-1.
	killed, err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Result()
	if err != nil || killed < 2 {
		t.Fatalf("CLIENT KILL TYPE pubsub: %d, %v", killed, err)
	}
	eventually(t, 2*time.Second, "view rebuilt", func() bool {
		st := b.Stats()
		return st.Rebuilds >= 1 && st.Trusted
	})
	if n := b.Stats().Entries; n != 0 {
		t.Errorf("view holds %d entries after the rebuild, want 0", n)
	}
	if err := a.RevokeUser(ctx, testPool, "sub-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if r, err := revokedErr(ctx, b, "sub-1"); !r || err != nil {
		t.Fatalf("after rebuild: Revoked(sub-1) = %v, %v; want true", r, err)
	}
	// Messages after the reconnect are applied to the rebuilt view.
	if _, err := revokedErr(ctx, b, "sub-2"); err != nil {
		t.Fatal(err)
	}
	lookups := b.Stats().Lookups
	propagation(t, a, b, "sub-2")
	if got := b.Stats().Lookups; got != lookups {
		t.Errorf("sub-2 reached b by %d reads, want by pub/sub", got-lookups)
	}
}

func TestRedisServerRestart(t *testing.T) {
	srv := startRedisServer(t)
	prefix := uniquePrefix()
	a := newRedisStore(t, srv.client(t), faultConfig(prefix))
	b := newRedisStore(t, srv.client(t), faultConfig(prefix))
	ctx := t.Context()
	if _, err := revokedErr(ctx, b, "sub-1"); err != nil {
		t.Fatal(err)
	}
	srv.kill()
	eventually(t, 2*time.Second, "fail closed while Redis is down", func() bool {
		_, err := revokedErr(ctx, b, "sub-1")
		return errors.Is(err, revocation.ErrUnavailable)
	})
	if err := a.RevokeUser(ctx, testPool, "sub-1", time.Now()); !errors.Is(err, revocation.ErrUnavailable) {
		t.Errorf("RevokeUser while down: %v, want revocation.ErrUnavailable", err)
	}
	srv.restart()
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	for _, s := range []*redisstore.Store{a, b} {
		if err := s.Ready(rctx); err != nil {
			t.Fatalf("not ready after restart: %v", err)
		}
	}
	// The new server is empty: the sign-out that failed is not there, and
	// what the old server held is lost. Tokens authenticated before the
	// loss are rejected (the floor); later sign-ins pass, and sign-outs
	// propagate again.
	if r, err := revokedErr(ctx, b, "sub-1"); !r || err != nil {
		t.Fatalf("after restart, a token authenticated before it: %v, %v; want revoked (floor)", r, err)
	}
	st := b.Stats()
	if st.Rebuilds == 0 || st.DataLosses == 0 || st.Floor.IsZero() {
		t.Fatalf("Stats = %+v, want a rebuild, a data loss and a floor", st)
	}
	later := claims(testPool, "sub-1", st.Floor.Add(time.Second), "")
	if r, err := b.Revoked(ctx, later); r || err != nil {
		t.Fatalf("a sign-in after the floor: %v, %v; want not revoked", r, err)
	}
	if err := a.RevokeUser(ctx, testPool, "sub-1", st.Floor.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "the sign-out after the restart reaches b", func() bool {
		r, err := b.Revoked(ctx, later)
		return r && err == nil
	})
}

func TestClusterPropagation(t *testing.T) {
	addrs := startCluster(t)
	prefix := uniquePrefix()
	a := newRedisStore(t, clusterClient(t, addrs), redisstore.Config{Prefix: prefix})
	b := newRedisStore(t, clusterClient(t, addrs), redisstore.Config{Prefix: prefix})
	ctx := t.Context()
	// Both instances subscribe to every channel (sharded pub/sub), and the
	// channels spread over the three masters, two on each.
	perNode := map[string]int{}
	for i := range redisstore.DefaultChannels {
		ch := redisstore.ChannelNameForTest(prefix, i)
		for _, addr := range addrs {
			c := redis.NewClient(&redis.Options{Addr: addr})
			m, err := c.PubSubShardNumSub(ctx, ch).Result()
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			if n := m[ch]; n > 0 {
				perNode[addr]++
				if n != 2 {
					t.Errorf("PUBSUB SHARDNUMSUB %s on %s: %d subscribers, want 2", ch, addr, n)
				}
			}
		}
	}
	for _, addr := range addrs {
		if perNode[addr] != redisstore.DefaultChannels/3 {
			t.Errorf("sign-out channels per master: %v, want %d on each", perNode, redisstore.DefaultChannels/3)
			break
		}
	}
	// Users spread over the three masters, and so do their messages.
	spublish := func() (per []int64, total int64) {
		for _, addr := range addrs {
			c := redis.NewClient(&redis.Options{Addr: addr})
			n := commandCalls(t, c, "spublish")
			c.Close()
			per, total = append(per, n), total+n
		}
		return per, total
	}
	before, _ := spublish()
	var ds []time.Duration
	for i := range 30 {
		sub := "sub-cluster-" + time.Duration(i).String()
		if _, err := revokedErr(ctx, b, sub); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, propagation(t, a, b, sub))
	}
	t.Logf("cluster propagation over %d sign-outs: p50 %v, max %v", len(ds), percentile(ds, 0.5), slices.Max(ds))
	after, _ := spublish()
	var total int64
	for i := range after {
		after[i] -= before[i]
		total += after[i]
	}
	t.Logf("SPUBLISH per master for 30 sign-outs: %v", after)
	for _, n := range after {
		if n == 0 || n > total*2/3 {
			t.Errorf("SPUBLISH per master %v: want the sign-outs spread over every master", after)
			break
		}
	}
	if st := b.Stats(); st.Messages < 30 {
		t.Errorf("b received %d messages, want 30", st.Messages)
	}
	// And through a Verifier's eyes: the error class is revoked, not unavailable.
	r, err := b.Revoked(ctx, &cognitoguard.Claims{UserPoolID: testPool, Subject: "sub-cluster-0s", AuthTime: time.Now().Add(-time.Hour)})
	if !r || err != nil {
		t.Errorf("Revoked = %v, %v", r, err)
	}
}

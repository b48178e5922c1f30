package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestRedisServerWaitInstances: with WaitInstances, when RevokeUser returns,
// every other instance already rejects the user from its view, checked at
// once (no polling) for 100 users, with classic and sharded pub/sub and on
// a Cluster. Without WaitInstances the check would race the pub/sub
// delivery and fail.
func TestRedisServerWaitInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	srv := startRedisServer(t)
	var cluster []string
	for _, tc := range []struct {
		name    string
		client  func(t *testing.T) redis.UniversalClient
		sharded *bool
	}{
		{"standalone", func(t *testing.T) redis.UniversalClient { return srv.client(t) }, nil},
		{"standalone sharded", func(t *testing.T) redis.UniversalClient { return srv.client(t) }, sharded(true)},
		{"cluster", func(t *testing.T) redis.UniversalClient {
			if cluster == nil {
				cluster = startCluster(t)
			}
			return clusterClient(t, cluster)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A generous Timeout: this test is about when, not how fast.
			cfg := redisstore.Config{Prefix: uniquePrefix(), Sharded: tc.sharded, Timeout: 2 * time.Second}
			wcfg := cfg
			wcfg.WaitInstances = true
			a := newRedisStore(t, tc.client(t), wcfg)
			others := []*redisstore.Store{newRedisStore(t, tc.client(t), cfg), newRedisStore(t, tc.client(t), cfg)}
			ctx := t.Context()
			const users = 100
			var took []time.Duration
			for i := range users {
				sub := fmt.Sprintf("sub-%d", i)
				for _, o := range others {
					if r, err := revokedErr(ctx, o, sub); r || err != nil {
						t.Fatalf("%s before: %v, %v", sub, r, err)
					}
				}
				start := time.Now()
				if err := a.RevokeUser(ctx, testPool, sub, time.Now()); err != nil {
					t.Fatalf("%s: %v", sub, err)
				}
				took = append(took, time.Since(start))
				for j, o := range others {
					if r, err := revokedErr(ctx, o, sub); !r || err != nil {
						t.Fatalf("instance %d: %s not rejected right after RevokeUser returned: %v, %v", j, sub, r, err)
					}
				}
			}
			t.Logf("RevokeUser with WaitInstances (3 instances): p50 %v, p99 %v", percentile(took, 0.5), percentile(took, 0.99))
			for j, o := range others {
				// The answers came from the views, not from Redis reads: one
				// lookup per user at first sight, and one for the pool's app
				// clients.
				if st := o.Stats(); st.Lookups != users+1 || st.MemoryHits != users {
					t.Errorf("instance %d: Stats = %+v, want %d lookups (first sight, and the pool's clients) and %d memory hits", j, st, users+1, users)
				}
			}
		})
	}
}

// TestRedisServerWaitInstancesShortfall: a subscriber that never acknowledges
// (here a bare SUBSCRIBE, as redis-cli would be) turns the write into an
// error within Timeout naming the counts; the record is kept and applied
// by the instances that did acknowledge, and once the silent subscriber is
// gone the retry succeeds.
func TestRedisServerWaitInstancesShortfall(t *testing.T) {
	srv := startRedisServer(t)
	prefix := uniquePrefix()
	a := newRedisStore(t, srv.client(t), redisstore.Config{Prefix: prefix, WaitInstances: true, Timeout: 300 * time.Millisecond})
	b := newRedisStore(t, srv.client(t), redisstore.Config{Prefix: prefix})
	ctx := t.Context()
	if _, err := revokedErr(ctx, b, "sub-1"); err != nil {
		t.Fatal(err)
	}

	mute := srv.client(t).Subscribe(ctx, redisstore.ChannelForTest(prefix, testPool, "sub-1"))
	if _, err := mute.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	start := time.Now()
	err := a.RevokeUser(ctx, testPool, "sub-1", time.Now())
	if !errors.Is(err, revocation.ErrUnavailable) || !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "applied by 2 of 3 instances") {
		t.Fatalf("with a silent subscriber: %v, want revocation.ErrUnavailable naming 2 of 3", err)
	}
	if d := time.Since(start); d > 3*time.Second { // bounded by Timeout; slack for loaded CI machines
		t.Errorf("shortfall reported after %v, want about Timeout (300ms)", d)
	}
	if r, err := revokedErr(ctx, b, "sub-1"); !r || err != nil {
		t.Fatalf("the acknowledging instance: Revoked = %v, %v; want true", r, err)
	}

	if err := mute.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "retry once the silent subscriber is gone", func() bool {
		return a.RevokeUser(ctx, testPool, "sub-1", time.Now()) == nil
	})
}

// TestRedisServerWaitInstancesClose: a store closed while its write waits for
// acknowledgements returns an error, and Close ends every goroutine.
func TestRedisServerWaitInstancesClose(t *testing.T) {
	srv := startRedisServer(t)
	prefix := uniquePrefix()
	a, err := redisstore.New(srv.client(t), redisstore.Config{Prefix: prefix, WaitInstances: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := a.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	mute := srv.client(t).Subscribe(ctx, redisstore.ChannelForTest(prefix, testPool, "sub-1"))
	t.Cleanup(func() { mute.Close() })
	if _, err := mute.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- a.RevokeUser(ctx, testPool, "sub-1", time.Now()) }()
	time.Sleep(100 * time.Millisecond) // the write is waiting for the silent subscriber
	a.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, revocation.ErrUnavailable) {
			t.Errorf("RevokeUser interrupted by Close: %v, want revocation.ErrUnavailable", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("RevokeUser still waiting 2s after Close")
	}
}

// TestRedisWaitInstancesAcksToPublisherOnly: the acknowledgements go to
// the publisher's own channel, one per instance, never to the sign-out
// channel that every instance reads (which would cost N² deliveries).
func TestRedisWaitInstancesAcksToPublisherOnly(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { client.Close() })
	ctx := t.Context()
	signouts := client.Subscribe(ctx, redisstore.ChannelForTest(redisstore.DefaultPrefix, testPool, "sub-1"))
	acks := client.PSubscribe(ctx, redisstore.DefaultPrefix+"2:ack:*")
	for _, ps := range []*redis.PubSub{signouts, acks} {
		t.Cleanup(func() { ps.Close() })
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a := newRedisStore(t, client, redisstore.Config{WaitInstances: true})
	b := newRedisStore(t, client, redisstore.Config{})
	c := newRedisStore(t, client, redisstore.Config{})

	// The two raw subscribers count as instances that never acknowledge
	// on the sign-out channel: 3 of 4 receivers acknowledge.
	err := a.RevokeUser(ctx, testPool, "sub-1", time.Now())
	if !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "applied by 3 of 4 instances") {
		t.Fatalf("RevokeUser: %v, want 3 of 4 (the raw subscriber of the sign-out channel never acknowledges)", err)
	}
	// One message on the user's channel: the sign-out, asking for
	// acknowledgements (the requester's id and a nonce).
	m, err := signouts.ReceiveMessage(ctx)
	if err != nil || strings.Count(m.Payload, "\x00") != 6 || !strings.HasPrefix(m.Payload, "2\x00u\x00") {
		t.Fatalf("sign-out message %q, %v; want the 7-field format", m.Payload, err)
	}
	seen := map[string]int{}
	for range 3 {
		m, err := acks.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen[m.Channel]++
	}
	if len(seen) != 1 {
		t.Errorf("acknowledgements on %v, want all on the publisher's channel", seen)
	}
	for i, s := range []*redisstore.Store{a, b, c} {
		wantUnconfirmed := map[bool]uint64{true: 1}[i == 0]
		// The acker counts after its PUBLISH returns, which may be just
		// after the subscriber above got the message.
		eventually(t, time.Second, fmt.Sprintf("instance %d counters", i), func() bool {
			st := s.Stats()
			return st.AcksSent == 1 && st.AcksDropped == 0 && st.Unconfirmed == wantUnconfirmed
		})
	}
	// Nothing else arrives on either channel: no acknowledgement was sent
	// to the sign-out channel.
	for _, ps := range []*redis.PubSub{signouts, acks} {
		if msg, err := ps.ReceiveTimeout(ctx, 200*time.Millisecond); err == nil {
			t.Errorf("unexpected %v", msg)
		}
	}
}

// TestRedisAckChannelsOnlyForRequesters: only an instance that asks for
// acknowledgements (WaitInstances) subscribes to its acknowledgement
// channels; the others would hold K idle subscriptions on Redis each.
func TestRedisAckChannelsOnlyForRequesters(t *testing.T) {
	_, c, _ := miniStore(t, redisstore.Config{})
	ctx := t.Context()
	acks := func() int {
		chans, err := c.PubSubChannels(ctx, redisstore.DefaultPrefix+"2:ack:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(chans)
	}
	if n := acks(); n != 0 {
		t.Errorf("%d acknowledgement channels subscribed without WaitInstances, want 0", n)
	}
	newRedisStore(t, c, redisstore.Config{WaitInstances: true})
	if n := acks(); n != redisstore.DefaultChannels {
		t.Errorf("%d acknowledgement channels subscribed with WaitInstances, want %d", n, redisstore.DefaultChannels)
	}
}

// dialGate is a go-redis hook that holds every new connection until
// release.
type dialGate struct {
	open chan struct{}
	once sync.Once
}

func (g *dialGate) release() { g.once.Do(func() { close(g.open) }) }

func (g *dialGate) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return next(ctx, network, addr)
	}
}
func (g *dialGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (g *dialGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestRedisWaitInstancesBeforeSubscribed: a requester asked to sign a user
// out before its own subscription is up (a command-line tool, a service
// just started) waits for it: the acknowledgements come back on that
// subscription and would otherwise be lost, failing a sign-out that every
// instance applied (on c3ad881 it published at once and reported
// "applied by 0 of 1 instances"). A subscription that never comes within
// Timeout makes the sign-out unconfirmed, published all the same.
func TestRedisWaitInstancesBeforeSubscribed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opens   bool // the requester's subscription comes up (late)
		timeout time.Duration
	}{
		{"subscribed late", true, 2 * time.Second},
		{"never subscribed", false, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mr := miniredis.RunT(t)
			peer := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { peer.Close() })
			b := newRedisStore(t, peer, redisstore.Config{})
			before := b.Stats().Messages

			// The requester's commands run on idle connections; its
			// subscription needs a new one, held at the gate.
			c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { c.Close() })
			var held []*redis.Conn
			for range 4 { // four connections at once, then back to the pool
				cn := c.Conn()
				if err := cn.Ping(t.Context()).Err(); err != nil {
					t.Fatal(err)
				}
				held = append(held, cn)
			}
			for _, cn := range held {
				cn.Close()
			}
			gate := &dialGate{open: make(chan struct{})}
			c.AddHook(gate)
			a, err := redisstore.New(c, redisstore.Config{WaitInstances: true, Timeout: tc.timeout, Logger: testLogger(t), TrustUnverifiedEviction: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			t.Cleanup(gate.release) // before Close (cleanups run last first)
			errc := make(chan error, 1)
			go func() { errc <- a.RevokeUser(t.Context(), testPool, "sub-1", time.Now()) }()
			if !tc.opens {
				err := <-errc
				if !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "not subscribed") {
					t.Fatalf("RevokeUser, never subscribed: %v, want revocation.ErrUnconfirmed naming the subscription", err)
				}
				if st := a.Stats(); st.Unconfirmed != 1 {
					t.Errorf("Unconfirmed = %d, want 1", st.Unconfirmed)
				}
				eventually(t, 2*time.Second, "the peer applies the sign-out published all the same", func() bool {
					return b.Stats().Messages > before
				})
				return
			}
			// Open the gate once the peer has the sign-out (published too
			// early), or after a while (the requester waits, as it should).
			for deadline := time.Now().Add(300 * time.Millisecond); b.Stats().Messages == before && time.Now().Before(deadline); {
				time.Sleep(2 * time.Millisecond)
			}
			gate.release()
			if err := <-errc; err != nil {
				t.Fatalf("RevokeUser on a store not yet subscribed: %v, want nil (the peer applied it)", err)
			}
			if r, err := revokedErr(t.Context(), b, "sub-1"); !r || err != nil {
				t.Errorf("peer: Revoked = %v, %v", r, err)
			}
		})
	}
}

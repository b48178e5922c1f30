package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestClusterShardFaults: on a 3-master Cluster, the sign-out channels'
// subscriptions survive a reconnect of every one of them (go-redis
// resubscribes a connection's channels in one SSUBSCRIBE, refused across
// slots: one subscription per channel), a lost shard makes every lookup
// fail closed (the oldest proof decides) until it answers again, and a
// data loss on one shard is detected and healed with a floor.
func TestClusterShardFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second cluster faults")
	}
	nodes := startClusterNodes(t, 0)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr())
	}
	prefix := uniquePrefix()
	cfg := redisstore.Config{Prefix: prefix, Staleness: 500 * time.Millisecond}
	a := newRedisStore(t, clusterClient(t, addrs), cfg)
	b := newRedisStore(t, clusterClient(t, addrs), cfg)
	ctx := t.Context()

	// Every subscription reconnects: trusted again, sign-outs flow on
	// every channel.
	for _, n := range nodes {
		if err := n.client(t).ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
	}
	ready(t, a, b)
	for i := range 12 {
		sub := fmt.Sprint("sub-reconnect-", i)
		if _, err := revokedErr(ctx, b, sub); err != nil {
			t.Fatal(err)
		}
		propagation(t, a, b, sub)
	}
	if st := b.Stats(); st.Rebuilds == 0 {
		t.Errorf("Stats = %+v, want rebuilds after the reconnect", st)
	}

	// One shard stopped: every lookup fails closed, whatever shard the
	// user is on, then recovers.
	warm := "sub-warm"
	if _, err := revokedErr(ctx, b, warm); err != nil {
		t.Fatal(err)
	}
	nodes[0].signal(syscall.SIGSTOP)
	stopped := time.Now()
	eventually(t, 3*time.Second, "fail closed with one shard stopped", func() bool {
		_, err := revokedErr(ctx, b, warm)
		return errors.Is(err, revocation.ErrUnavailable)
	})
	t.Logf("failed closed %v after one shard stopped", time.Since(stopped).Round(time.Millisecond))
	nodes[0].signal(syscall.SIGCONT)
	ready(t, a, b)

	// One shard loses its data.
	if err := nodes[1].client(t).FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	flushed := time.Now()
	eventually(t, 7*time.Second, "the loss on one shard detected", func() bool {
		return a.Stats().DataLosses >= 1 && b.Stats().DataLosses >= 1
	})
	t.Logf("loss on one shard detected by both after %v", time.Since(flushed).Round(time.Millisecond))
	c := newRedisStore(t, clusterClient(t, addrs), cfg)
	if r, err := revokedErr(ctx, c, "sub-never-signed-out"); !r || err != nil {
		t.Errorf("a token authenticated before the loss, on a store started after it: %v, %v; want revoked (floor)", r, err)
	}
}

// ready waits until every store is trusted.
func ready(t *testing.T, stores ...*redisstore.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	for _, s := range stores {
		if err := s.Ready(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClusterWaitInstances: with WaitInstances on a Cluster, the
// acknowledgements of each user's channel come back in that channel's slot,
// and when a sign-out returns every instance already rejects the user.
func TestClusterWaitInstances(t *testing.T) {
	addrs := startCluster(t)
	prefix := uniquePrefix()
	a := newRedisStore(t, clusterClient(t, addrs), redisstore.Config{Prefix: prefix, WaitInstances: true, Timeout: 2 * time.Second})
	b := newRedisStore(t, clusterClient(t, addrs), redisstore.Config{Prefix: prefix})
	c := newRedisStore(t, clusterClient(t, addrs), redisstore.Config{Prefix: prefix})
	ctx := t.Context()
	for i := range 12 { // users on every channel, so every slot
		sub := fmt.Sprint("sub-wait-", i)
		for _, s := range []*redisstore.Store{b, c} {
			if _, err := revokedErr(ctx, s, sub); err != nil { // cached "no record"
				t.Fatal(err)
			}
		}
		if err := a.RevokeUser(ctx, testPool, sub, time.Now()); err != nil {
			t.Fatalf("%s: %v", sub, err)
		}
		for _, s := range []*redisstore.Store{b, c} {
			if r, err := revokedErr(ctx, s, sub); !r || err != nil {
				t.Fatalf("%s right after RevokeUser returned: %v, %v; want revoked", sub, r, err)
			}
		}
	}
	// The acker counts once its PUBLISH has returned, maybe just after the
	// writer got the acknowledgement.
	eventually(t, time.Second, "b counted 12 acknowledgements", func() bool { return b.Stats().AcksSent == 12 })
}

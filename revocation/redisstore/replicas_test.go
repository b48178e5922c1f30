package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// startReplica starts a redis-server replicating master and waits until
// the link is up.
func startReplica(t *testing.T, master *redisServer) *redisServer {
	t.Helper()
	r := startRedisServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	c := r.client(t)
	eventually(t, 10*time.Second, "replica link up", func() bool {
		info, err := c.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	return r
}

// TestRedisServerWaitReplicas proves WaitReplicas on a real master with one
// replica: the write reaches the replica before RevokeUser returns, a
// shortfall is reported (the record kept and applied), and a master with an
// empty script cache takes the write.
func TestRedisServerWaitReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	master := startRedisServer(t)
	replica := startReplica(t, master)
	mc, rc := master.client(t), replica.client(t)
	ctx := t.Context()

	prefix := uniquePrefix()
	one := newRedisStore(t, mc, redisstore.Config{Prefix: prefix, WaitReplicas: 1, Timeout: 2 * time.Second})
	if err := one.RevokeUser(ctx, testPool, "sub-1", time.Now()); err != nil {
		t.Fatalf("WaitReplicas 1 with one replica: %v", err)
	}
	// WAIT returned 1: the replica has the record now, not eventually.
	keys, err := rc.Keys(ctx, redisstore.KeyForTest(prefix, testPool, "sub-1")).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("replica keys = %v, %v; want the user's hash", keys, err)
	}

	// A master with an empty script cache (new, promoted or flushed)
	// takes the write at once.
	if err := mc.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := one.RevokeSession(ctx, testPool, "sub-1", "jti-1", time.Now()); err != nil {
		t.Fatalf("after SCRIPT FLUSH: %v", err)
	}
	if n, err := rc.HLen(ctx, keys[0]).Result(); err != nil || n != 2 {
		t.Fatalf("replica hash has %d fields (%v), want 2", n, err)
	}

	// A stopped replica acknowledges nothing: the write reports 0 of 1 at
	// the WAIT bound; once it resumes, the retry succeeds.
	replica.signal(syscall.SIGSTOP)
	err = one.RevokeUser(ctx, testPool, "sub-3", time.Now())
	replica.signal(syscall.SIGCONT)
	if !errors.Is(err, revocation.ErrUnavailable) || !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "acknowledged by 0 of 1 replicas") {
		t.Fatalf("with the replica stopped: %v, want revocation.ErrUnavailable naming 0 of 1", err)
	}
	eventually(t, 5*time.Second, "retry after the replica resumed", func() bool {
		return one.RevokeUser(ctx, testPool, "sub-3", time.Now()) == nil
	})

	two := newRedisStore(t, mc, redisstore.Config{Prefix: uniquePrefix(), WaitReplicas: 2, Timeout: 400 * time.Millisecond})
	start := time.Now()
	err = two.RevokeUser(ctx, testPool, "sub-2", time.Now())
	if !errors.Is(err, revocation.ErrUnavailable) || !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "acknowledged by 1 of 2 replicas") {
		t.Fatalf("WaitReplicas 2 with one replica: %v, want revocation.ErrUnavailable naming 1 of 2", err)
	}
	if d := time.Since(start); d > 3*time.Second { // bounded by Timeout; slack for loaded CI machines
		t.Errorf("shortfall reported after %v, want within Timeout (400ms) and some slack", d)
	}
	// The record is on the master and in the view: retrying is safe, and
	// the user is rejected meanwhile.
	if r, err := revokedErr(ctx, two, "sub-2"); !r || err != nil {
		t.Fatalf("after a replica shortfall: Revoked = %v, %v; want true", r, err)
	}
	if at, ok, err := two.SignedOutAt(ctx, testPool, "sub-2"); !ok || err != nil || at.IsZero() {
		t.Fatalf("SignedOutAt after a shortfall = %v, %v, %v", at, ok, err)
	}
}

// TestClusterWaitReplicas: on a cluster of three masters with a replica
// each, the WAIT must go to the master of the user's slot, on the write's
// connection. With that master's replica stopped, the write reports 0 of 1
// (a WAIT sent to any other master would find its own replica and report
// 1); resumed, the retry succeeds.
func TestClusterWaitReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	nodes := startClusterNodes(t, 1)
	byAddr := map[string]*redisServer{}
	var addrs []string
	for _, n := range nodes {
		byAddr[n.Addr()] = n
		addrs = append(addrs, n.Addr())
	}
	ctx := t.Context()
	// The replicas join after cluster_state:ok: wait until all three
	// replicate.
	eventually(t, 15*time.Second, "three replicas in sync", func() bool {
		up := 0
		for _, n := range nodes {
			info, err := n.client(t).Info(ctx, "replication").Result()
			if err == nil && strings.Contains(info, "master_link_status:up") {
				up++
			}
		}
		return up == 3
	})
	c := clusterClient(t, addrs)
	prefix := uniquePrefix()
	s := newRedisStore(t, c, redisstore.Config{Prefix: prefix, WaitReplicas: 1, Timeout: time.Second})
	// A replica reported up may still be finishing its first sync on a
	// loaded machine: the baseline write is retried (a retry is safe) until
	// a replica acknowledges it.
	for deadline := time.Now().Add(15 * time.Second); ; {
		err := s.RevokeUser(ctx, testPool, "sub-0", time.Now().Add(-time.Minute))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with every replica up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var slots []redis.ClusterSlot
	var err error
	eventually(t, 10*time.Second, "replicas listed in CLUSTER SLOTS", func() bool {
		//lint:ignore SA1019 CLUSTER SLOTS (still served by Redis 7) gives each slot range's master and replica, all this test needs.
		slots, err = c.ClusterSlots(ctx).Result()
		if err != nil || len(slots) != 3 {
			return false
		}
		for _, r := range slots {
			if len(r.Nodes) != 2 {
				return false
			}
		}
		return true
	})
	// Stop the replica of the first shard and sign out five users whose
	// keys (the documented layout) live there: each must report 0 of 1. A
	// WAIT sent to a master picked at random would find its own replica,
	// and all five would hit the right one with probability 1/243.
	shard := slots[0]
	replica := byAddr[shard.Nodes[1].Addr]
	var subs []string
	for i := 0; len(subs) < 5; i++ {
		sub := fmt.Sprintf("sub-%d", i)
		slot := c.ClusterKeySlot(ctx, redisstore.KeyForTest(prefix, testPool, sub)).Val()
		if int64(shard.Start) <= slot && slot <= int64(shard.End) {
			subs = append(subs, sub)
		}
	}
	replica.signal(syscall.SIGSTOP)
	for _, sub := range subs {
		err := s.RevokeUser(ctx, testPool, sub, time.Now())
		if !errors.Is(err, revocation.ErrUnavailable) || !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "acknowledged by 0 of 1 replicas") {
			replica.signal(syscall.SIGCONT)
			t.Fatalf("%s with its shard's replica stopped: %v, want revocation.ErrUnavailable naming 0 of 1", sub, err)
		}
	}
	replica.signal(syscall.SIGCONT)
	eventually(t, 5*time.Second, "retry after the replica resumed", func() bool {
		return s.RevokeUser(ctx, testPool, subs[0], time.Now()) == nil
	})
	for _, sub := range subs {
		if r, err := revokedErr(ctx, s, sub); !r || err != nil {
			t.Errorf("%s: Revoked = %v, %v; want true (recorded despite the shortfall)", sub, r, err)
		}
	}
}

// TestRedisServerSentinelFailover runs two instances on a Sentinel-managed master
// with one replica (the UniversalClient a Sentinel user builds), kills the
// master, and proves: requests fail closed while no master answers; both
// instances recover on the promoted replica without a restart; a sign-out
// recorded with WaitReplicas before the failover survives it; and new
// sign-outs propagate between the instances again.
func TestRedisServerSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	requireBinary(t, "redis-server")
	master := startRedisServer(t)
	replica := startReplica(t, master)
	sentinel := redistest.Sentinel(t, master.Addr(), "m", 1)

	client := func() redis.UniversalClient {
		c := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: []string{sentinel}, MasterName: "m", ContextTimeoutEnabled: true, MaxRetries: -1,
			DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second,
		})
		t.Cleanup(func() { c.Close() })
		return c
	}
	prefix := uniquePrefix()
	cfg := faultConfig(prefix)
	cfg.WaitReplicas = 1
	cfg.Timeout = time.Second
	a := newRedisStore(t, client(), cfg)
	b := newRedisStore(t, client(), cfg)
	ctx := t.Context()

	if r, err := revokedErr(ctx, b, "sub-kept"); r || err != nil {
		t.Fatalf("before: %v, %v", r, err)
	}
	propagation(t, a, b, "sub-kept")
	if _, err := revokedErr(ctx, b, "sub-other"); err != nil {
		t.Fatal(err)
	}

	master.kill()
	eventually(t, 3*time.Second, "fail closed while the master is down", func() bool {
		_, err := revokedErr(ctx, b, "sub-other")
		return errors.Is(err, revocation.ErrUnavailable)
	})

	// Sentinel promotes the replica (down after 500ms, then failover).
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	for _, s := range []*redisstore.Store{a, b} {
		if err := s.Ready(rctx); err != nil {
			t.Fatalf("not ready after failover: %v", err)
		}
	}
	t.Logf("both instances trusted again %v after the master was killed", time.Since(start).Round(time.Millisecond))
	if role, err := replica.client(t).Do(ctx, "role").Slice(); err != nil || role[0] != "master" {
		t.Fatalf("replica role = %v, %v; want master after failover", role, err)
	}
	for _, s := range []*redisstore.Store{a, b} {
		if r, err := revokedErr(ctx, s, "sub-kept"); !r || err != nil {
			t.Fatalf("sign-out recorded before the failover: Revoked = %v, %v; want true", r, err)
		}
		if st := s.Stats(); st.Rebuilds == 0 {
			t.Errorf("Stats = %+v, want a rebuild after the failover", st)
		}
	}
	if r, err := revokedErr(ctx, b, "sub-other"); r || err != nil {
		t.Fatalf("sub-other after failover: %v, %v", r, err)
	}
	// The promoted master has no replica: WaitReplicas 1 reports it, and
	// the record still reaches the other instance.
	err := a.RevokeUser(ctx, testPool, "sub-other", time.Now())
	if !errors.Is(err, revocation.ErrUnavailable) || !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "0 of 1") {
		t.Fatalf("sign-out on a master without replicas: %v, want revocation.ErrUnavailable naming 0 of 1", err)
	}
	eventually(t, 2*time.Second, "sign-out after failover reaches the other instance", func() bool {
		r, err := revokedErr(ctx, b, "sub-other")
		return r && err == nil
	})
}

// TestClusterWaitReplicasSlotMoved: after a slot moved to another master
// (resharding) the client's slot map is stale and the pipelined write on
// the old master gets MOVED; the store has the map reloaded and writes on
// the new master. (The cluster has no replicas: the write ends as "0 of 1
// replicas", which proves it ran on the slot's master, not MOVED.)
func TestClusterWaitReplicasSlotMoved(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	addrs := startCluster(t)
	c := clusterClient(t, addrs)
	prefix := uniquePrefix()
	s := newRedisStore(t, c, redisstore.Config{Prefix: prefix, WaitReplicas: 1, Timeout: time.Second})
	ctx := t.Context()
	unconfirmed := func(err error) bool {
		return errors.Is(err, revocation.ErrUnconfirmed) && strings.Contains(err.Error(), "0 of 1 replicas")
	}
	if err := s.RevokeUser(ctx, testPool, "sub-warm", time.Now()); !unconfirmed(err) { // loads the slot map
		t.Fatalf("warm-up write: %v", err)
	}

	const sub = "sub-moving"
	key := redisstore.KeyForTest(prefix, testPool, sub)
	slot := c.ClusterKeySlot(ctx, key).Val()
	from, err := c.MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	var to string
	for _, a := range addrs {
		n := redis.NewClient(&redis.Options{Addr: a})
		ids[a], err = n.ClusterMyID(ctx).Result()
		n.Close()
		if err != nil {
			t.Fatal(err)
		}
		if a != from.Options().Addr && to == "" {
			to = a
		}
	}
	// Move the (empty) slot: IMPORTING on the target, MIGRATING on the
	// source, then NODE everywhere, as redis-cli --cluster reshard does.
	do := func(addr string, args ...any) {
		n := redis.NewClient(&redis.Options{Addr: addr})
		defer n.Close()
		if err := n.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%s %v: %v", addr, args, err)
		}
	}
	src := from.Options().Addr
	do(to, "cluster", "setslot", slot, "importing", ids[src])
	do(src, "cluster", "setslot", slot, "migrating", ids[to])
	for _, a := range append([]string{to, src}, addrs...) {
		do(a, "cluster", "setslot", slot, "node", ids[to])
	}
	if m, _ := c.MasterForKey(ctx, key); m.Options().Addr != src {
		t.Fatalf("the client already knows the slot moved (%s): the test would not exercise MOVED", m.Options().Addr)
	}

	err = s.RevokeUser(ctx, testPool, sub, time.Now())
	if !unconfirmed(err) {
		t.Fatalf("write after the slot moved: %v, want revocation.ErrUnconfirmed naming 0 of 1 (written on the new master)", err)
	}
	n := redis.NewClient(&redis.Options{Addr: to})
	defer n.Close()
	if got, err := n.Exists(ctx, key).Result(); err != nil || got != 1 {
		t.Fatalf("new master holds the user's key: %d, %v; want 1", got, err)
	}
}

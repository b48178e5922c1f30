package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// The sign-out fan-out on a real 3-master Cluster: a lost shard fails
// closed and recovers, an instance holds one subscription per master and
// a reconnect resubscribes each slot on its own (no CROSSSLOT), moved
// slots are followed, and WaitInstances' acknowledgements stay on the
// user's shard.

// syncBuffer is a log sink shared by a store's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fanoutStore returns a ready store on its own Cluster client, logging to
// log (and the test's log).
func fanoutStore(t *testing.T, addrs []string, cfg redisstore.Config, log *syncBuffer) *redisstore.Store {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return newRedisStore(t, clusterClient(t, addrs), cfg)
}

// noCrossSlot fails t if a store logged a CROSSSLOT refusal.
func noCrossSlot(t *testing.T, logs ...*syncBuffer) {
	t.Helper()
	for _, l := range logs {
		if strings.Contains(l.String(), "CROSSSLOT") {
			t.Errorf("a store hit CROSSSLOT:\n%s", l.String())
		}
	}
}

// masterOf returns the address of the master owning key's slot.
func masterOf(t *testing.T, c *redis.ClusterClient, key string) string {
	t.Helper()
	m, err := c.MasterForKey(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return m.Options().Addr
}

// usersPerChannel returns one user per sign-out channel (default K), in
// channel order.
func usersPerChannel(prefix, stem string) []string {
	users := make([]string, redisstore.DefaultChannels)
	found := 0
	for i := 0; found < len(users); i++ {
		sub := stem + strconv.Itoa(i)
		ch := redisstore.ChannelForTest(prefix, testPool, sub)
		for k := range users {
			if users[k] == "" && ch == redisstore.ChannelNameForTest(prefix, k) {
				users[k] = sub
				found++
			}
		}
	}
	return users
}

// serverPID returns the process id of the redis-server at addr.
func serverPID(t *testing.T, addr string) int {
	t.Helper()
	info, err := redistest.Do(addr, "INFO", "server")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatalf("no process_id in INFO of %s", addr)
	return 0
}

// failsClosed waits until s refuses a known user with revocation.ErrUnavailable.
func failsClosed(t *testing.T, s *redisstore.Store, sub string, within time.Duration) time.Duration {
	t.Helper()
	return eventually(t, within, "fail closed", func() bool {
		_, err := revokedErr(t.Context(), s, sub)
		if err != nil && !errors.Is(err, revocation.ErrUnavailable) {
			t.Fatalf("Revoked: %v, want revocation.ErrUnavailable", err)
		}
		return err != nil
	})
}

// propagatesOnEveryChannel signs out one user per channel through a (after
// b has seen each) and waits until b's view revokes every one of them
// without reading Redis. Calls are retried for a while: just after a
// master restarts, a pooled connection may still fail once (retrying a
// sign-out is safe).
func propagatesOnEveryChannel(t *testing.T, a, b *redisstore.Store, prefix, stem string) {
	t.Helper()
	ctx := t.Context()
	auth := time.Now().Add(-time.Second).Truncate(time.Second)
	users := usersPerChannel(prefix, stem)
	for _, sub := range users {
		eventually(t, 3*time.Second, "b reads "+sub, func() bool {
			r, err := b.Revoked(ctx, claims(testPool, sub, auth, ""))
			if r {
				t.Fatalf("before the sign-out: %s revoked", sub)
			}
			return err == nil
		})
	}
	lookups := b.Stats().Lookups
	for i, sub := range users {
		eventually(t, 3*time.Second, "RevokeUser "+sub, func() bool {
			err := a.RevokeUser(ctx, testPool, sub, time.Now())
			if err != nil {
				t.Logf("channel %d: RevokeUser: %v (retrying)", i, err)
			}
			return err == nil
		})
		eventually(t, 3*time.Second, fmt.Sprintf("channel %d: sign-out of %s seen", i, sub), func() bool {
			r, err := b.Revoked(ctx, claims(testPool, sub, auth, ""))
			return r && err == nil
		})
	}
	if got := b.Stats().Lookups; got != lookups {
		t.Errorf("%d sign-outs reached b by %d Redis reads, want by pub/sub only", len(users), got-lookups)
	}
}

func TestClusterFanoutLostShardFailsClosed(t *testing.T) {
	addrs := redistest.Cluster(t)
	prefix := uniquePrefix()
	var logA, logB syncBuffer
	a := fanoutStore(t, addrs, faultConfig(prefix), &logA)
	b := fanoutStore(t, addrs, faultConfig(prefix), &logB)
	ctx := t.Context()
	admin := clusterClient(t, addrs)
	// The shard of channel 0 is lost; the known user's own channel lives
	// on another master, yet its answer must not come from a view that may
	// lack a sign-out of the lost shard's users.
	victim := masterOf(t, admin, redisstore.ChannelNameForTest(prefix, 0))
	known := ""
	for _, sub := range usersPerChannel(prefix, "known-") {
		if masterOf(t, admin, redisstore.ChannelForTest(prefix, testPool, sub)) != victim {
			known = sub
			break
		}
	}
	if _, err := revokedErr(ctx, b, known); err != nil {
		t.Fatal(err)
	}
	pid := serverPID(t, victim)

	t.Run("frozen", func(t *testing.T) { freezeMaster(t, pid, a, b, prefix, known) })

	t.Run("killed and restarted", func(t *testing.T) {
		if _, err := revokedErr(ctx, b, known); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(serverPID(t, victim), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		d := failsClosed(t, b, known, 2*time.Second)
		t.Logf("one master killed: a user of another shard fails closed after %v", d)
		redistest.Restart(t, victim) // same port and nodes.conf: it rejoins owning its slots, empty
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := errors.Join(a.Ready(rctx), b.Ready(rctx)); err != nil {
			t.Fatal(err)
		}
		// The store rejects every token authenticated at or before the loss
		// it detected (the safe rule): the test's tokens are of a later
		// second (propagatesOnEveryChannel backdates them by a second).
		time.Sleep(2100 * time.Millisecond)
		propagatesOnEveryChannel(t, a, b, prefix, "after-restart-")
	})
	noCrossSlot(t, &logA, &logB)
}

func TestClusterFanoutReconnectEachSlot(t *testing.T) {
	addrs := redistest.Cluster(t)
	prefix := uniquePrefix()
	cfg := faultConfig(prefix)
	cfg.WaitInstances = true
	cfg.Timeout = time.Second // acknowledgements on a loaded machine
	var logA, logB syncBuffer
	a := fanoutStore(t, addrs, cfg, &logA)
	b := fanoutStore(t, addrs, cfg, &logB)
	rebuilds := b.Stats().Rebuilds
	// Every subscription connection of every node is cut. Each instance
	// holds one per master, carrying the channels of two slots: go-redis
	// would resubscribe them in one SSUBSCRIBE, which Redis refuses across
	// slots, so the store must reconnect itself, one slot per command.
	for _, addr := range addrs {
		n, err := redistest.Do(addr, "CLIENT", "KILL", "TYPE", "pubsub")
		if err != nil {
			t.Fatal(err)
		}
		if n != "2" {
			t.Fatalf("CLIENT KILL TYPE pubsub on %s: %s connections, want 2 (two instances, one per master each)", addr, n)
		}
	}
	eventually(t, 5*time.Second, "every subscription resubscribed", func() bool {
		st := b.Stats()
		return st.Trusted && st.Rebuilds-rebuilds >= uint64(len(addrs))
	})
	// Sign-outs and their acknowledgements (the acknowledgement channel
	// shares each subscription) flow on every channel again: WaitInstances
	// writes are confirmed by both instances.
	propagatesOnEveryChannel(t, a, b, prefix, "after-kill-")
	if st := a.Stats(); st.Unconfirmed != 0 {
		t.Errorf("a: %d writes unconfirmed after the reconnect, want 0", st.Unconfirmed)
	}
	noCrossSlot(t, &logA, &logB)
}

func TestClusterFanoutAcksOnTheUsersShard(t *testing.T) {
	addrs := redistest.Cluster(t)
	prefix := uniquePrefix()
	cfg := redisstore.Config{Prefix: prefix, WaitInstances: true, Timeout: time.Second}
	const instances = 3
	var stores []*redisstore.Store
	for range instances {
		stores = append(stores, newRedisStore(t, clusterClient(t, addrs), cfg))
	}
	admin := clusterClient(t, addrs)
	ctx := t.Context()
	calls := func() map[string]int64 {
		m := map[string]int64{}
		for _, addr := range addrs {
			c := redis.NewClient(&redis.Options{Addr: addr})
			m[addr] = commandCalls(t, c, "spublish")
			c.Close()
		}
		return m
	}
	before := calls()
	want := map[string]int64{}
	const users = 60
	for i := range users {
		sub := "ack-" + strconv.Itoa(i)
		if err := stores[i%instances].RevokeUser(ctx, testPool, sub, time.Now()); err != nil {
			t.Fatalf("RevokeUser(%s): %v", sub, err)
		}
		// The sign-out (asking for acknowledgements) and one acknowledgement
		// per instance, all on the master of the user's channel.
		want[masterOf(t, admin, redisstore.ChannelForTest(prefix, testPool, sub))] += 1 + instances
	}
	after := calls()
	for _, addr := range addrs {
		if got := after[addr] - before[addr]; got != want[addr] {
			t.Errorf("SPUBLISH on %s: %d, want %d (sign-out and %d acknowledgements of each of its users)",
				addr, got, want[addr], instances)
		}
		if want[addr] < users*(1+instances)/6 {
			t.Errorf("master %s carries %d of %d publishes: the users' channels do not spread", addr, want[addr], users*(1+instances))
		}
	}
}

func TestClusterFanoutWaitInstancesRefusesReplicaReads(t *testing.T) {
	for _, opt := range []redis.ClusterOptions{{ReadOnly: true}, {RouteByLatency: true}, {RouteRandomly: true}} {
		opt.Addrs = []string{"127.0.0.1:1"} // never dialled: New makes no call
		c := redis.NewClusterClient(&opt)
		t.Cleanup(func() { c.Close() })
		s, err := redisstore.New(c, redisstore.Config{WaitInstances: true})
		if err == nil {
			s.Close()
			t.Errorf("New(WaitInstances, %+v): nil error, want a refusal (SPUBLISH counts the master's subscribers only)",
				opt)
			continue
		}
		s, err = redisstore.New(c, redisstore.Config{})
		if err != nil {
			t.Errorf("New without WaitInstances, ReadOnly %v: %v", opt.ReadOnly, err)
			continue
		}
		s.Close()
	}
}

// TestClusterFanoutReadOnlySubscribesOnReplicas: a Cluster client with
// ReadOnly subscribes on replicas, which Redis feeds with every sharded
// message of their master, so an instance reading from replicas learns
// every sign-out (it is WaitInstances that such a client cannot have:
// SPUBLISH counts the master's subscribers only).
func TestClusterFanoutReadOnlySubscribesOnReplicas(t *testing.T) {
	nodes := startClusterNodes(t, 1)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr())
	}
	ctx := t.Context()
	awaitReplicas(t, nodes, clusterClient(t, addrs))
	prefix := uniquePrefix()
	writer := newRedisStore(t, clusterClient(t, addrs), redisstore.Config{Prefix: prefix})
	ro := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ReadOnly: true, ContextTimeoutEnabled: true,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { ro.Close() })
	reader := newRedisStore(t, ro, redisstore.Config{Prefix: prefix})
	// The reader subscribes on replicas (the writer on the masters).
	onReplicas := replicaSubscribers(t, nodes)
	// go-redis picks the node of each subscription (a replica unless it
	// is flagged failing or loading); at least some must be on replicas
	// for the test to mean anything.
	if onReplicas == 0 {
		t.Fatal("no sharded subscription on any replica, want some of the reader's (one per master)")
	}
	t.Logf("%d of the reader's subscription connections (one per master) on replicas", onReplicas)
	users := usersPerChannel(prefix, "replica-")
	auth := time.Now().Add(-time.Second).Truncate(time.Second)
	for i, sub := range users {
		if r, err := reader.Revoked(ctx, claims(testPool, sub, auth, "")); r || err != nil {
			t.Fatalf("before the sign-out: %v, %v", r, err)
		}
		lookups := reader.Stats().Lookups
		if err := writer.RevokeUser(ctx, testPool, sub, time.Now()); err != nil {
			t.Fatal(err)
		}
		eventually(t, 3*time.Second, fmt.Sprintf("channel %d: sign-out seen through a replica", i), func() bool {
			r, err := reader.Revoked(ctx, claims(testPool, sub, auth, ""))
			return r && err == nil
		})
		if got := reader.Stats().Lookups; got != lookups {
			t.Errorf("channel %d: the sign-out reached the reader by a Redis read, want by pub/sub", i)
		}
	}
}

// shardedSubscribers counts the connections of a CLIENT LIST reply with
// sharded subscriptions (field ssub, Redis 7).
func shardedSubscribers(list string) int {
	n := 0
	for line := range strings.Lines(list) {
		for f := range strings.FieldsSeq(line) {
			if v, ok := strings.CutPrefix(f, "ssub="); ok && v != "0" {
				n++
			}
		}
	}
	return n
}

// awaitReplicas waits until every replica of a Cluster started with
// startClusterNodes(t, 1) is in sync and listed in CLUSTER SLOTS.
func awaitReplicas(t *testing.T, nodes []*redisServer, admin *redis.ClusterClient) {
	t.Helper()
	ctx := t.Context()
	eventually(t, 15*time.Second, "replicas in sync and listed", func() bool {
		up := 0
		for _, n := range nodes {
			info, err := n.client(t).Info(ctx, "replication").Result()
			if err == nil && strings.Contains(info, "master_link_status:up") {
				up++
			}
		}
		//lint:ignore SA1019 CLUSTER SLOTS (still served by Redis 7) lists each slot range's master and replicas, all this test needs.
		slots, err := admin.ClusterSlots(ctx).Result()
		if up != 3 || err != nil || len(slots) != 3 {
			return false
		}
		for _, s := range slots {
			if len(s.Nodes) != 2 {
				return false
			}
		}
		return true
	})
}

// replicaSubscribers counts the connections with sharded subscriptions on
// the replicas among nodes.
func replicaSubscribers(t *testing.T, nodes []*redisServer) int {
	t.Helper()
	n := 0
	for _, node := range nodes {
		c := node.client(t)
		info, err := c.Info(t.Context(), "replication").Result()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(info, "role:slave") {
			continue
		}
		list, err := c.ClientList(t.Context()).Result()
		if err != nil {
			t.Fatal(err)
		}
		n += shardedSubscribers(list)
	}
	return n
}

// freezeMaster stops the master of process pid for a second: b fails
// closed for known (a user of another shard), then both stores recover and
// sign-outs flow on every channel.
func freezeMaster(t *testing.T, pid int, a, b *redisstore.Store, prefix, known string) {
	t.Helper()
	ctx := t.Context()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	d := failsClosed(t, b, known, 2*time.Second)
	t.Logf("one master frozen: a user of another shard fails closed after %v (Staleness 300ms)", d)
	if st := b.Stats(); st.Trusted || st.StaleRejections == 0 {
		t.Errorf("Stats = %+v, want untrusted with stale rejections", st)
	}
	time.Sleep(time.Second) // well below cluster-node-timeout: the Cluster stays ok
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := errors.Join(a.Ready(rctx), b.Ready(rctx)); err != nil {
		t.Fatal(err)
	}
	propagatesOnEveryChannel(t, a, b, prefix, "after-freeze-")
}

// TestClusterFanoutFollowsMovedSlot moves the slot of sign-out channel 0
// to another master: each instance must notice (the old master
// unsubscribes it), subscribe to the channel where it now lives, keep one
// connection per master, and receive its sign-outs from the views alone.
func TestClusterFanoutFollowsMovedSlot(t *testing.T) {
	addrs := redistest.Cluster(t)
	prefix := uniquePrefix()
	var logA, logB syncBuffer
	a := fanoutStore(t, addrs, faultConfig(prefix), &logA)
	b := fanoutStore(t, addrs, faultConfig(prefix), &logB)
	admin := clusterClient(t, addrs)
	ch := redisstore.ChannelNameForTest(prefix, 0)
	from := masterOf(t, admin, ch)
	to := ""
	for i := 1; i < redisstore.DefaultChannels && to == ""; i++ {
		if m := masterOf(t, admin, redisstore.ChannelNameForTest(prefix, i)); m != from {
			to = m
		}
	}
	slot, err := admin.ClusterKeySlot(t.Context(), ch).Result()
	if err != nil {
		t.Fatal(err)
	}
	rebuilds := b.Stats().Rebuilds
	moveSlot(t, addrs, slot, from, to)
	eventually(t, 5*time.Second, "b subscribed again", func() bool {
		st := b.Stats()
		return st.Trusted && st.Rebuilds > rebuilds
	})
	if got := masterOf(t, clusterClient(t, addrs), ch); got != to {
		t.Fatalf("channel 0 on %s after the move, want %s", got, to)
	}
	propagatesOnEveryChannel(t, a, b, prefix, "after-move-")
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		list, err := c.ClientList(t.Context()).Result() // with the caller's own connection
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n := shardedSubscribers(list); n != 2 {
			t.Errorf("%s: %d subscription connections after the move, want 2 (one per instance):\n%s", addr, n, list)
		}
	}
	noCrossSlot(t, &logA, &logB)
}

// moveSlot migrates slot and its keys from master from to master to, and
// tells every node.
func moveSlot(t *testing.T, addrs []string, slot int64, from, to string) {
	t.Helper()
	id := func(addr string) string {
		v, err := redistest.Do(addr, "CLUSTER", "MYID")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	s := strconv.FormatInt(slot, 10)
	for _, step := range []struct{ addr, state, node string }{
		{to, "IMPORTING", id(from)}, {from, "MIGRATING", id(to)},
	} {
		if _, err := redistest.Do(step.addr, "CLUSTER", "SETSLOT", s, step.state, step.node); err != nil {
			t.Fatal(err)
		}
	}
	src := redis.NewClient(&redis.Options{Addr: from})
	defer src.Close()
	keys, err := src.ClusterGetKeysInSlot(t.Context(), int(slot), 100).Result()
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(to, ":")
	for _, k := range keys { // a data-loss marker may share the slot
		if err := src.Migrate(t.Context(), host, port, k, 0, 5*time.Second).Err(); err != nil {
			t.Fatalf("MIGRATE %s: %v", k, err)
		}
	}
	for _, addr := range append([]string{to, from}, addrs...) {
		if _, err := redistest.Do(addr, "CLUSTER", "SETSLOT", s, "NODE", id(to)); err != nil {
			t.Fatal(err)
		}
	}
}

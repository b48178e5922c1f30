package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// BenchmarkFanout measures the Redis CPU one sign-out costs when N
// instances must all receive it, on one server and on a 3-master Cluster
// (where the K channels spread the fan-out over the masters): busiest
// node and all nodes, from INFO cpu deltas. Run with a fixed count, e.g.
// -bench Fanout -benchtime 300x.
// COGNITOGUARD_FANOUT_N overrides the instance counts (e.g. "10,50,200").
func BenchmarkFanout(b *testing.B) {
	ns := []int{10, 50}
	if env := os.Getenv("COGNITOGUARD_FANOUT_N"); env != "" {
		ns = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("COGNITOGUARD_FANOUT_N=%q", env)
			}
			ns = append(ns, n)
		}
	}
	for _, topo := range []string{"standalone", "cluster"} {
		for _, n := range ns {
			b.Run(fmt.Sprintf("%s/N=%d", topo, n), func(b *testing.B) { benchFanout(b, topo, n) })
		}
	}
}

func benchFanout(b *testing.B, topo string, n int) {
	var addrs []string
	newClient := func() redis.UniversalClient {
		c := redis.NewClient(&redis.Options{Addr: addrs[0]})
		b.Cleanup(func() { c.Close() })
		return c
	}
	if topo == "cluster" {
		addrs = startCluster(b)
		newClient = func() redis.UniversalClient { return clusterClient(b, addrs) }
	} else {
		addr, _ := redistest.Server(b)
		addrs = []string{addr}
	}
	prefix := uniquePrefix()
	stores := make([]*redisstore.Store, n)
	for i := range stores {
		stores[i] = newRedisStore(b, newClient(), redisstore.Config{Prefix: prefix, Timeout: 2 * time.Second})
	}
	ctx := b.Context()
	cpu0 := redisCPU(b, addrs)
	signOuts := 0
	for b.Loop() {
		if err := stores[0].RevokeUser(ctx, testPool, "user-"+strconv.Itoa(signOuts), time.Now()); err != nil {
			b.Fatal(err)
		}
		signOuts++
	}
	for _, s := range stores { // every instance received every sign-out
		deadline := time.Now().Add(30 * time.Second)
		for s.Stats().Messages < uint64(signOuts) {
			if time.Now().After(deadline) {
				b.Fatalf("an instance received %d of %d sign-outs", s.Stats().Messages, signOuts)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cpu1 := redisCPU(b, addrs)
	var busiest, total float64
	for i := range cpu1 {
		d := cpu1[i] - cpu0[i]
		busiest, total = max(busiest, d), total+d
	}
	b.ReportMetric(busiest*1e6/float64(signOuts), "busiest-node-µs/signout")
	b.ReportMetric(total*1e6/float64(signOuts), "all-nodes-µs/signout")
}

// redisCPU returns each node's used CPU (user + system) in seconds.
func redisCPU(b *testing.B, addrs []string) []float64 {
	var cpu []float64
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		info, err := c.Info(context.Background(), "cpu").Result()
		c.Close()
		if err != nil {
			b.Fatal(err)
		}
		var sum float64
		for _, f := range []string{"used_cpu_sys", "used_cpu_user"} {
			v, _ := strconv.ParseFloat(infoValue(info, f), 64)
			sum += v
		}
		cpu = append(cpu, sum)
	}
	return cpu
}

func infoValue(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

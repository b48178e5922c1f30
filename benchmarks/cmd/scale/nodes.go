package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/cognitoguard/cognitoguard/internal/freeport"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// node is one redis-server started by this command.
type node struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	info   *redis.Client // for INFO cpu
}

// topology is a set of nodes: one standalone server, or the masters of a
// Cluster.
type topology struct {
	name    string // "single" or "cluster"
	cluster bool
	nodes   []*node
	dir     string
}

// startTopology starts one standalone redis-server (masters == 0) or a
// Cluster of masters masters without replicas, on free loopback ports, in
// a temporary directory removed by stop.
func startTopology(ctx context.Context, server, cli string, masters int) (*topology, error) {
	dir, err := os.MkdirTemp("", "cognitoguard-scale")
	if err != nil {
		return nil, err
	}
	t := &topology{name: "single", cluster: masters > 0, dir: dir}
	if t.cluster {
		t.name = fmt.Sprintf("cluster-%d", masters)
	}
	for i := range max(masters, 1) {
		n, err := startNode(ctx, server, dir, t.cluster, i)
		if err != nil {
			t.stop()
			return nil, err
		}
		t.nodes = append(t.nodes, n)
	}
	if t.cluster {
		if err := t.create(ctx, cli); err != nil {
			t.stop()
			return nil, err
		}
	}
	return t, nil
}

// startNode starts one redis-server, trying a few free ports, and waits
// until it answers PING.
func startNode(ctx context.Context, server, dir string, cluster bool, i int) (*node, error) {
	var last error
	for range 5 {
		port, err := freeport.Loopback(cluster)
		if err != nil {
			last = err
			continue
		}
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--maxclients", "20000"}
		if cluster {
			args = append(args, "--cluster-enabled", "yes", "--cluster-node-timeout", "5000",
				"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d-%d.conf", i, port)))
		}
		cmd := exec.Command(server, args...)
		cmd.SysProcAttr = sysProcAttr()
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		n := &node{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, exited: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(n.exited) }()
		n.info = redis.NewClient(&redis.Options{Addr: n.addr, PoolSize: 1})
		if last = n.await(ctx); last == nil {
			return n, nil
		}
		n.stop()
	}
	return nil, fmt.Errorf("redis-server did not start: %w", last)
}

// await waits until the node answers PING with its own process id.
func (n *node) await(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return errors.New("redis-server exited (port taken?)")
		default:
		}
		c, cancel := context.WithTimeout(ctx, time.Second)
		s, err := n.info.Info(c, "server").Result()
		cancel()
		if err == nil {
			if infoField(s, "process_id") != strconv.Itoa(n.cmd.Process.Pid) {
				return errors.New("port answered by another redis-server")
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("redis-server did not answer within 15s")
}

func (n *node) stop() {
	_ = n.info.Close()
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// create joins the nodes into a Cluster and waits for cluster_state:ok.
func (t *topology) create(ctx context.Context, cli string) error {
	args := []string{"--cluster", "create"}
	for _, n := range t.nodes {
		args = append(args, n.addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(c, cli, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range t.nodes {
		for {
			s, err := n.info.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(s, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("cluster node %s not ok: %v", n.addr, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// stop kills every node and removes the directory.
func (t *topology) stop() {
	for _, n := range t.nodes {
		n.stop()
	}
	_ = os.RemoveAll(t.dir)
}

func (t *topology) addrs() []string {
	a := make([]string, len(t.nodes))
	for i, n := range t.nodes {
		a[i] = n.addr
	}
	return a
}

// cpu returns each node's used_cpu_sys + used_cpu_user, and
// used_cpu_sys, in seconds.
func (t *topology) cpu(ctx context.Context) (total, sys []float64, err error) {
	total, sys = make([]float64, len(t.nodes)), make([]float64, len(t.nodes))
	for i, n := range t.nodes {
		c, cancel := context.WithTimeout(ctx, infoTimeout)
		s, err := n.info.Info(c, "cpu").Result()
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("INFO cpu of %s: %w", n.addr, err)
		}
		ks, err1 := strconv.ParseFloat(infoField(s, "used_cpu_sys"), 64)
		us, err2 := strconv.ParseFloat(infoField(s, "used_cpu_user"), 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, nil, fmt.Errorf("INFO cpu of %s: %w", n.addr, err)
		}
		total[i], sys[i] = ks+us, ks
	}
	return total, sys, nil
}

// infoTimeout bounds an INFO call; a node too busy to answer within it
// fails a ladder step (it aborts a CPU round).
const infoTimeout = 15 * time.Second

// idle returns each node's Redis CPU over d, in seconds per second.
func (t *topology) idle(ctx context.Context, d time.Duration) ([]float64, error) {
	cpu0, _, err := t.cpu(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	time.Sleep(d)
	cpu1, _, err := t.cpu(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(cpu0))
	for i := range out {
		out[i] = (cpu1[i] - cpu0[i]) / time.Since(start).Seconds()
	}
	return out, nil
}

// version returns the redis_version of the first node.
func (t *topology) version(ctx context.Context) string {
	s, err := t.nodes[0].info.Info(ctx, "server").Result()
	if err != nil {
		return "unknown"
	}
	return infoField(s, "redis_version")
}

// infoField returns the value of name in an INFO reply.
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// publishes returns each node's PUBLISH + SPUBLISH calls so far.
func (t *topology) publishes(ctx context.Context) ([]int64, error) {
	out := make([]int64, len(t.nodes))
	for i, n := range t.nodes {
		c, cancel := context.WithTimeout(ctx, infoTimeout)
		s, err := n.info.Info(c, "commandstats").Result()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("INFO commandstats of %s: %w", n.addr, err)
		}
		for _, cmd := range []string{"cmdstat_publish", "cmdstat_spublish"} {
			v := infoField(s, cmd) // calls=N,usec=…
			if calls, ok := strings.CutPrefix(v, "calls="); ok {
				calls, _, _ = strings.Cut(calls, ",")
				k, err := strconv.ParseInt(calls, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("INFO commandstats of %s: %q", n.addr, v)
				}
				out[i] += k
			}
		}
	}
	return out, nil
}

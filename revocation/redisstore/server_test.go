package redisstore_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process started by a test.
type redisServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
	exit chan error // receives cmd.Wait's result
}

// requireBinary returns the path of name, skipping the test when it is not
// on PATH, unless COGNITOGUARD_INTEGRATION=1 makes that a failure.
func requireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("COGNITOGUARD_INTEGRATION") == "1" {
			t.Fatalf("%s not on PATH (COGNITOGUARD_INTEGRATION=1): %v", name, err)
		}
		t.Skipf("%s not on PATH: %v", name, err)
	}
	return p
}

// freePort returns a loopback TCP port free at the time of the call.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedisServer starts redis-server on a free loopback port in a
// temporary directory, without persistence; it is killed at cleanup.
func startRedisServer(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	s := &redisServer{t: t, bin: requireBinary(t, "redis-server"), dir: t.TempDir(), args: extra}
	for attempt := 0; ; attempt++ {
		s.port = freePort(t)
		err := s.start()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("redis-server: %v", err)
		}
	}
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *redisServer) start() error {
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond); err == nil {
			ok := ping(c)
			c.Close()
			if ok {
				s.cmd, s.exit = cmd, exited
				return nil
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("exited: %v\n%s", err, log)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("not answering on %s", s.Addr())
		}
	}
}

// ping sends a RESP PING and reports whether PONG came back.
func ping(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
}

func (s *redisServer) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// restart kills the server and starts a new one on the same port.
func (s *redisServer) restart() {
	s.t.Helper()
	s.kill()
	var err error
	for range 50 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond) // the port may linger briefly
	}
	s.t.Fatalf("restart: %v", err)
}

// client returns a go-redis client of the server, closed at cleanup.
func (s *redisServer) client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// commandCalls returns the calls of cmd (lowercase) per INFO commandstats.
func commandCalls(t testing.TB, c redis.UniversalClient, cmd string) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
			return n
		}
	}
	return 0
}

// startCluster starts a 3-master Redis Cluster on loopback and waits until
// cluster_state:ok. It returns the node addresses.
func startCluster(t testing.TB) []string {
	t.Helper()
	var addrs []string
	for _, s := range startClusterNodes(t, 0) {
		addrs = append(addrs, s.Addr())
	}
	return addrs
}

// startClusterNodes starts a cluster of 3 masters with replicas replicas
// each and waits until every node reports cluster_state:ok.
func startClusterNodes(t testing.TB, replicas int) []*redisServer {
	t.Helper()
	if testing.Short() {
		t.Skip("a real Redis Cluster takes seconds to form: not with -short")
	}
	cli := requireBinary(t, "redis-cli")
	var nodes []*redisServer
	var addrs []string
	for range 3 * (1 + replicas) {
		dir := t.TempDir()
		s := startRedisServer(t, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "2000")
		nodes = append(nodes, s)
		addrs = append(addrs, s.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("cluster at %s not ok: %v %s", a, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
	}
	return nodes
}

// clusterClient returns a ClusterClient of addrs, closed at cleanup.
func clusterClient(t testing.TB, addrs []string) *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

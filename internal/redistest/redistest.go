// Package redistest starts real redis-server processes for tests: a
// standalone server ([Server]) that can be restarted on the same port
// ([Restart]), one that speaks only TLS ([TLSServer]), a three-master
// cluster ([Cluster]) and a Sentinel ([Sentinel]).
//
// The servers listen on free loopback ports, keep their files in a test
// temporary directory, persist nothing (--save "", --appendonly no) and are
// killed when the test ends. When redis-server (or, for Cluster, redis-cli)
// is not on PATH the test is skipped, unless the environment variable
// COGNITOGUARD_INTEGRATION is 1, in which case it fails: CI that promises
// integration tests must not pass them by skipping.
//
// It is a non-test package so that every package's tests can import it; it
// is internal to the module and imports only the standard library and
// the module's internal freeport and integration.
package redistest

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/freeport"
	"github.com/cognitoguard/cognitoguard/internal/integration"
)

// StartTimeout bounds how long a server may take to answer PING, and a
// cluster to reach cluster_state:ok.
const StartTimeout = 15 * time.Second

// attempts is how many free ports are tried before giving up, for the rare
// case where another process takes the port between our probe and the
// server's bind.
const attempts = 5

// server is one redis-server started by this package.
type server struct {
	port  int
	dir   string
	conf  string   // configuration file, passed first (Sentinel needs one)
	tls   bool     // port is a TLS port (and the plain port is off)
	extra []string // extra arguments (cluster mode, --sentinel)
	own   bool     // conf decides persistence: no --save/--appendonly overrides
	auth  []string // AUTH arguments sent before readiness checks, if any

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	out  *tailBuffer
}

var (
	regMu    sync.Mutex
	registry = map[string]*server{} // addr → server, for Restart
)

// Server starts a standalone redis-server on a free 127.0.0.1 port, with
// its working directory under t.TempDir(), and waits until it answers PING.
// It returns the address ("127.0.0.1:port") and the process, which tests
// may kill to simulate an outage (then [Restart] brings a server back on
// the same address). The server is killed in t.Cleanup.
//
// Without redis-server on PATH the test is skipped (failed under
// COGNITOGUARD_INTEGRATION=1).
func Server(t testing.TB) (addr string, proc *os.Process) {
	t.Helper()
	dir := t.TempDir()
	s := launch(t, "redis-server", func(port int) *server { return &server{port: port, dir: dir} })
	if s == nil {
		return "", nil
	}
	return s.addr(), s.process()
}

// launch starts the server made by mk on a free port (trying a few, for
// the rare port taken between the probe and the bind), registers it for
// Restart and cleanup, and returns it; it fails the test (and returns nil)
// when none starts.
func launch(t testing.TB, what string, mk func(port int) *server) *server {
	t.Helper()
	bin := integration.LookPath(t, "redis-server")
	var last error
	for range attempts {
		port, err := freeport.Loopback(false)
		if err != nil {
			last = err
			continue
		}
		s := mk(port)
		if err := s.start(bin); err != nil {
			last = err
			continue
		}
		register(t, s.addr(), s)
		return s
	}
	t.Fatalf("redistest: cannot start %s: %v", what, last)
	return nil
}

// Restart stops the server at addr, started by [Server] in this test, if it
// is still running, and starts a new one on the same address and directory,
// waiting until it answers PING. The new server is empty (nothing is
// persisted). It returns the new process, which is killed in the cleanup
// of the test that started the first one. Restart fails the test if addr
// was not started by this package or the new server does not come up.
func Restart(t testing.TB, addr string) *os.Process {
	t.Helper()
	regMu.Lock()
	s := registry[addr]
	regMu.Unlock()
	if s == nil {
		t.Fatalf("redistest: Restart(%q): not a server started by redistest.Server", addr)
		return nil
	}
	s.stop()
	bin := integration.LookPath(t, "redis-server")
	// The port was ours a moment ago; a TIME_WAIT socket does not stop
	// redis (SO_REUSEADDR), but another process could take it: retry a
	// few times before failing.
	var err error
	for range attempts {
		if err = s.start(bin); err == nil {
			return s.process()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("redistest: cannot restart redis-server on %s: %v", addr, err)
	return nil
}

// Cluster starts a Redis Cluster of three masters without replicas on free
// 127.0.0.1 ports (each port p with its cluster bus port p+10000 free),
// joins them with `redis-cli --cluster create`, and waits until every node
// reports cluster_state:ok. It returns the three addresses, for
// redis.NewClusterClient or redis.NewUniversalClient. The nodes are killed
// in t.Cleanup.
//
// Without redis-server or redis-cli on PATH the test is skipped (failed
// under COGNITOGUARD_INTEGRATION=1); with -short it is skipped once they
// are found, as forming a Cluster takes seconds.
func Cluster(t testing.TB) []string {
	t.Helper()
	return cluster(t, Options{})
}

// cluster is [Cluster] with the configuration o (see [ClusterWith]).
func cluster(t testing.TB, o Options) []string {
	t.Helper()
	// The binaries first: a missing one fails under
	// COGNITOGUARD_INTEGRATION=1 whether or not -short is set.
	bin := integration.LookPath(t, "redis-server")
	cli := integration.LookPath(t, "redis-cli")
	if testing.Short() {
		t.Skip("redistest: a real Redis Cluster takes seconds to form: not with -short")
	}
	nodes := clusterNodes(t, o, bin)
	if nodes == nil {
		return nil
	}
	addrs := make([]string, len(nodes))
	for i, s := range nodes {
		addrs[i] = s.addr()
	}

	var args []string
	if o.User != "" {
		args = append(args, "--user", o.User, "--pass", o.Password, "--no-auth-warning")
	}
	args = append(args, "--cluster", "create")
	args = append(args, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	cmd := exec.Command(cli, args...)
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
		return nil
	}
	deadline := time.Now().Add(StartTimeout)
	for _, s := range nodes {
		for {
			info, err := s.do("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster node %s not ok after %v: %v\n%s", s.addr(), StartTimeout, err, info)
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}

// clusterNodes starts the three cluster-enabled servers of [cluster], or
// fails t (and returns nil).
func clusterNodes(t testing.TB, o Options, bin string) []*server {
	t.Helper()
	dir := t.TempDir()
	nodes := make([]*server, 0, 3)
	for len(nodes) < 3 {
		var last error
		ok := false
		for range attempts {
			port, err := freeport.Loopback(true)
			if err != nil {
				last = err
				continue
			}
			s := o.server(port, dir)
			s.extra = append(s.extra,
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
				"--cluster-node-timeout", "5000",
			)
			if err := s.start(bin); err != nil {
				last = err
				continue
			}
			register(t, s.addr(), s)
			nodes = append(nodes, s)
			ok = true
			break
		}
		if !ok {
			t.Fatalf("redistest: cannot start cluster node: %v", last)
			return nil
		}
	}
	return nodes
}

// Sentinel starts a Redis Sentinel on a free 127.0.0.1 port monitoring the
// master at masterAddr under the name master (quorum 1, the master deemed
// down after 500ms, failover timeout 5s), and waits until it answers PING
// and has replicas replicas of the master listed (Sentinel learns of them
// from the master's INFO). It returns its address, for the Addrs of a
// redis.UniversalOptions with MasterName master. It is killed in
// t.Cleanup.
func Sentinel(t testing.TB, masterAddr, master string, replicas int) string {
	t.Helper()
	integration.LookPath(t, "redis-server")
	host, port, err := net.SplitHostPort(masterAddr)
	if err != nil {
		t.Fatalf("redistest: Sentinel: master address %q: %v", masterAddr, err)
		return ""
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("sentinel monitor %[1]s %[2]s %[3]s 1\n"+
		"sentinel down-after-milliseconds %[1]s 500\n"+
		"sentinel failover-timeout %[1]s 5000\n", master, host, port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("redistest: Sentinel: %v", err)
		return ""
	}
	s := launch(t, "a Sentinel", func(port int) *server {
		return &server{port: port, dir: dir, conf: conf, extra: []string{"--sentinel"}}
	})
	if s == nil {
		return ""
	}
	deadline := time.Now().Add(StartTimeout)
	for {
		if n, ok := sentinelReplicas(s.addr(), master); ok && n == replicas {
			return s.addr()
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: Sentinel at %s does not list %d replicas of %s after %v", s.addr(), replicas, master, StartTimeout)
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sentinelReplicas returns the number of replicas the Sentinel at addr
// lists for master, from its INFO sentinel line
// "master0:name=M,status=ok,address=H:P,slaves=N,sentinels=1".
func sentinelReplicas(addr, master string) (int, bool) {
	info, err := Do(addr, "INFO", "sentinel")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(info) {
		_, fields, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(fields, "name="+master+",") {
			continue
		}
		for f := range strings.SplitSeq(fields, ",") {
			if v, ok := strings.CutPrefix(f, "slaves="); ok {
				n, err := strconv.Atoi(v)
				return n, err == nil && strings.Contains(fields, "status=ok")
			}
		}
	}
	return 0, false
}

// register remembers s under addr for Restart and kills it when t ends.
func register(t testing.TB, addr string, s *server) {
	regMu.Lock()
	registry[addr] = s
	regMu.Unlock()
	t.Cleanup(func() {
		s.stop()
		regMu.Lock()
		if registry[addr] == s {
			delete(registry, addr)
		}
		regMu.Unlock()
	})
}

func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

func (s *server) process() *os.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process
}

// start runs redis-server on s.port and waits until it answers PING with
// its own process id (so that a server someone else started on the port is
// never mistaken for ours). It fails if the process exits first (port
// taken) or StartTimeout passes.
func (s *server) start(bin string) error {
	var args []string
	if s.conf != "" {
		args = append(args, s.conf)
	}
	port := []string{"--port", strconv.Itoa(s.port)}
	if s.tls {
		port = []string{"--port", "0", "--tls-port", strconv.Itoa(s.port)}
	}
	args = append(args, port...)
	args = append(args, "--bind", "127.0.0.1", "--dir", s.dir, "--daemonize", "no")
	if !s.own {
		args = append(args, "--save", "", "--appendonly", "no")
	}
	args = append(args, s.extra...)
	cmd := exec.Command(bin, args...)
	out := &tailBuffer{max: 8 << 10}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()

	pid := strconv.Itoa(cmd.Process.Pid)
	deadline := time.Now().Add(StartTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("redis-server on port %d exited: %s", s.port, out.String())
		default:
		}
		if info, err := s.do("INFO", "server"); err == nil {
			if infoField(info, "process_id") == pid {
				break
			}
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("port %d answered by another redis-server", s.port)
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("redis-server on port %d did not answer within %v: %s", s.port, StartTimeout, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	s.cmd, s.done, s.out = cmd, done, out
	s.mu.Unlock()
	return nil
}

// stop kills the server, if running, and waits for it to exit.
func (s *server) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
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

// do sends one command to s, over TLS for a TLS server (readiness only:
// the certificate is not checked).
func (s *server) do(args ...string) (string, error) {
	var c net.Conn
	var err error
	if s.tls {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: &tls.Config{InsecureSkipVerify: true}}
		c, err = d.Dial("tcp", s.addr())
	} else {
		c, err = net.DialTimeout("tcp", s.addr(), time.Second)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	if len(s.auth) > 0 {
		if _, err := doConn(c, append([]string{"AUTH"}, s.auth...)); err != nil {
			return "", err
		}
	}
	return doConn(c, args)
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = append(w.b[:0], w.b[len(w.b)-w.max:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.b))
}

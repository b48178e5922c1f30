package redistest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/integration"
)

func TestServer(t *testing.T) {
	var proc *os.Process
	var addr string
	t.Run("inner", func(t *testing.T) {
		addr, proc = Server(t)
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("addr = %q, want 127.0.0.1:port", addr)
		}
		if got, err := Do(addr, "PING"); err != nil || got != "PONG" {
			t.Fatalf("PING = %q, %v", got, err)
		}
		if _, err := Do(addr, "SET", "k", "v"); err != nil {
			t.Fatal(err)
		}
		if got, _ := Do(addr, "GET", "k"); got != "v" {
			t.Errorf("GET k = %q, want v", got)
		}
		// Nothing persisted.
		if got, _ := Do(addr, "CONFIG", "GET", "appendonly"); got != "" {
			t.Logf("CONFIG GET answered %q", got) // arrays are not parsed; just no crash
		}
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		if v, err := c.ConfigGet(t.Context(), "save").Result(); err != nil || v["save"] != "" {
			t.Errorf("save = %q, %v; want empty", v["save"], err)
		}
		if v, err := c.ConfigGet(t.Context(), "bind").Result(); err != nil || v["bind"] != "127.0.0.1" {
			t.Errorf("bind = %q, %v; want 127.0.0.1", v["bind"], err)
		}
	})
	if t.Failed() || proc == nil {
		return
	}
	// The cleanup of the subtest killed the server.
	if err := proc.Signal(syscall.Signal(0)); err == nil {
		t.Errorf("redis-server pid %d still running after the test ended", proc.Pid)
	}
	if _, err := Do(addr, "PING"); err == nil {
		t.Errorf("%s still answers after the test ended", addr)
	}
}

func TestServersDistinct(t *testing.T) {
	a, _ := Server(t)
	b, _ := Server(t)
	if a == b {
		t.Fatalf("two servers on %s", a)
	}
	Do(a, "SET", "k", "a")
	if got, _ := Do(b, "GET", "k"); got != "" {
		t.Errorf("server b sees server a's key: %q", got)
	}
}

func TestRestart(t *testing.T) {
	addr, proc := Server(t)
	if _, err := Do(addr, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}

	// Restart of a running server: same address, new process, empty.
	p2 := Restart(t, addr)
	if p2.Pid == proc.Pid {
		t.Fatalf("same pid %d after Restart", p2.Pid)
	}
	if got, err := Do(addr, "GET", "k"); err != nil || got != "" {
		t.Errorf("GET k after restart = %q, %v; want empty (nothing persisted)", got, err)
	}

	// Kill it (an outage), then Restart brings it back.
	if err := p2.Kill(); err != nil {
		t.Fatal(err)
	}
	waitDown(t, addr)
	p3 := Restart(t, addr)
	if got, err := Do(addr, "PING"); err != nil || got != "PONG" {
		t.Fatalf("PING after restart = %q, %v", got, err)
	}
	if p3.Pid == p2.Pid {
		t.Errorf("same pid after restart of a killed server")
	}

	// A go-redis client reconnects to the restarted server by itself.
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	if err := c.Set(t.Context(), "x", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	Restart(t, addr)
	var err error
	for range 3 {
		if err = c.Get(t.Context(), "x").Err(); err == redis.Nil {
			break
		}
	}
	if err != redis.Nil {
		t.Errorf("GET x on the restarted server: %v, want redis.Nil", err)
	}
}

func waitDown(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := Do(addr, "PING"); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still up", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRestartUnknown(t *testing.T) {
	ft := runFake(t, func(tb testing.TB) { Restart(tb, "127.0.0.1:1") })
	if !ft.fatal || !strings.Contains(ft.msg, "not a server started by") {
		t.Errorf("Restart of an unknown addr: fatal=%v msg=%q", ft.fatal, ft.msg)
	}
}

func TestCluster(t *testing.T) {
	addrs := Cluster(t)
	if len(addrs) != 3 {
		t.Fatalf("got %d nodes, want 3", len(addrs))
	}
	for _, a := range addrs {
		info, err := Do(a, "CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
			t.Errorf("%s: CLUSTER INFO = %q, %v", a, info, err)
		}
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	ctx := t.Context()
	// Keys spread over every master.
	for i := range 30 {
		if err := c.Set(ctx, fmt.Sprintf("key-%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET through the cluster client: %v", err)
		}
	}
	var mu sync.Mutex
	sizes := map[string]int64{}
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		mu.Lock()
		sizes[m.Options().Addr] = n
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 {
		t.Errorf("masters = %v, want 3", sizes)
	}
	for a, n := range sizes {
		if n == 0 {
			t.Errorf("master %s holds no key of 30: slots not spread (%v)", a, sizes)
		}
	}
	// Sharded pub/sub works (Redis 7).
	sub := c.SSubscribe(ctx, "{u}chan")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SPublish(ctx, "{u}chan", "hi").Err(); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "hi" {
		t.Errorf("sharded message = %v, %v", msg, err)
	}
}

func TestSentinel(t *testing.T) {
	master, _ := Server(t)
	sentinel := Sentinel(t, master, "m", 0)
	if sentinel == master {
		t.Fatal("the Sentinel has the master's address")
	}
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{sentinel}})
	defer c.Close()
	ctx := t.Context()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET through the Sentinel: %v", err)
	}
	// The write reached the monitored master.
	if v, err := Do(master, "GET", "k"); err != nil || v != "v" {
		t.Errorf("master GET k = %q, %v", v, err)
	}
	if n, ok := sentinelReplicas(sentinel, "other"); ok || n != 0 {
		t.Errorf("replicas of an unknown master = %d, %v", n, ok)
	}
}

func TestTLSServer(t *testing.T) {
	addr, caFile := TLSServer(t)
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate in", caFile)
	}
	ctx := t.Context()
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING over TLS with the test CA: %v", err)
	}
	// Without the CA the certificate is refused; without TLS nothing answers.
	other := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}, MaxRetries: -1})
	defer other.Close()
	if err := other.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("PING with system roots: %v, want a certificate error", err)
	}
	if _, err := Do(addr, "PING"); err == nil {
		t.Error("a plain-text PING was answered")
	}
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct {
		name, env string
		fn        func(testing.TB)
		fatal     bool
	}{
		{"Server skips", "", func(tb testing.TB) { Server(tb) }, false},
		{"Server fails under integration", "1", func(tb testing.TB) { Server(tb) }, true},
		{"Cluster skips", "0", func(tb testing.TB) { Cluster(tb) }, false},
		{"Cluster fails under integration", "1", func(tb testing.TB) { Cluster(tb) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(integration.Env, tc.env)
			ft := runFake(t, tc.fn)
			if ft.fatal != tc.fatal || ft.skip == tc.fatal {
				t.Errorf("fatal=%v skip=%v, want fatal=%v (msg %q)", ft.fatal, ft.skip, tc.fatal, ft.msg)
			}
			if !strings.Contains(ft.msg, "redis-server not found") {
				t.Errorf("msg = %q", ft.msg)
			}
		})
	}
}

func TestDo(t *testing.T) {
	addr, _ := Server(t)
	if _, err := Do(addr, "NOSUCHCOMMAND"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: err = %v", err)
	}
	if got, err := Do(addr, "INCR", "n"); err != nil || got != "1" {
		t.Errorf("INCR = %q, %v", got, err)
	}
	if got, err := Do(addr, "GET", "missing"); err != nil || got != "" {
		t.Errorf("GET missing = %q, %v", got, err)
	}
	if _, err := Do("127.0.0.1:1", "PING"); err == nil {
		t.Error("PING to a closed port succeeded")
	}
}

// fakeTB records Skip and Fatal instead of acting on the real test.
type fakeTB struct {
	testing.TB
	fatal, skip bool
	msg         string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// The other ways to end a test are recorded too: were one to reach the
// real test from runFake's goroutine, it would end that test, not the fake.
func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) FailNow()          { f.Fatalf("FailNow") }
func (f *fakeTB) Skip(args ...any)  { f.Skipf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) SkipNow()          { f.Skipf("SkipNow") }

func runFake(t *testing.T, fn func(testing.TB)) *fakeTB {
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ft)
	}()
	<-done
	return ft
}

package main

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
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/integration"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

// This file starts the real components of the proxy tests: nginx, Caddy
// and a node upstream, each on a free 127.0.0.1 port, as the current user,
// in a temporary directory, stopped in t.Cleanup.

// freePort returns a port that was free on 127.0.0.1 a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a started program: its output, and done closed when it exited.
type proc struct {
	out  *syncbuf.Buffer
	done chan struct{}
}

// startProcess starts cmd with its output in a buffer shown on failure,
// killed with the test (and with this process: see sysProcAttr).
func startProcess(t testing.TB, cmd *exec.Cmd) *proc {
	t.Helper()
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second // a forked child keeping the output open cannot hang the cleanup
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		killProcess(cmd.Process)
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), out)
		}
	})
	return &proc{out, done}
}

// waitListening waits until addr ("host:port", or "unix:" and a socket
// path) accepts connections.
func waitListening(t testing.TB, addr string, p *proc) {
	t.Helper()
	network, a := "tcp", addr
	if s, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, a = "unix", s
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout(network, a, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening after 15s: %v", addr, err)
		}
		select {
		case <-p.done:
			t.Fatalf("exited before listening on %s", addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// upstreamJS answers every request with its method, URL and raw header
// lines as JSON; it prints its port, and exits when its stdin closes.
const upstreamJS = `
const http = require('http');
const srv = http.createServer((req, res) => {
  res.writeHead(200, {'Content-Type': 'application/json'});
  res.end(JSON.stringify({method: req.method, url: req.url, headers: req.rawHeaders}));
});
srv.keepAliveTimeout = 60000;
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`

// startUpstream starts the node upstream and returns its address.
func startUpstream(t testing.TB) string {
	t.Helper()
	node := integration.LookPath(t, "node", "nodejs")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// The upstream gets the client's Authorization (up to 16 KiB) and the
	// identity headers (up to 16 KiB): node's default limit is 16 KiB.
	cmd := exec.CommandContext(ctx, node, "--max-http-header-size=65536", "-e", upstreamJS)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killProcess(cmd.Process); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		s.Scan()
		line <- s.Text()
		for s.Scan() { // drain
		}
	}()
	select {
	case l := <-line:
		if _, err := strconv.Atoi(l); err != nil {
			t.Fatalf("node upstream printed %q", l)
		}
		return "127.0.0.1:" + l
	case <-time.After(15 * time.Second):
		t.Fatal("node upstream did not start")
		return ""
	}
}

// readExample returns a documented configuration, with its example
// addresses replaced as repl says (old, new, …), failing the test if one is
// not found: the test runs the configuration as documented.
func readExample(t testing.TB, name string, repl ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "forwardauth", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(repl); i += 2 {
		if !strings.Contains(s, repl[i]) {
			t.Fatalf("%s: %q not found", name, repl[i])
		}
		s = strings.ReplaceAll(s, repl[i], repl[i+1])
	}
	return s
}

// addrs are the addresses a proxy configuration is given: the upstream
// is upstream, or php-fpm through php_fastcgi when fpm is set (Caddy).
type addrs struct {
	check, signout, upstream string
	fpm                      *phpFPM
}

// startNginx runs examples/forwardauth/nginx.conf, with extraServer
// added to its server block and extraHTTP to the http block, and returns
// the proxy's base URL.
func startNginx(t testing.TB, a addrs, extraServer, extraHTTP string) string {
	t.Helper()
	bin := integration.LookPath(t, "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	port := freePort(t)
	// Only the port changes: the shipped address is kept, and
	// TestShippedConfigsListenOnLoopback checks it.
	site := readExample(t, "nginx.conf",
		"8000;", fmt.Sprintf("%d;\n%s", port, extraServer),
		"127.0.0.1:9091", a.check, "127.0.0.1:9092", a.signout, "127.0.0.1:8080", a.upstream)
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	var temps strings.Builder
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "    %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	main := fmt.Sprintf("worker_processes 1;\nevents { worker_connections 1024; }\nhttp {\n    access_log off;\n%s    include %s;\n%s\n}\n",
		temps.String(), filepath.Join(dir, "site.conf"), extraHTTP)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	errLog := filepath.Join(dir, "error.log")
	cmd := exec.Command(bin, "-p", dir, "-e", errLog, "-c", filepath.Join(dir, "nginx.conf"),
		"-g", fmt.Sprintf("daemon off; master_process off; pid %s;", filepath.Join(dir, "nginx.pid")))
	out := startProcess(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(errLog)
			t.Logf("nginx error.log:\n%s", b)
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, addr, out)
	return "http://" + addr
}

// startCaddy runs examples/forwardauth/Caddyfile with the admin endpoint
// off and no automatic HTTPS, and returns the proxy's base URL.
func startCaddy(t testing.TB, a addrs) string {
	t.Helper()
	bin := integration.LookPath(t, "caddy")
	dir := t.TempDir()
	port := freePort(t)
	var repl []string
	if a.fpm != nil {
		repl = append(repl, "reverse_proxy 127.0.0.1:8080",
			fmt.Sprintf("root * %s\n\t\tphp_fastcgi unix/%s", a.fpm.root, a.fpm.socket))
	}
	site := readExample(t, "Caddyfile", append(repl,
		":8000 {", fmt.Sprintf(":%d {", port),
		"127.0.0.1:9091", a.check, "127.0.0.1:9092", a.signout, "127.0.0.1:8080", a.upstream)...)
	conf := "{\n\tadmin off\n\tauto_https off\n}\n\n" + site
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	out := startProcess(t, cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, addr, out)
	return "http://" + addr
}

//go:build unix

// Package nodeproc starts, for tests, a component written in node.js and
// installed with npm (cognito-local, fauxqs): on a free loopback port, in
// its own process group, ready once its health endpoint says so, stopped
// when the test ends. Without node or the package the test is skipped,
// unless COGNITOGUARD_INTEGRATION=1, which makes that a failure: CI that
// promises integration tests must not pass them by skipping.
//
// It is a non-test package so that the tests of every module of the
// repository can use it; it imports only the standard library,
// internal/freeport and internal/syncbuf.
package nodeproc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/freeport"
	"github.com/cognitoguard/cognitoguard/internal/integration"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

// ReadyTimeout bounds the wait for the health endpoint (about a second on
// an idle machine; CI machines are shared).
const ReadyTimeout = 30 * time.Second

// outputMax bounds the output kept for failure messages.
const outputMax = 64 << 10

// stopGrace is how long a component may take to exit on SIGTERM before
// its process group is killed.
const stopGrace = 5 * time.Second

// Spec is an npm package to run.
type Spec struct {
	Name    string // npm package name, as in messages: "fauxqs"
	Version string // the pinned release the tests are written against
	DirEnv  string // variable naming the directory holding node_modules; default ~/.cache/cognitoguard/<Name>
	Script  string // the entry point, below node_modules/<Name>: "dist/cli.js"

	// Env is the environment the process gets, beyond the test's, for
	// the port it must listen on.
	Env func(port int) []string
	// Dir, if set, returns the working directory of one launch.
	Dir func(t testing.TB) (string, error)
	// Ready reports whether a 200 answer of GET /health with body says
	// the component is ready.
	Ready func(body []byte) bool
	// Notable, if set, filters the output logged when the test fails.
	Notable func(out string) string
}

// Proc is one running component.
type Proc struct {
	URL  string // http://127.0.0.1:PORT
	Port int
}

// Unavailable skips t, or fails it under COGNITOGUARD_INTEGRATION=1,
// saying that the component name cannot run.
func Unavailable(t testing.TB, name, format string, args ...any) {
	t.Helper()
	integration.Unavailable(t, "%s unavailable: %s (install: see its harness's package doc)", name, fmt.Sprintf(format, args...))
}

// Start runs a fresh s for t on a free loopback port and returns it once
// GET /health answers as s.Ready wants. It is stopped, with its whole
// process group, when t ends.
func Start(t testing.TB, s Spec) *Proc {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Unavailable(t, s.Name, "node not on PATH")
	}
	js := s.script(t)
	var last error
	for range 3 { // a free port can be taken before node binds it
		p, err := s.launch(t, node, js)
		if err == nil {
			return p
		}
		last = err
	}
	t.Fatalf("starting %s: %v", s.Name, last)
	return nil
}

// script finds the package's entry point.
func (s Spec) script(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(s.DirEnv)
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			Unavailable(t, s.Name, "no %s and no home directory: %v", s.DirEnv, err)
		}
		dir = filepath.Join(home, ".cache", "cognitoguard", s.Name)
	}
	js := filepath.Join(dir, "node_modules", s.Name, filepath.FromSlash(s.Script))
	if _, err := os.Stat(js); err != nil {
		Unavailable(t, s.Name, "%s@%s not installed in %s: %v", s.Name, s.Version, dir, err)
	}
	return js
}

func (s Spec) launch(t testing.TB, node, js string) (*Proc, error) {
	cmd := exec.Command(node, js)
	if s.Dir != nil {
		dir, err := s.Dir(t)
		if err != nil {
			return nil, err
		}
		cmd.Dir = dir
	}
	port, err := port()
	if err != nil {
		return nil, err
	}
	out := &syncbuf.Buffer{Max: outputMax}
	cmd.Env = append(os.Environ(), s.Env(port)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := s.waitReady(t.Context(), url, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w\n--- %s output ---\n%s", err, s.Name, out)
	}
	select {
	case <-exited: // someone else answered on our port
		return nil, fmt.Errorf("%s exited after %s answered\n--- %s output ---\n%s", s.Name, url, s.Name, out)
	default:
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			text := out.String()
			if s.Notable != nil {
				text = s.Notable(text)
			}
			t.Logf("--- %s output ---\n%s", s.Name, text)
		}
	})
	return &Proc{URL: url, Port: port}, nil
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{} // handed out by port in this process
)

// port returns a loopback port that was free a moment ago and that no
// other test of this process was given (tests run in parallel, and a
// component that lost the race for its port must not be mistaken for the
// one that won it; cognito-local writes its port into every iss, so port
// 0 cannot be used).
func port() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for {
		p, err := freeport.Loopback(false)
		if err != nil {
			return 0, err
		}
		if !ports[p] {
			ports[p] = true
			return p, nil
		}
	}
}

// waitReady polls url/health until s.Ready accepts its answer, the
// process exits, or ReadyTimeout passes.
func (s Spec) waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && s.Ready(body) {
				return nil
			}
			last = fmt.Errorf("GET /health: %d %q", resp.StatusCode, body)
		} else {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready (last: %v)", s.Name, last)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %v", s.Name, ReadyTimeout, last)
		case <-tick.C:
		}
	}
}

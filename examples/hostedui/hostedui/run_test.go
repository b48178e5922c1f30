package hostedui_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/examples/hostedui/hostedui"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

// TestRun: the command's two services from their flags, on one
// redis-server: both become ready, the web app sends a sign-in to the
// managed login, and both shut down when the context ends, leaving no
// goroutine behind.
func TestRun(t *testing.T) {
	leaktest.Check(t, http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	redisAddr, _ := redistest.Server(t)
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	u, _ := url.Parse(pool.URL())
	common := []string{"-addr", "127.0.0.1:0", "-user-pool-id", pool.PoolID(), "-client-id", pool.ClientID(),
		"-issuer", pool.Issuer(), "-cognito-endpoint", pool.URL(), "-redis-addr", redisAddr}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := func(args ...string) (string, chan error) {
		t.Helper()
		ready, done := make(chan string, 1), make(chan error, 1)
		var logs syncbuf.Buffer
		go func() { done <- hostedui.Run(ctx, args, io.Discard, &logs, func(a string) { ready <- a }) }()
		select {
		case a := <-ready:
			return "http://" + a, done
		case err := <-done:
			t.Fatalf("Run(%q): %v\n%s", args[0], err, logs.String())
		}
		return "", nil
	}
	api, apiDone := start(append([]string{"api"}, common...)...)
	web, webDone := start(append([]string{"web", "-domain", "http://localhost:" + u.Port(), "-api-url", api}, common...)...)

	waitReady(t, ctx, api+"/healthz")
	waitReady(t, ctx, web+"/healthz")
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(web + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "http://localhost:"+u.Port()+"/oauth2/authorize?") ||
		!strings.Contains(loc, url.QueryEscape(web+"/callback")) {
		t.Errorf("GET /login: redirect to %q", loc)
	}
	c.CloseIdleConnections()
	cancel()
	for _, done := range []chan error{apiDone, webDone} {
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func waitReady(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("%s never ready", u)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunUsage: no role, an unknown role or a missing required flag is a
// usage error, before anything starts.
func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"admin"}, {"web", "-user-pool-id", "us-east-1_x", "-client-id", "c"}, {"api", "-client-id", "c"}, {"api", "-user-pool-id", "us-east-1_x", "-client-id", "c", "extra"}} {
		err := hostedui.Run(t.Context(), args, io.Discard, io.Discard, func(string) { t.Errorf("Run(%q) started", args) })
		if err == nil || (len(args) < 1 && !errors.Is(err, flag.ErrHelp)) {
			t.Errorf("Run(%q) = %v, want a usage error", args, err)
		}
	}
}

package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/integration"
)

// nginxBench starts cognitoguard-forwardauth (in-process store), nginx with
// the documented configuration plus a location /plain without
// auth_request, and, as the upstream of both, a static server block of the
// same nginx answering "ok". It returns nginx's base URL and a valid token.
func nginxBench(t testing.TB) (base, token string) {
	pool := newPool(t)
	in := start(t, poolArgs(pool)...)
	static := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	base = startNginx(t, addrs{check: in.check, signout: "127.0.0.1:1", upstream: static},
		"    location = /plain {\n        proxy_pass http://"+static+";\n    }\n",
		"server {\n    listen "+static+";\n    location / {\n        return 200 \"ok\\n\";\n    }\n}\n")
	token = pool.AccessToken("alice")
	for _, path := range []string{"/plain", "/"} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, res.StatusCode)
		}
	}
	return base, token
}

// BenchmarkNginx sends requests with a valid token through nginx from
// 16×GOMAXPROCS goroutines on kept-alive connections: /plain proxies to
// the static upstream directly, / first asks cognitoguard-forwardauth
// (auth_request). Both share the machine's CPUs with the client.
func BenchmarkNginx(b *testing.B) {
	base, token := nginxBench(b)
	for _, route := range []struct{ name, path string }{{"plain", "/plain"}, {"auth_request", "/"}} {
		b.Run(route.name, func(b *testing.B) {
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			defer c.CloseIdleConnections()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", base+route.path, nil)
					req.Header.Set("Authorization", "Bearer "+token)
					res, err := c.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// TestWrkNginx runs wrk against the set-up of [BenchmarkNginx] when
// COGNITOGUARD_WRK is a duration (such as 10s): three rounds of each
// route, alternating, logged for BENCHMARKS.md. Skipped otherwise.
func TestWrkNginx(t *testing.T) {
	d := os.Getenv("COGNITOGUARD_WRK")
	if d == "" {
		t.Skip("set COGNITOGUARD_WRK=10s to run wrk through nginx")
	}
	if _, err := time.ParseDuration(d); err != nil {
		t.Fatalf("COGNITOGUARD_WRK=%q: %v", d, err)
	}
	wrk := integration.LookPath(t, "wrk")
	base, token := nginxBench(t)
	for round := 1; round <= 3; round++ {
		for _, path := range []string{"/plain", "/"} {
			cmd := exec.CommandContext(t.Context(), wrk, "-t2", "-c32", "-d"+d, "--latency",
				"-H", "Authorization: Bearer "+token, base+path)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("wrk: %v\n%s", err, out)
			}
			t.Logf("round %d, %s:\n%s", round, path, out)
		}
	}
}

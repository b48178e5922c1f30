package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/awstest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
)

// TestAPILivenessRedisDown: with Redis down, readiness (/healthz) answers
// 503 and liveness (/livez) stays 200, so that a liveness probe does not
// restart the instance during a Redis outage; both are 200 again once
// Redis is back.
func TestAPILivenessRedisDown(t *testing.T) {
	if testing.Short() {
		t.Skip("a Redis outage of seconds: not with -short")
	}
	awstest.Isolate(t)
	addr, proc := redistest.Server(t)
	checkGoroutines(t)
	pool := newPool(t)
	in := start(t, poolArgs(pool, "-redis-addr", addr)...)
	expect(t, in, "GET", "/livez", "", http.StatusOK)

	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for do(t, in, "GET", "/healthz", "").status != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/healthz still 200 with Redis down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 3 {
		expect(t, in, "GET", "/livez", "", http.StatusOK)
		expect(t, in, "GET", "/healthz", "", http.StatusServiceUnavailable)
	}

	redistest.Restart(t, addr)
	waitHealthy(t, in)
	expect(t, in, "GET", "/livez", "", http.StatusOK)
	in.shutdown(t)
}

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/awstest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

// TestAPIRedisServerEvicting: a Redis that may evict sign-outs
// (maxmemory with volatile-lru, ElastiCache's default) keeps the service
// running but failing closed: 503 with Retry-After on verified routes,
// /healthz not 200, and an Error log naming maxmemory-policy.
func TestAPIRedisServerEvicting(t *testing.T) {
	awstest.Isolate(t)
	addr, _ := redistest.Server(t)
	for _, kv := range [][2]string{{"maxmemory", "4mb"}, {"maxmemory-policy", "volatile-lru"}} {
		if _, err := redistest.Do(addr, "CONFIG", "SET", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	checkGoroutines(t)
	pool := newPool(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := &instance{stop: cancel, errc: make(chan error, 1), stderr: &syncbuf.Buffer{}}
	addrc := make(chan string, 1)
	go func() {
		in.errc <- run(ctx, poolArgs(pool, "-redis-addr", addr), io.Discard, in.stderr, func(a string) { addrc <- a })
	}()
	in.url = "http://" + <-addrc
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(in.stderr.String(), "maxmemory-policy") {
		if time.Now().After(deadline) {
			t.Fatalf("no log naming maxmemory-policy:\n%s", in.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(in.stderr.String(), `"level":"ERROR"`) {
		t.Errorf("maxmemory-policy not logged at Error:\n%s", in.stderr)
	}
	res := expect(t, in, "GET", "/me", pool.AccessToken("alice"), http.StatusServiceUnavailable)
	if res.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	expect(t, in, "GET", "/healthz", "", http.StatusServiceUnavailable)
	in.shutdown(t)
}

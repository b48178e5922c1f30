package main

import (
	"bytes"
	"context"
	"errors"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

func TestRun(t *testing.T) {
	checkGoroutines(t)
	var out bytes.Buffer
	if err := run(t.Context(), &out, nil); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"1. alice signs in",
		"✓ A  GET  /me     alice access     → 200",
		"✓ B  GET  /me     alice ID         → 200",
		"2. alice logs out on A",
		"✓ A  POST /logout alice access     → 204",
		"3. alice's old tokens",
		"✓ A  GET  /me     alice access     → 401  Access Token has been revoked",
		"✓ B  GET  /me     alice access     → 401  Access Token has been revoked",
		"✓ A  GET  /me     alice ID         → 401  Token has been revoked",
		"✓ B  GET  /me     alice ID         → 401  Token has been revoked",
		"✓ P  GET  /me     alice access     → 200",
		"That is the hole cognitoguard closes.",
		"4. alice's old refresh token",
		"✓ Cognito REFRESH_TOKEN_AUTH → NotAuthorizedException",
		"5. alice signs in again",
		"✓ B  GET  /me     alice new access → 200",
		"6. an admin signs bob out",
		"→ 403  bob is not in group admin",
		"✓ B  POST /admin/users/bob/signout alice new access → 204",
		"✓ B  GET  /me     bob access       → 401  Access Token has been revoked",
		"✓ A  GET  /me     bob ID           → 401  Token has been revoked",
		"alice is not affected",
		"7. carol signs out in her single-page app",
		"✓ Cognito GlobalSignOut → OK",
		"✓ A  GET  /me     carol access     → 200  until the event arrives",
		"✓ consumer: GlobalSignOut event recorded",
		"✓ A  GET  /me     carol access     → 401  Access Token has been revoked",
		"✓ B  GET  /me     carol ID         → 401  Token has been revoked",
		"✓ P  GET  /me     carol access     → 200",
		"All 7 steps behaved as described.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if strings.Contains(got, "✗") || strings.Contains(got, "Warnings") {
		t.Errorf("transcript reports a failure")
	}
	if t.Failed() {
		t.Logf("transcript:\n%s", got)
	}
}

// TestRunReportsFailure breaks the setup (Verifiers without their store):
// the walkthrough must stop at step 3 with a non-nil error naming it.
func TestRunReportsFailure(t *testing.T) {
	var out bytes.Buffer
	err := walkthrough(t.Context(), &out, options{plain: true})
	if !errors.Is(err, errStep) || !strings.Contains(err.Error(), "step 3 (alice's old tokens") {
		t.Fatalf("err = %v, want a step 3 failure", err)
	}
	got := out.String()
	t.Logf("error: %v\ntranscript:\n%s", err, got)
	if !strings.Contains(got, "✗ A  GET  /me     alice access     → 200 (want 401)") || !strings.Contains(got, "✗ Step 3 did not behave as described.") {
		t.Errorf("transcript lacks the failed check:\n%s", got)
	}
	if strings.Contains(got, "4. ") || strings.Contains(got, "All 7 steps") {
		t.Errorf("walkthrough went on after a failed step:\n%s", got)
	}
}

func TestServe(t *testing.T) {
	checkGoroutines(t)
	got := serve(t, "-serve")
	if !strings.Contains(got, "Redis (embedded miniredis) 127.0.0.1:") {
		t.Errorf("transcript does not show the embedded Redis:\n%s", got)
	}
}

// TestServeExternalRedis runs -serve on a real redis-server given with
// -redis-addr: the sign-outs of the walkthrough must land there, under the
// demo's prefix.
func TestServeExternalRedis(t *testing.T) {
	addr, _ := redistest.Server(t)
	checkGoroutines(t)
	got := serve(t, "-serve", "-redis-addr", addr)
	if !strings.Contains(got, "Redis (external)           "+addr+"\n") {
		t.Errorf("transcript does not show the external Redis %s:\n%s", addr, got)
	}
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	keys, err := client.Keys(t.Context(), demoPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// alice, bob and carol signed out in the walkthrough (besides the
	// store's data-loss marker).
	keys = slices.DeleteFunc(keys, func(k string) bool { return strings.Contains(k, "marker") })
	if len(keys) != 3 {
		t.Errorf("keys under %s on %s: %q, want alice's, bob's and carol's", demoPrefix, addr, keys)
	}
}

// serve runs the demo with args until it prints its curl commands, checks
// that the printed tokens work on every instance, stops it and returns
// the transcript.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncbuf.Buffer{}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, out, args) }()

	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "# 401\n") {
		select {
		case err := <-errc:
			t.Fatalf("run returned early: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no curl commands after 30s:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := out.String()
	tokens := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(ALICE|BOB)='([A-Za-z0-9_.-]+)'$`).FindAllStringSubmatch(got, -1) {
		tokens[m[1]] = m[2]
	}
	urls := regexp.MustCompile(`API instance (\w)\s+(http://127\.0\.0\.1:\d+)`).FindAllStringSubmatch(got, -1)
	if len(tokens) != 2 || len(urls) != 3 {
		t.Fatalf("tokens %d, urls %d in:\n%s", len(tokens), len(urls), got)
	}
	// The printed tokens work as advertised.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, who := range []string{"ALICE", "BOB"} {
		for _, u := range urls {
			req, _ := http.NewRequest("GET", u[2]+"/me", nil)
			req.Header.Set("Authorization", "Bearer "+tokens[who])
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("%s on %s: %d, want 200", who, u[1], res.StatusCode)
			}
		}
	}
	client.CloseIdleConnections()

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if !strings.HasSuffix(out.String(), "Stopped.\n") {
		t.Errorf("output does not end with Stopped.")
	}
	return out.String()
}

func TestArgs(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"serve"}, {"-redis-addr"}} {
		var out bytes.Buffer
		if err := run(t.Context(), &out, args); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

// checkGoroutines fails the test if goroutines it started outlive it.
func checkGoroutines(t *testing.T) { leaktest.Check(t) }

package alb_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/alb"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
)

// TestFirstCallerGoingAwayDoesNotFailOthers: the key fetch a request
// starts is shared, and runs under no request's context: the request that
// started it giving up (a client disconnecting) fails that request alone,
// while the others who joined get the key from the same single fetch.
func TestFirstCallerGoingAwayDoesNotFailOthers(t *testing.T) {
	f := newFixture(t, alb.Config{})
	release := make(chan struct{})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		http.Redirect(w, r, f.lb.KeyURL()+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	v, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	tok := f.lb.DataToken(f.pool, "alice")
	firstCtx, goAway := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() { _, err := v.Verify(firstCtx, tok); first <- err }()
	for hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() { _, err := v.Verify(t.Context(), tok); second <- err }()
	goAway()
	if err := <-first; !errors.Is(err, cognitoguard.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want ErrUnavailable and context.Canceled", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Fatalf("second caller failed with the first one's context: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

// TestCloseStopsFetches: Close cancels a fetch in flight and waits for its
// goroutine; later lookups that need a fetch fail unavailable.
func TestCloseStopsFetches(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, alb.Config{})
	started := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	v, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.lb.DataToken(f.pool, "alice")
	done := make(chan error, 1)
	go func() { _, err := v.Verify(t.Context(), tok); done <- err }()
	<-started
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("Verify during Close: %v", err)
	}
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("Verify after Close: %v", err)
	}
}

package cognitoguard_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/jwks"
)

// readyStore is a revocation checker with a Ready method.
type readyStore struct {
	fakeRevocation
	err error
}

func (s *readyStore) Ready(context.Context) error { return s.err }

func TestReady(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	const home = "cognito-idp.us-east-1.amazonaws.com"
	hosts := &awsHosts{body: p.JWKS(), hits: map[string]int{}, status: map[string]int{home: 500}}
	store := &readyStore{err: errors.New("subscription not established")}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), ClientIDs: []string{"c"}}},
		cognitoguard.Config{JWKS: jwks.Config{HTTPClient: &http.Client{Transport: hosts}}, Revocation: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })

	if err := v.Ready(t.Context()); !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("keys unreachable: Ready = %v, want ErrUnavailable", err)
	}
	hosts.mu.Lock()
	hosts.status[home] = 200
	hosts.mu.Unlock()
	if err := v.Ready(t.Context()); !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("store not ready: Ready = %v, want ErrUnavailable", err)
	}
	store.err = nil
	if err := v.Ready(t.Context()); err != nil {
		t.Fatalf("Ready = %v", err)
	}
	fetches := hosts.count(home)
	if err := v.Ready(t.Context()); err != nil || hosts.count(home) != fetches {
		t.Fatalf("Ready with keys in memory fetched again (%d → %d), err %v", fetches, hosts.count(home), err)
	}
	if hosts.count("issuer-cognito-idp.us-east-1.amazonaws.com") != 0 {
		t.Fatal("Ready fetched a secondary issuer's keys")
	}
	st := v.KeyStats()
	if got := st["https://"+home+"/"+p.PoolID()]; got.Keys != 2 || len(st) != 2 {
		t.Fatalf("KeyStats = %+v", st)
	}
}

// TestWarmUp: WarmUp retries with backoff until the keys can be fetched,
// and gives up when its context ends.
func TestWarmUp(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	keySet := p.JWKS()
	synctest.Test(t, func(t *testing.T) {
		const home = "cognito-idp.us-east-1.amazonaws.com"
		hosts := &awsHosts{body: keySet, hits: map[string]int{}, status: map[string]int{home: 503}}
		v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: "us-east-1_warm", ClientIDs: []string{"c"}}},
			cognitoguard.Config{JWKS: jwks.Config{HTTPClient: &http.Client{Transport: hosts}}})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err = v.WarmUp(ctx)
		cancel()
		if !errors.Is(err, cognitoguard.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WarmUp against a failing endpoint = %v", err)
		}
		// 250 ms, 500 ms: three attempts fit in one second.
		if n := hosts.count(home); n != 3 {
			t.Fatalf("%d attempts in 1 s, want 3 (backoff 250 ms doubling)", n)
		}
		go func() {
			time.Sleep(3 * time.Second)
			hosts.mu.Lock()
			hosts.status[home] = 200
			hosts.mu.Unlock()
		}()
		start := time.Now()
		if err := v.WarmUp(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 3*time.Second || d > 6*time.Second {
			t.Fatalf("ready after %v, want shortly after the endpoint recovered at 3 s", d)
		}
	})
}

func TestOnVerify(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var events []cognitoguard.VerifyEvent
	v := f.verifier(t, cognitoguard.Config{OnVerify: func(_ context.Context, ev cognitoguard.VerifyEvent) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}})
	tok := f.pool.AccessToken("alice", cognitotest.WithClient("client-a"))
	for range 2 {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(t.Context(), tok+"x"); err == nil {
		t.Fatal("bad token accepted")
	}
	if _, err := v.Authenticate(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 {
		t.Fatalf("%d events, want 4", len(events))
	}
	want := []struct{ ok, cached, auth bool }{{true, false, false}, {true, true, false}, {false, false, false}, {true, true, true}}
	for i, w := range want {
		ev := events[i]
		if (ev.Err == nil) != w.ok || ev.Cached != w.cached || ev.Authenticate != w.auth || (ev.Claims != nil) != w.ok || ev.Duration < 0 {
			t.Errorf("event %d = %+v, want ok %v cached %v authenticate %v", i, ev, w.ok, w.cached, w.auth)
		}
	}
	if !errors.Is(events[2].Err, cognitoguard.ErrInvalidToken) {
		t.Errorf("event 2 error %v", events[2].Err)
	}
}

// readyKeys is a custom key source that reports its readiness and can be
// refreshed.
type readyKeys struct {
	cognitoguard.KeySource
	err       error
	refreshes int
}

func (k *readyKeys) Ready(context.Context) error   { return k.err }
func (k *readyKeys) Refresh(context.Context) error { k.refreshes++; return nil }

// TestReadyCustomKeySource: a Pool.Keys source is asked for readiness and
// refreshed through the optional interfaces, like the key fetchers.
func TestReadyCustomKeySource(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	set, err := jwks.New(p.Issuer()+"/.well-known/jwks.json", jwks.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	keys := &readyKeys{KeySource: set, err: errors.New("key vault sealed")}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, Keys: keys, AnyClient: true}},
		cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Ready(t.Context()); !errors.Is(err, cognitoguard.ErrUnavailable) || !errors.Is(err, keys.err) {
		t.Fatalf("Ready = %v, want ErrUnavailable wrapping the source's error", err)
	}
	keys.err = nil
	if err := v.Ready(t.Context()); err != nil {
		t.Fatalf("Ready = %v", err)
	}
	if err := v.Refresh(t.Context()); err != nil || keys.refreshes != 1 {
		t.Fatalf("Refresh = %v, %d refreshes of the custom source, want 1", err, keys.refreshes)
	}
}

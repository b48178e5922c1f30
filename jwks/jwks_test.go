package jwks

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		cfg     Config
		wantErr string
	}{
		{name: "https", url: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x/.well-known/jwks.json"},
		{name: "http loopback", url: "http://127.0.0.1:9229/local_x/.well-known/jwks.json"},
		{name: "scheme case", url: "HTTPS://example.com/jwks"},
		{name: "http localhost", url: "http://localhost:9229/local_x/.well-known/jwks.json"},
		{name: "http IPv6 loopback", url: "http://[::1]:9229/jwks"},
		{name: "http to a public host", url: "http://cognito-idp.eu-west-1.amazonaws.com/x/.well-known/jwks.json", wantErr: "must be https"},
		{name: "ftp", url: "ftp://example.com/jwks", wantErr: "not an absolute http(s) URL"},
		{name: "relative", url: "/.well-known/jwks.json", wantErr: "not an absolute http(s) URL"},
		{name: "empty", url: "", wantErr: "not an absolute http(s) URL"},
		{name: "no host", url: "https:///jwks", wantErr: "with a host"},
		{name: "port only", url: "https://:443/jwks", wantErr: "with a host"},
		{name: "unparsable", url: "https://exa mple.com/%zz", wantErr: "invalid character"},
		{name: "negative timeout", url: "https://example.com/jwks", cfg: Config{FetchTimeout: -1}, wantErr: "negative"},
		{name: "negative cooldown", url: "https://example.com/jwks", cfg: Config{Cooldown: -1}, wantErr: "negative"},
		{name: "negative body size", url: "https://example.com/jwks", cfg: Config{MaxBodySize: -1}, wantErr: "negative"},
		{name: "negative max keys", url: "https://example.com/jwks", cfg: Config{MaxKeys: -1}, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.url, tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "jwks: ") {
					t.Fatalf("New(%q) error = %v, want one containing %q", tt.url, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tt.url, err)
			}
			t.Cleanup(func() { _ = s.Close() })
		})
	}
}

func TestNewDefaults(t *testing.T) {
	s, err := New("https://example.com/jwks", Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if s.timeout != 5*time.Second || s.cooldown != 10*time.Second || s.maxBody != 1<<20 || s.maxKeys != 64 {
		t.Errorf("defaults: timeout %v cooldown %v maxBody %d maxKeys %d", s.timeout, s.cooldown, s.maxBody, s.maxKeys)
	}
	if s.client == http.DefaultClient || s.client.Timeout != 5*time.Second {
		t.Errorf("default client: %p (DefaultClient %p) with timeout %v", s.client, http.DefaultClient, s.client.Timeout)
	}
	if s.now == nil || s.log == nil {
		t.Error("nil clock or logger")
	}

	custom := &http.Client{Transport: &http.Transport{}, Timeout: 3 * time.Second}
	s2, err := New("https://example.com/jwks", Config{HTTPClient: custom, FetchTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	// A copy of the custom client (its redirect policy wrapped), not the
	// client itself.
	if s2.client == custom || s2.client.Transport != custom.Transport || s2.client.Timeout != custom.Timeout || s2.timeout != time.Second {
		t.Errorf("custom client not used or timeout not set")
	}
}

func TestKeyFirstUse(t *testing.T) {
	a, b := fakePub(t, 2048), fakePub(t, 3072)
	srv := newJWKSServer(t, jwksDoc(t, jwk("a", a, nil), jwk("b", b, nil)))
	s, clk := newSet(t, srv.URL, Config{})
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("New fetched %d times; want lazy", n)
	}

	got, err := s.Key(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(a) {
		t.Error("key a differs from the served one")
	}
	got2, err := s.Key(t.Context(), "b")
	if err != nil || !got2.Equal(b) {
		t.Fatalf("Key(b) = %v, %v", got2, err)
	}
	again, _ := s.Key(t.Context(), "a")
	if again != got {
		t.Error("second lookup returned another pointer")
	}
	want := Stats{Fetches: 1, Misses: 1, Keys: 2, LastSuccess: clk.Now()}
	if st := s.Stats(); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("server hits = %d, want 1", n)
	}
}

func TestEmptyKid(t *testing.T) {
	srv := newJWKSServer(t, jwksDoc(t, jwk("a", fakePub(t, 2048), nil)))
	s, _ := newSet(t, srv.URL, Config{})
	if _, err := s.Key(t.Context(), ""); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Key(\"\") error = %v, want ErrKeyNotFound", err)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("empty kid caused %d fetches", n)
	}
}

func TestConcurrentFirstUseSharesOneFetch(t *testing.T) {
	const n = 300
	a := fakePub(t, 2048)
	body := jwksDoc(t, jwk("a", a, nil))
	srv := newJWKSServer(t, body)
	gate := make(chan struct{})
	srv.set(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-srv.release:
		}
		_, _ = w.Write(body)
	})
	s, _ := newSet(t, srv.URL, Config{})

	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			k, err := s.Key(t.Context(), "a")
			if err == nil && !k.Equal(a) {
				err = errors.New("wrong key")
			}
			errs <- err
		})
	}
	// Every lookup has joined the fetch once it is counted as a miss: the
	// fetch cannot end before the gate opens.
	waitFor(t, "all lookups to wait", func() bool { return s.Stats().Misses == n })
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("server hits = %d, want exactly 1", got)
	}
	if st := s.Stats(); st.Fetches != 1 || st.Failures != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// missConcurrently looks up n distinct unknown kids at once and returns the
// errors.
func missConcurrently(t *testing.T, s *Set, n int, prefix string) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := s.Key(t.Context(), fmt.Sprintf("%s-%d", prefix, i))
			if k != nil {
				err = errors.New("unknown kid returned a key")
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errs
}

func TestUnknownKidCooldown(t *testing.T) {
	const n = 300
	const cooldown = 9 * time.Second
	body := jwksDoc(t, jwk("a", fakePub(t, 2048), nil))
	srv := newJWKSServer(t, body)
	s, clk := newSet(t, srv.URL, Config{Cooldown: cooldown})
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}

	t.Run("during cooldown: no fetch, at once", func(t *testing.T) {
		srv.hang(nil) // a fetch would block for FetchTimeout (5s)
		t.Cleanup(func() { srv.serve(body) })
		clk.Advance(cooldown - time.Nanosecond)
		start := time.Now()
		for _, err := range missConcurrently(t, s, n, "early") {
			if !errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrUnavailable) {
				t.Fatalf("error = %v, want ErrKeyNotFound only", err)
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("misses during cooldown took %v", d)
		}
		if got := s.Stats().Fetches; got != 1 {
			t.Errorf("fetches = %d, want 1", got)
		}
	})

	t.Run("after cooldown: one refetch", func(t *testing.T) {
		clk.Advance(time.Nanosecond)
		for _, err := range missConcurrently(t, s, n, "late") {
			if !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("error = %v, want ErrKeyNotFound", err)
			}
		}
		if got := s.Stats().Fetches; got != 2 {
			t.Errorf("fetches = %d, want 2", got)
		}
	})

	t.Run("at most one refetch per cooldown", func(t *testing.T) {
		// Rounds every cooldown/3: a refetch every third round.
		for round := 1; round <= 9; round++ {
			clk.Advance(cooldown / 3)
			for _, err := range missConcurrently(t, s, 30, fmt.Sprint("round", round)) {
				if !errors.Is(err, ErrKeyNotFound) {
					t.Fatalf("round %d: error = %v, want ErrKeyNotFound", round, err)
				}
			}
			if got, want := s.Stats().Fetches, uint64(2+round/3); got != want {
				t.Fatalf("round %d: fetches = %d, want %d", round, got, want)
			}
		}
	})
	if st := s.Stats(); st.Failures != 0 || st.Keys != 1 || st.Misses != 2*n+9*30 {
		t.Errorf("Stats = %+v", st)
	}
	if got := srv.hits.Load(); got != 5 {
		t.Errorf("server hits = %d, want 5", got)
	}
}

func TestRotation(t *testing.T) {
	const cooldown = 10 * time.Second
	a, b, c := fakePub(t, 2048), fakePub(t, 2048), fakePub(t, 4096)
	srv := newJWKSServer(t, jwksDoc(t, jwk("a", a, nil)))
	s, clk := newSet(t, srv.URL, Config{Cooldown: cooldown})
	ctx := t.Context()

	keyA, err := s.Key(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// KeysVersion moves with every change of the keys, and only then.
	ver := s.KeysVersion()
	moved := func(step string, want bool) {
		t.Helper()
		if v := s.KeysVersion(); (v != ver) != want {
			t.Errorf("%s: KeysVersion %d -> %d, want moved %v", step, ver, v, want)
		}
		ver = s.KeysVersion()
	}
	clk.Advance(cooldown)
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	moved("refetch of the same keys", false)

	// b appears: invisible until the cooldown since the last fetch ends.
	srv.serve(jwksDoc(t, jwk("a", a, nil), jwk("b", b, nil)))
	clk.Advance(cooldown - time.Millisecond)
	if _, err := s.Key(ctx, "b"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Key(b) during cooldown: %v, want ErrKeyNotFound", err)
	}
	clk.Advance(time.Millisecond)
	keyB, err := s.Key(ctx, "b")
	if err != nil || !keyB.Equal(b) {
		t.Fatalf("Key(b) after cooldown = %v, %v", keyB, err)
	}
	if got, _ := s.Key(ctx, "a"); got != keyA {
		t.Error("unchanged key a lost its pointer identity")
	}
	moved("b added", true)

	// a is retired, c appears.
	srv.serve(jwksDoc(t, jwk("b", b, nil), jwk("c", c, nil)))
	clk.Advance(cooldown)
	if got, err := s.Key(ctx, "c"); err != nil || !got.Equal(c) {
		t.Fatalf("Key(c) = %v, %v", got, err)
	}
	if _, err := s.Key(ctx, "a"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("retired key a: %v, want ErrKeyNotFound", err)
	}
	if got, _ := s.Key(ctx, "b"); got != keyB {
		t.Error("unchanged key b lost its pointer identity")
	}
	moved("a retired, c added", true)

	// kid b now names other key material: a new pointer.
	b2 := fakePub(t, 2048)
	srv.serve(jwksDoc(t, jwk("b", b2, nil), jwk("c", c, nil)))
	clk.Advance(cooldown)
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Key(ctx, "b"); got == keyB || !got.Equal(b2) {
		t.Error("changed key material under kid b not picked up")
	}
	moved("new material under kid b", true)
	if st := s.Stats(); st.Fetches != 5 || st.Keys != 2 {
		t.Errorf("Stats = %+v", st)
	}
	s.Close()
	moved("Close", true)
}

// failureModes are ways a key set endpoint can fail; each must leave cached
// keys serving.
func failureModes(t *testing.T) []struct {
	name string
	set  func(*jwksServer)
} {
	ec := map[string]any{"kty": "EC", "crv": "P-256", "kid": "ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
	dup := fakePub(t, 2048)
	dupDoc := jwksDoc(t, jwk("x", dup, nil), jwk("x", dup, nil))
	ecDoc := jwksDoc(t, ec)
	big := bytes.Repeat([]byte(" "), 2<<20)
	return []struct {
		name string
		set  func(*jwksServer)
	}{
		{"status 500", func(srv *jwksServer) {
			srv.set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
		}},
		{"status 404", func(srv *jwksServer) {
			srv.set(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
		}},
		{"garbage", func(srv *jwksServer) { srv.serve([]byte("<html>Service Unavailable</html>")) }},
		{"truncated JSON", func(srv *jwksServer) { srv.serve([]byte(`{"keys":[{"kty":"RSA",`)) }},
		{"empty set", func(srv *jwksServer) { srv.serve([]byte(`{"keys":[]}`)) }},
		{"no usable key", func(srv *jwksServer) { srv.serve(ecDoc) }},
		{"duplicate kid", func(srv *jwksServer) { srv.serve(dupDoc) }},
		{"oversized", func(srv *jwksServer) { srv.serve(big) }},
		{"hangs", func(srv *jwksServer) { srv.hang(nil) }},
		{"connection dropped", func(srv *jwksServer) {
			srv.set(func(w http.ResponseWriter, r *http.Request) {
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					_ = conn.Close()
				}
			})
		}},
	}
}

func TestStaleKeysServedDuringOutage(t *testing.T) {
	const cooldown = 10 * time.Second
	for _, mode := range failureModes(t) {
		t.Run(mode.name, func(t *testing.T) {
			a := fakePub(t, 2048)
			srv := newJWKSServer(t, jwksDoc(t, jwk("a", a, nil)))
			logs := &logRecorder{}
			// FetchTimeout: short for the "hangs" mode, long enough for a
			// loaded machine to serve the first fetch.
			s, clk := newSet(t, srv.URL, Config{Cooldown: cooldown, FetchTimeout: 250 * time.Millisecond, Logger: slog.New(logs)})
			ctx := t.Context()
			keyA, err := s.Key(ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			mode.set(srv)

			// Refetch on an unknown kid fails: unavailable, not "not found",
			// since the kid may be a rotated key we could not load.
			clk.Advance(cooldown)
			if _, err := s.Key(ctx, "rotated"); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("Key(rotated) error = %v, want ErrUnavailable", err)
			}
			if got, err := s.Key(ctx, "a"); got != keyA || err != nil {
				t.Fatalf("cached key a not served after failed refetch: %v, %v", got, err)
			}
			// Within the cooldown: unavailable at once, no fetch.
			if _, err := s.Key(ctx, "rotated2"); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Key(rotated2) error = %v, want ErrUnavailable", err)
			}
			if st := s.Stats(); st.Fetches != 2 || st.Failures != 1 || st.Keys != 1 {
				t.Errorf("Stats = %+v", st)
			}
			// Refresh ignores the cooldown, fails, and keeps the keys.
			if err := s.Refresh(ctx); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Refresh error = %v, want ErrUnavailable", err)
			}
			if got, _ := s.Key(ctx, "a"); got != keyA {
				t.Error("cached key a dropped")
			}
			if st := s.Stats(); st.Fetches != 3 || st.Failures != 2 || st.Keys != 1 {
				t.Errorf("Stats = %+v", st)
			}

			r, ok := logs.find(slog.LevelWarn, "jwks: fetch failed")
			if !ok {
				t.Fatal("no Warn record for the failed fetch")
			}
			if v, _ := attr(r, "url"); v.String() != srv.URL {
				t.Errorf("logged url = %q, want %q", v, srv.URL)
			}
			if v, ok := attr(r, "error"); !ok || v.String() == "" {
				t.Error("no error attribute logged")
			}
		})
	}
}

func TestColdStartBackoff(t *testing.T) {
	a := fakePub(t, 2048)
	srv := newJWKSServer(t, nil)
	fail := func() {
		srv.set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	}
	fail()
	s, clk := newSet(t, srv.URL, Config{Cooldown: time.Second})
	ctx := t.Context()

	steps := []struct {
		advance     time.Duration
		wantFetches uint64
	}{
		{0, 1}, // first use fetches; backoff 250ms
		{0, 1}, // at once: backing off
		{249 * time.Millisecond, 1},
		{time.Millisecond, 2}, // backoff now 500ms
		{499 * time.Millisecond, 2},
		{time.Millisecond, 3}, // backoff now 1s (= Cooldown)
		{999 * time.Millisecond, 3},
		{time.Millisecond, 4}, // capped at Cooldown
		{999 * time.Millisecond, 4},
		{time.Millisecond, 5},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		start := time.Now()
		_, err := s.Key(ctx, "a")
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("step %d: error = %v, want ErrUnavailable", i, err)
		}
		if !strings.Contains(err.Error(), "503") {
			t.Errorf("step %d: error %q does not carry the cause", i, err)
		}
		if got := s.Stats().Fetches; got != st.wantFetches {
			t.Fatalf("step %d: fetches = %d, want %d", i, got, st.wantFetches)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("step %d took %v", i, d)
		}
	}

	srv.serve(jwksDoc(t, jwk("a", a, nil)))
	if _, err := s.Key(ctx, "a"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("during backoff: %v, want ErrUnavailable", err)
	}
	clk.Advance(time.Second)
	if got, err := s.Key(ctx, "a"); err != nil || !got.Equal(a) {
		t.Fatalf("after backoff: %v, %v", got, err)
	}
	if st := s.Stats(); st.Fetches != 6 || st.Failures != 5 || st.Keys != 1 || !st.LastSuccess.Equal(clk.Now()) {
		t.Errorf("Stats = %+v", st)
	}

	// After a success the backoff is reset: a later outage with keys cached
	// is governed by the cooldown alone.
	if s.backoff != 0 || !s.retryAt.IsZero() {
		t.Errorf("backoff not reset: %v, %v", s.backoff, s.retryAt)
	}
}

func TestRefreshIgnoresBackoff(t *testing.T) {
	a := fakePub(t, 2048)
	srv := newJWKSServer(t, nil)
	srv.set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
	s, _ := newSet(t, srv.URL, Config{})
	if err := s.Refresh(t.Context()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Refresh error = %v, want ErrUnavailable", err)
	}
	srv.serve(jwksDoc(t, jwk("a", a, nil)))
	if _, err := s.Key(t.Context(), "a"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Key during backoff: %v, want ErrUnavailable", err)
	}
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh during backoff: %v", err)
	}
	if _, err := s.Key(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Errorf("server hits = %d, want 2", got)
	}
}

func TestBodySizeLimit(t *testing.T) {
	doc := jwksDoc(t, jwk("a", fakePub(t, 2048), nil))
	size := int64(len(doc))
	tests := []struct {
		name    string
		max     int64
		chunked bool // no Content-Length: the limit is found while reading
		wantErr bool
	}{
		{"exactly the limit", size, false, false},
		{"exactly the limit, chunked", size, true, false},
		{"one byte over", size - 1, false, true},
		{"one byte over, chunked", size - 1, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, nil)
			srv.set(func(w http.ResponseWriter, r *http.Request) {
				if tt.chunked {
					http.NewResponseController(w).Flush()
				}
				_, _ = w.Write(doc)
			})
			s, _ := newSet(t, srv.URL, Config{MaxBodySize: tt.max})
			err := s.Refresh(t.Context())
			if tt.wantErr != (err != nil) {
				t.Fatalf("Refresh error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "exceeds")) {
				t.Errorf("error = %v", err)
			}
		})
	}
}

func TestHugeBodyNotRead(t *testing.T) {
	const total = 10 << 20
	chunk := bytes.Repeat([]byte(`{"keys":[`), 64<<10/9)
	for _, withLength := range []bool{false, true} {
		t.Run(fmt.Sprintf("content-length=%v", withLength), func(t *testing.T) {
			srv := newJWKSServer(t, nil)
			srv.set(func(w http.ResponseWriter, r *http.Request) {
				if withLength {
					w.Header().Set("Content-Length", fmt.Sprint(total))
				} else {
					http.NewResponseController(w).Flush()
				}
				for written := 0; written < total; {
					n, err := w.Write(chunk[:min(len(chunk), total-written)])
					if err != nil {
						return
					}
					written += n
				}
			})
			s, _ := newSet(t, srv.URL, Config{})

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := s.Refresh(t.Context())
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "exceeds") {
				t.Fatalf("Refresh error = %v, want a size error", err)
			}
			t.Logf("allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
			// Reading the whole body would allocate well over 10 MiB.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 6<<20 {
				t.Errorf("allocated %d bytes for a %d-byte body with a 1 MiB limit", alloc, total)
			}
		})
	}
}

func TestMaxKeys(t *testing.T) {
	keys := []map[string]any{
		jwk("a", fakePub(t, 2048), nil), jwk("b", fakePub(t, 2048), nil), jwk("c", fakePub(t, 2048), nil),
		jwk("ec", fakePub(t, 2048), map[string]any{"kty": "EC"}), // skipped keys do not count
	}
	srv := newJWKSServer(t, jwksDoc(t, keys...))
	for _, tt := range []struct {
		max     int
		wantErr bool
	}{{2, true}, {3, false}, {0, false}} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			s, _ := newSet(t, srv.URL, Config{MaxKeys: tt.max})
			err := s.Refresh(t.Context())
			if tt.wantErr != (err != nil) {
				t.Fatalf("Refresh error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "too many") {
				t.Errorf("error = %v", err)
			}
		})
	}
}

func TestFetchTimeout(t *testing.T) {
	t.Run("fetch bounded by FetchTimeout", func(t *testing.T) {
		srv := newJWKSServer(t, nil)
		srv.hang(nil)
		s, _ := newSet(t, srv.URL, Config{FetchTimeout: 50 * time.Millisecond})
		start := time.Now()
		_, err := s.Key(t.Context(), "a")
		d := time.Since(start)
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error = %v, want ErrUnavailable and DeadlineExceeded", err)
		}
		if d < 50*time.Millisecond || d > 2*time.Second {
			t.Errorf("returned after %v, want about 50ms", d)
		}
		if st := s.Stats(); st.Fetches != 1 || st.Failures != 1 {
			t.Errorf("Stats = %+v", st)
		}
	})

	t.Run("custom client without timeout", func(t *testing.T) {
		srv := newJWKSServer(t, nil)
		srv.hang(nil)
		s, _ := newSet(t, srv.URL, Config{FetchTimeout: 50 * time.Millisecond, HTTPClient: &http.Client{}})
		start := time.Now()
		if err := s.Refresh(t.Context()); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("returned after %v", d)
		}
	})

	t.Run("waiter with a shorter context", func(t *testing.T) {
		a := fakePub(t, 2048)
		body := jwksDoc(t, jwk("a", a, nil))
		srv := newJWKSServer(t, nil)
		entered := make(chan struct{}, 1)
		gate := make(chan struct{})
		srv.set(func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			select {
			case <-gate:
			case <-srv.release:
			}
			_, _ = w.Write(body)
		})
		s, _ := newSet(t, srv.URL, Config{FetchTimeout: 10 * time.Second})

		for i := range 2 { // the second waiter joins the fetch the first left
			start := time.Now()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			_, err := s.Key(ctx, "a")
			d := time.Since(start)
			cancel()
			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("waiter %d: error = %v, want ErrUnavailable and DeadlineExceeded", i, err)
			}
			if d < 20*time.Millisecond || d > 2*time.Second {
				t.Errorf("waiter %d returned after %v, want about 20ms", i, d)
			}
		}
		<-entered
		// The fetch outlived its waiters and completes for later lookups.
		close(gate)
		waitFor(t, "the fetch to complete", func() bool { return s.Stats().Keys == 1 })
		if got, err := s.Key(t.Context(), "a"); err != nil || !got.Equal(a) {
			t.Fatalf("Key(a) = %v, %v", got, err)
		}
		if st := s.Stats(); st.Fetches != 1 || st.Failures != 0 {
			t.Errorf("Stats = %+v", st)
		}
	})

	t.Run("context already done", func(t *testing.T) {
		srv := newJWKSServer(t, nil)
		s, _ := newSet(t, srv.URL, Config{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Key(ctx, "a"); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("Key error = %v", err)
		}
		if err := s.Refresh(ctx); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("Refresh error = %v", err)
		}
		if got := srv.hits.Load(); got != 0 {
			t.Errorf("server hits = %d, want 0", got)
		}
	})
}

// slowCancelTransport blocks every request until its context ends, then takes
// a little longer to return, as a transport tearing down a connection would.
type slowCancelTransport struct {
	entered  chan struct{}
	finished chan struct{}
}

func (rt *slowCancelTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.entered <- struct{}{}
	<-req.Context().Done()
	time.Sleep(5 * time.Millisecond)
	close(rt.finished)
	return nil, req.Context().Err()
}

func TestCloseWaitsForInflightFetch(t *testing.T) {
	checkGoroutines(t)
	rt := &slowCancelTransport{entered: make(chan struct{}, 1), finished: make(chan struct{})}
	s, _ := newSet(t, "https://keys.example/jwks", Config{HTTPClient: &http.Client{Transport: rt}, FetchTimeout: time.Minute})

	errs := make(chan error, 2)
	go func() { errs <- s.Refresh(context.Background()) }()
	<-rt.entered
	go func() { _, err := s.Key(context.Background(), "a"); errs <- err }()
	waitFor(t, "the lookup to join", func() bool { return s.Stats().Misses == 1 })

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rt.finished:
	default:
		t.Fatal("Close returned before the fetch goroutine finished")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrUnavailable) {
			t.Errorf("waiter error = %v, want ErrUnavailable", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestClose(t *testing.T) {
	checkGoroutines(t)
	a := fakePub(t, 2048)
	srv := newJWKSServer(t, jwksDoc(t, jwk("a", a, nil)))
	s, _ := newSet(t, srv.URL, Config{})
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Key(t.Context(), "a"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Key after Close: %v, want ErrUnavailable", err)
	}
	if err := s.Refresh(t.Context()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Refresh after Close: %v, want ErrUnavailable", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("server hits = %d, want 1", got)
	}

	// Concurrent Close calls and lookups.
	s2, _ := newSet(t, srv.URL, Config{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { _, _ = s2.Key(t.Context(), "a") })
		wg.Go(func() { _ = s2.Close() })
	}
	wg.Wait()
	if _, err := s2.Key(t.Context(), "a"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Key after Close: %v, want ErrUnavailable", err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	checkGoroutines(t)
	a := fakePub(t, 2048)
	srv := newJWKSServer(t, nil)
	srv.hang(nil)
	s, clk := newSet(t, srv.URL, Config{FetchTimeout: 200 * time.Millisecond, Cooldown: time.Second})

	// Timed-out fetches, and waiters leaving before the fetch ends.
	for range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
		_, _ = s.Key(ctx, "a")
		cancel()
		waitFor(t, "the fetch to time out", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.inflight == nil })
		clk.Advance(time.Second)
	}
	srv.serve(jwksDoc(t, jwk("a", a, nil)))
	if _, err := s.Key(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	// A fetch in flight at Close.
	srv.hang(nil)
	clk.Advance(time.Second)
	go func() { _, _ = s.Key(context.Background(), "b") }()
	waitFor(t, "the fetch to start", func() bool { return s.Stats().Fetches == 5 })
	_ = s.Close()
}

func TestLogging(t *testing.T) {
	const attackerKid = "attacker-kid-\u202e-xyz"
	logs := &logRecorder{}
	ec := map[string]any{"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": "AA", "y": "AA"}
	srv := newJWKSServer(t, jwksDoc(t, jwk("a", fakePub(t, 2048), nil), ec))
	s, clk := newSet(t, srv.URL, Config{Logger: slog.New(logs)})
	if _, err := s.Key(t.Context(), attackerKid); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("error = %v", err)
	}
	r, ok := logs.find(slog.LevelDebug, "jwks: key skipped")
	if !ok {
		t.Fatal("skipped key not logged")
	}
	if v, _ := attr(r, "kid"); v.String() != "ec-1" {
		t.Errorf("skipped kid = %q", v)
	}
	if _, ok := logs.find(slog.LevelDebug, "jwks: key set fetched"); !ok {
		t.Error("fetch not logged")
	}
	clk.Advance(time.Hour)
	srv.set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	_, _ = s.Key(t.Context(), attackerKid)
	if _, ok := logs.find(slog.LevelWarn, "jwks: fetch failed"); !ok {
		t.Error("failure not logged at Warn")
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, r := range logs.records {
		var buf strings.Builder
		buf.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { buf.WriteString(a.String()); return true })
		if strings.Contains(buf.String(), "attacker-kid") {
			t.Errorf("looked-up kid logged: %s", buf.String())
		}
	}
}

func TestKeyHitDoesNotAllocate(t *testing.T) {
	srv := newJWKSServer(t, jwksDoc(t, jwk("a", fakePub(t, 2048), nil)))
	s, _ := newSet(t, srv.URL, Config{})
	ctx := t.Context()
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	var k *rsa.PublicKey
	if n := testing.AllocsPerRun(1000, func() { k, _ = s.Key(ctx, "a") }); n != 0 {
		t.Errorf("Key hit allocates %v times", n)
	}
	if k == nil {
		t.Fatal("nil key")
	}
}

func BenchmarkKeyHit(b *testing.B) {
	doc := jwksDoc(b, jwk("a", fakePub(b, 2048), nil), jwk("b", fakePub(b, 2048), nil))
	keys, err := parseSet(context.Background(), doc, 0, nil, discardLogger)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New("https://keys.example/jwks", Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	s.keys.Store(&keys)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if k, _ := s.Key(ctx, "b"); k == nil {
				b.Fatal("miss")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if k, _ := s.Key(ctx, "b"); k == nil {
					b.Fatal("miss")
				}
			}
		})
	})
}

func TestDefaultClientRefusesDowngrade(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the clear-text server was reached")
	}))
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/jwks.json", http.StatusFound)
	}))
	t.Cleanup(tlsSrv.Close)
	s, err := New(tlsSrv.URL+"/jwks.json", Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// Trust the test server's certificate but keep the default redirect policy.
	s.client.Transport = tlsSrv.Client().Transport
	if err := s.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Refresh = %v, want the downgrade refused", err)
	}
}

package jwks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// These tests run in a synctest bubble with the default clock (time.Now is
// the bubble's fake clock) and an in-memory transport, so timers, timeouts and
// "all waiters have joined" are exact and instant. synctest.Test also fails
// if a goroutine of the bubble is left behind.

// fakeTransport answers requests with fn and counts them.
type fakeTransport struct {
	calls atomic.Int64
	mu    sync.Mutex
	fn    func(*http.Request) (*http.Response, error)
}

func (ft *fakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ft.calls.Add(1)
	ft.mu.Lock()
	fn := ft.fn
	ft.mu.Unlock()
	return fn(req)
}

func (ft *fakeTransport) set(fn func(*http.Request) (*http.Response, error)) {
	ft.mu.Lock()
	ft.fn = fn
	ft.mu.Unlock()
}

func (ft *fakeTransport) serve(body []byte) {
	ft.set(func(*http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{},
			ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body)),
		}, nil
	})
}

// gate makes requests wait until release is closed or their context ends.
func (ft *fakeTransport) gate(release <-chan struct{}, body []byte) {
	ft.set(func(req *http.Request) (*http.Response, error) {
		select {
		case <-release:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: -1}, nil
	})
}

// newBubbleSet returns a Set with default settings but for the transport. The
// caller must Close it before the bubble ends.
func newBubbleSet(t *testing.T, ft *fakeTransport) *Set {
	t.Helper()
	s, err := New("https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json",
		Config{HTTPClient: &http.Client{Transport: ft}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultsSynctest(t *testing.T) {
	body := jwksDoc(t, jwk("a", fakePub(t, 2048), nil))

	t.Run("backoff then cooldown", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ft := &fakeTransport{}
			ft.set(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") })
			s := newBubbleSet(t, ft)
			defer s.Close()
			ctx := t.Context()
			expect := func(step string, wantCalls int64, wantErr error) {
				t.Helper()
				_, err := s.Key(ctx, "a")
				if wantErr == nil && err != nil || wantErr != nil && !errors.Is(err, wantErr) {
					t.Fatalf("%s: error = %v, want %v", step, err, wantErr)
				}
				if got := ft.calls.Load(); got != wantCalls {
					t.Fatalf("%s: fetches = %d, want %d", step, got, wantCalls)
				}
			}
			expect("first use", 1, ErrUnavailable)
			time.Sleep(249 * time.Millisecond)
			expect("backoff 250ms", 1, ErrUnavailable)
			time.Sleep(time.Millisecond)
			expect("after 250ms", 2, ErrUnavailable)
			ft.serve(body)
			time.Sleep(499 * time.Millisecond)
			expect("backoff 500ms", 2, ErrUnavailable)
			time.Sleep(time.Millisecond)
			expect("after 500ms", 3, nil)

			if _, err := s.Key(ctx, "b"); !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("unknown kid: %v", err)
			}
			time.Sleep(10*time.Second - time.Nanosecond)
			if _, err := s.Key(ctx, "b"); !errors.Is(err, ErrKeyNotFound) || ft.calls.Load() != 3 {
				t.Fatalf("unknown kid in cooldown: %v, %d fetches", err, ft.calls.Load())
			}
			time.Sleep(time.Nanosecond)
			if _, err := s.Key(ctx, "b"); !errors.Is(err, ErrKeyNotFound) || ft.calls.Load() != 4 {
				t.Fatalf("unknown kid after cooldown: %v, %d fetches", err, ft.calls.Load())
			}
			if st := s.Stats(); !st.LastSuccess.Equal(time.Now()) || st.Failures != 2 {
				t.Errorf("Stats = %+v", st)
			}
		})
	})

	t.Run("fetch timeout 5s", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ft := &fakeTransport{}
			ft.gate(nil, nil) // never released
			s := newBubbleSet(t, ft)
			defer s.Close()
			start := time.Now()
			err := s.Refresh(t.Context())
			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v", err)
			}
			if d := time.Since(start); d != 5*time.Second {
				t.Errorf("fetch ended after %v, want 5s", d)
			}
		})
	})
}

func TestSharedFetchSynctest(t *testing.T) {
	body := jwksDoc(t, jwk("a", fakePub(t, 2048), nil))

	t.Run("Refresh and Key join the fetch in flight", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ft := &fakeTransport{}
			release := make(chan struct{})
			ft.gate(release, body)
			s := newBubbleSet(t, ft)
			defer s.Close()

			errs := make(chan error, 4)
			go func() { errs <- s.Refresh(context.Background()) }()
			synctest.Wait()
			go func() { errs <- s.Refresh(context.Background()) }()
			go func() { _, err := s.Key(context.Background(), "a"); errs <- err }()
			go func() { _, err := s.Key(context.Background(), "b"); errs <- err }()
			synctest.Wait() // all four are waiting for the one fetch
			close(release)
			var notFound int
			for range 4 {
				if err := <-errs; errors.Is(err, ErrKeyNotFound) {
					notFound++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if notFound != 1 || ft.calls.Load() != 1 {
				t.Fatalf("notFound = %d, fetches = %d; want 1, 1", notFound, ft.calls.Load())
			}
			// Refresh ignores the cooldown.
			if err := s.Refresh(t.Context()); err != nil || ft.calls.Load() != 2 {
				t.Fatalf("Refresh: %v, %d fetches", err, ft.calls.Load())
			}
		})
	})

	t.Run("a waiter leaving does not cancel the fetch", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ft := &fakeTransport{}
			release := make(chan struct{})
			ft.gate(release, body)
			s := newBubbleSet(t, ft)
			defer s.Close()

			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			start := time.Now()
			_, err := s.Key(ctx, "a")
			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v", err)
			}
			if d := time.Since(start); d != time.Second {
				t.Errorf("waiter returned after %v, want its 1s deadline", d)
			}
			done := make(chan error)
			go func() { _, err := s.Key(context.Background(), "a"); done <- err }()
			synctest.Wait()
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := ft.calls.Load(); got != 1 {
				t.Errorf("fetches = %d, want 1", got)
			}
		})
	})

	t.Run("context values reach the fetch", func(t *testing.T) {
		type ctxKey struct{}
		synctest.Test(t, func(t *testing.T) {
			ft := &fakeTransport{}
			var got any
			ft.set(func(req *http.Request) (*http.Response, error) {
				got = req.Context().Value(ctxKey{})
				return nil, errors.New("down")
			})
			s := newBubbleSet(t, ft)
			defer s.Close()
			ctx := context.WithValue(t.Context(), ctxKey{}, "trace-1")
			_, _ = s.Key(ctx, "a")
			if got != "trace-1" {
				t.Errorf("fetch context value = %v", got)
			}
		})
	})

	t.Run("Close cancels the fetch and its waiters", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ft := &fakeTransport{}
			ft.gate(nil, nil)
			s := newBubbleSet(t, ft)
			errs := make(chan error, 2)
			for range 2 {
				go func() { _, err := s.Key(context.Background(), "a"); errs <- err }()
			}
			synctest.Wait()
			start := time.Now()
			_ = s.Close()
			if d := time.Since(start); d != 0 {
				t.Errorf("Close took %v of fake time", d)
			}
			for range 2 {
				if err := <-errs; !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
					t.Errorf("waiter error = %v", err)
				}
			}
		})
	})
}

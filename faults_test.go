package cognitoguard_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/jwks"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// TestJWKSFaultsThroughMiddleware breaks the JWKS endpoint in each way it
// can break. With keys cached, requests keep being served; with none, the
// answer is 503 with Retry-After, never 401 and never 500.
func TestJWKSFaultsThroughMiddleware(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	faults := []struct {
		name    string
		handler http.Handler
	}{
		{"500", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })},
		{"garbage", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>oops")) })},
		{"10 MiB body", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte(`{"keys":[` + strings.Repeat(" ", 1<<16))
			for i := 0; i < 160; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})},
		{"slower than the fetch bound", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})},
	}
	for _, fault := range faults {
		for _, cached := range []bool{true, false} {
			name := fault.name + map[bool]string{true: ", keys cached", false: ", no key cached"}[cached]
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				v := f.verifier(t, cognitoguard.Config{CacheSize: -1, JWKS: jwks.Config{FetchTimeout: 200 * time.Millisecond}})
				if cached {
					if err := v.Refresh(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
				f.pool.SetJWKSHandler(fault.handler)
				h := middleware.New(v, middleware.Config{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				before := ms.HeapAlloc
				for i := 0; i < 3; i++ {
					r := httptest.NewRequest("GET", "/", nil)
					r.Header.Set("Authorization", "Bearer "+f.pool.AccessToken("alice", cognitotest.WithClient("client-a")))
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					switch {
					case cached && w.Code != 200:
						t.Fatalf("request %d: status %d with keys cached", i, w.Code)
					case !cached && (w.Code != 503 || w.Header().Get("Retry-After") == ""):
						t.Fatalf("request %d: status %d, Retry-After %q; want 503 with Retry-After", i, w.Code, w.Header().Get("Retry-After"))
					}
				}
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > before+8<<20 {
					t.Fatalf("heap grew by %d bytes", ms.HeapAlloc-before)
				}
				if !cached {
					_, err := v.Verify(t.Context(), f.pool.AccessToken("alice", cognitotest.WithClient("client-a")))
					if !errors.Is(err, cognitoguard.ErrUnavailable) {
						t.Fatalf("Verify = %v, want ErrUnavailable", err)
					}
				}
			})
		}
	}
}

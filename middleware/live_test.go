package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognitoguard/cognitoguard/middleware"
)

type notReady struct{}

func (notReady) Ready(context.Context) error { return errors.New("revocation store unavailable") }

// TestLiveHandler: liveness stays 200 while readiness, asking a store that
// is down, answers 503; other methods get 405.
func TestLiveHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/healthz", middleware.NewReadyHandler(notReady{}, nil))
	mux.Handle("/livez", middleware.NewLiveHandler())
	for _, tc := range []struct {
		method, path string
		want         int
		body         string
	}{
		{"GET", "/healthz", http.StatusServiceUnavailable, "not ready\n"},
		{"GET", "/livez", http.StatusOK, "ok\n"},
		{"HEAD", "/livez", http.StatusOK, ""},
		{"POST", "/livez", http.StatusMethodNotAllowed, "method not allowed\n"},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.want || (tc.method != "HEAD" && rec.Body.String() != tc.body) {
				t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, rec.Code, rec.Body, tc.want, tc.body)
			}
			if tc.want == http.StatusOK && rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", rec.Header().Get("Cache-Control"))
			}
			if tc.want == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
		})
	}
}

// A liveness route beside the readiness route: an orchestrator restarts
// the process only when /livez fails, and stops routing traffic to it
// while /healthz answers 503 (Redis or the key endpoint down).
func ExampleNewLiveHandler() {
	mux := http.NewServeMux()
	mux.Handle("GET /livez", middleware.NewLiveHandler())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/livez", nil))
	fmt.Print(rec.Code, " ", rec.Body)
	// Output: 200 ok
}

package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/middleware"
)

type readier struct{ err error }

func (r *readier) Ready(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("no deadline")
	}
	return r.err
}

func TestReadyHandler(t *testing.T) {
	r := &readier{err: errors.New("redis://secret-host: connection refused")}
	h := middleware.NewReadyHandler(r, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("not ready: %d %q %q", rec.Code, rec.Header(), rec.Body)
	}
	r.err = nil
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Fatalf("ready: %d %q", rec.Code, rec.Body)
	}
}

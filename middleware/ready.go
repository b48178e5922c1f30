package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/logs"
)

// Readier is what [NewReadyHandler] asks; *cognitoguard.Verifier
// implements it with [cognitoguard.Verifier.Ready].
type Readier = cognitoguard.Readier

// ReadyTimeout bounds one readiness check of [NewReadyHandler].
const ReadyTimeout = 2 * time.Second

// NewReadyHandler returns the handler of a readiness (or health) route
// such as GET /healthz or /readyz: 200 "ok" once r is ready, else 503 with
// Retry-After: 1 and "not ready", the cause logged at Warn on logger and
// never sent to the client. A nil logger is r's own when r has a Logger
// method (as [cognitoguard.Verifier.Logger]), else nothing is logged. Each request checks r anew,
// within [ReadyTimeout]. Mount it outside the authenticating middleware.
func NewReadyHandler(r Readier, logger *slog.Logger) http.Handler {
	logger = logs.Of(logger, r)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), ReadyTimeout)
		err := r.Ready(ctx)
		cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			logger.LogAttrs(req.Context(), slog.LevelWarn, "not ready", slog.String("error", err.Error()))
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

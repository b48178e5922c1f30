// Command chi protects a chi router with cognitoguard. chi routers take
// net/http middleware as they are: middleware.New goes straight into Use
// or With, and handlers read the claims with cognitoguard.FromContext.
//
//	go run ./chi -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789
//
// Routes: GET /healthz (public), GET /me (any valid access token), GET
// /admin (group admin; 403 otherwise).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// newRouter returns the chi router, verifying tokens with v.
func newRouter(v middleware.Verifier, log *slog.Logger) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	r.Group(func(r chi.Router) {
		r.Use(middleware.New(v, middleware.Config{Logger: log}))
		r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
			c, _ := cognitoguard.FromContext(r.Context())
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(meOf(c))
		})
		r.With(middleware.RequireGroups("admin")).Get("/admin", func(w http.ResponseWriter, r *http.Request) {
			c, _ := cognitoguard.FromContext(r.Context())
			fmt.Fprintf(w, "hello, admin %s\n", c.Username)
		})
	})
	return r
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(string)) error {
	return runRouter(ctx, "chi", newRouter, args, stdout, stderr, ready)
}

func main() { mainWith("chi", newRouter) }

package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/signout"
)

// signoutHandler builds the routes of the sign-out listener.
func signoutHandler(v *cognitoguard.Verifier, so *signout.Helper, realm, adminGroup string, log *slog.Logger) http.Handler {
	auth := middleware.New(v, middleware.Config{Realm: realm, Logger: log})
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", middleware.NewReadyHandler(v, log))
	// The logout handler verifies the token itself (a retried sign-out,
	// whose token is already revoked, must still succeed); it answers 405
	// to other methods.
	mux.Handle("/logout", signout.NewLogoutHandler(so, signout.LogoutConfig{Realm: realm, Logger: log}))
	mux.Handle("POST /admin/users/{username}/signout",
		auth(middleware.RequireGroups(adminGroup)(adminSignOut(so, log))))
	return mux
}

// adminSignOut signs the user of the path out everywhere. Statuses: 204
// done; 404 no such user (nothing done); 503 not recorded in the store
// (retry); 502 Cognito failed (the record is kept: the user's tokens are
// already rejected; retry to revoke the refresh tokens).
func adminSignOut(so *signout.Helper, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		username := r.PathValue("username")
		caller, _ := cognitoguard.FromContext(r.Context())
		sub, err := so.AdminSignOut(r.Context(), username)
		attrs := []slog.Attr{slog.String("admin_sub", caller.Subject), slog.String("username", username), slog.String("sub", sub)}
		switch {
		case err == nil:
			log.LogAttrs(r.Context(), slog.LevelInfo, "admin sign-out", attrs...)
			w.WriteHeader(http.StatusNoContent)
			return
		case errors.Is(err, signout.ErrUserNotFound) && !errors.Is(err, signout.ErrStore):
			writeJSON(w, http.StatusNotFound, errBody("user_not_found", "No such user"))
		case errors.Is(err, signout.ErrCognito) && !errors.Is(err, signout.ErrStore):
			writeJSON(w, http.StatusBadGateway, errBody("sign_out_incomplete", "The identity provider did not confirm the sign-out; try again"))
		default:
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, errBody("temporarily_unavailable", "The sign-out could not be recorded or confirmed; try again"))
		}
		log.LogAttrs(r.Context(), slog.LevelWarn, "admin sign-out failed", append(attrs, slog.String("error", err.Error()))...)
	})
}

// errBody is a fixed JSON error object; code and desc are constant ASCII
// without quotes or backslashes.
func errBody(code, desc string) string {
	return `{"error":"` + code + `","error_description":"` + desc + `"}`
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	body += "\n"
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

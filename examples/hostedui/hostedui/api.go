package hostedui

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// NewAPI returns the API service the app calls: GET /me answers the
// caller's verified claims as JSON, behind [middleware.New] (a missing,
// invalid, expired or revoked access token is an RFC 6750 401; keys or
// store unavailable a 503); GET /healthz is the readiness check (200 once
// v's keys and store are ready). Every instance of the service built on a
// Verifier sharing the app's revocation store refuses a signed-out user's
// tokens at once.
func NewAPI(v *cognitoguard.Verifier, log *slog.Logger) http.Handler {
	auth := middleware.New(v, middleware.Config{Logger: log})
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", middleware.NewReadyHandler(v, log))
	mux.Handle("GET /me", auth(http.HandlerFunc(me)))
	return mux
}

func me(w http.ResponseWriter, r *http.Request) {
	c, ok := cognitoguard.FromContext(r.Context())
	if !ok { // not behind the middleware: a wiring mistake, fail closed
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"sub":       c.Subject,
		"username":  c.Username,
		"token_use": c.TokenUse,
		"client_id": c.ClientID,
		"scopes":    c.Scopes,
		"auth_time": c.AuthTime.Unix(),
		"exp":       c.Expiry.Unix(),
	})
}

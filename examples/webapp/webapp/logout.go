package webapp

import (
	"net/http"

	"github.com/cognitoguard/cognitoguard/middleware"
)

// logoutHandler serves POST /logout with the library's handler
// ([middleware.NewLogoutHandler]): a verified GlobalSignOut of the
// cookie's access token (recorded in the store, then in Cognito), the
// cookie cleared, and a 303 to the logout target.
//
// The library answers its failures for API clients (JSON, 401/502/503).
// A browser gets pages instead: the cookie is cleared in every case, so
//
//   - no usable token (none, expired, already revoked, forged) or a
//     Cognito failure after the sign-out was recorded (the library logs
//     it at Warn): the browser is signed out here, and goes on to the
//     logout target as after a successful sign-out;
//   - the sign-out could not be checked or recorded (store or keys down):
//     a 503 page says so;
//   - a cross-origin POST: a 403 page (nothing was done).
func (a *App) logoutHandler(cop *http.CrossOriginProtection) http.Handler {
	h := middleware.NewLogoutHandler(a.signOut, middleware.LogoutConfig{
		Cookie:      AccessCookie,
		RedirectURL: a.logoutTarget,
		CrossOrigin: cop,
		Realm:       "webapp",
		Logger:      a.log,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&htmlErrors{ResponseWriter: w, a: a}, r)
	})
}

// htmlErrors turns the logout handler's error responses into a redirect
// or an HTML page, keeping its other headers (Set-Cookie).
type htmlErrors struct {
	http.ResponseWriter
	a        *App
	replaced bool // the handler's body is dropped
}

func (h *htmlErrors) WriteHeader(status int) {
	if status < 400 || h.replaced {
		h.ResponseWriter.WriteHeader(status)
		return
	}
	h.replaced = true
	hdr := h.Header()
	for _, k := range []string{"Content-Length", "Content-Type", "WWW-Authenticate"} {
		hdr.Del(k)
	}
	switch status {
	case http.StatusUnauthorized, http.StatusBadGateway:
		hdr.Set("Location", h.a.logoutTarget)
		h.ResponseWriter.WriteHeader(http.StatusSeeOther)
	case http.StatusForbidden:
		h.a.render(h.ResponseWriter, status, messageTmpl, messageData{
			Title: "Forbidden", Text: "Sign out from this site's own page.",
		})
	default:
		h.a.render(h.ResponseWriter, http.StatusServiceUnavailable, messageTmpl, messageData{
			Title: "Sign-out failed", Text: "Your sign-out could not be recorded. Please sign in and sign out again, or try again shortly.",
		})
	}
}

func (h *htmlErrors) Write(p []byte) (int, error) {
	if h.replaced {
		return len(p), nil
	}
	return h.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *htmlErrors) Unwrap() http.ResponseWriter { return h.ResponseWriter }

package webapp

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// logoutHandler serves POST /logout: a verified GlobalSignOut of the
// cookie's access token (recorded in the store, then in Cognito), the
// cookie cleared, and a 303 to the logout target.
//
// A request without a usable token (none, expired, already revoked,
// forged) has nothing to sign out: its cookie is cleared and it is
// redirected all the same. When the store could not record the sign-out,
// the cookie is kept and a 503 page asks for a retry (a retry is safe);
// when only Cognito failed, the sign-out is in force here and the user is
// logged out, and the failure is logged.
func (a *App) logoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var tok string
		if cs := r.CookiesNamed(AccessCookie); len(cs) == 1 {
			tok = cs[0].Value
		}
		if tok != "" {
			err := a.signOut.GlobalSignOut(r.Context(), tok)
			var se *revocation.SignOutError
			switch {
			case err == nil:
			case errors.As(err, &se) && se.Recorded:
				a.log.LogAttrs(r.Context(), slog.LevelWarn, "webapp: sign-out recorded, Cognito call failed",
					slog.String("error", err.Error()))
			case errors.Is(err, cognitoguard.ErrInvalidToken):
				// Nothing to sign out.
			default:
				a.log.LogAttrs(r.Context(), slog.LevelWarn, "webapp: sign-out failed", slog.String("error", err.Error()))
				w.Header().Set("Retry-After", "1")
				a.render(w, http.StatusServiceUnavailable, messageTmpl, messageData{
					Title: "Sign-out failed", Text: "Your sign-out could not be recorded. Please try again.",
				})
				return
			}
		}
		clearCookie(w)
		http.Redirect(w, r, a.logoutTarget, http.StatusSeeOther)
	})
}

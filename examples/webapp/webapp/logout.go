package webapp

import (
	"errors"
	"net/http"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/signout"
)

// logoutHandler serves POST /logout with the library's handler
// ([signout.NewLogoutHandler]): a verified GlobalSignOut of the
// cookie's access token (recorded in the store, then in Cognito), the
// cookie cleared, and a 303 to the logout target.
//
// The library answers its failures for API clients (JSON, 401/502/503).
// A browser gets pages instead, through [signout.LogoutConfig.ErrorHandler]
// (a.logoutFailed); the cookie is cleared in every case but the last, so
//
//   - no usable token (none, expired, already revoked, forged) or a
//     Cognito failure after the sign-out was recorded (the library logs
//     it at Warn): the browser is signed out here, and goes on to the
//     logout target as after a successful sign-out;
//   - the sign-out could not be checked or recorded (store or keys down):
//     a 503 page says so;
//   - a cross-origin POST: a 403 page (nothing was done).
func (a *App) logoutHandler(cop *http.CrossOriginProtection) http.Handler {
	return signout.NewLogoutHandler(a.signOut, signout.LogoutConfig{
		Cookie:       AccessCookie,
		RedirectURL:  a.logoutTarget,
		CrossOrigin:  cop,
		Realm:        "webapp",
		Logger:       a.log,
		ErrorHandler: a.logoutFailed,
	})
}

// logoutFailed answers a refused or failed sign-out for a browser; the
// library has already cleared the cookies (except cross-origin) and logged
// the failure.
func (a *App) logoutFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, signout.ErrCrossOrigin):
		a.render(w, http.StatusForbidden, messageTmpl, messageData{
			Title: "Forbidden", Text: "Sign out from this site's own page.",
		})
	case errors.Is(err, signout.ErrStore):
		a.logoutUnavailable(w)
	case errors.Is(err, cognitoguard.ErrNoToken), errors.Is(err, cognitoguard.ErrInvalidToken),
		errors.Is(err, signout.ErrCognito):
		// No usable token (none, expired, already revoked, forged), or
		// Cognito failed after the sign-out was recorded: this browser is
		// signed out; go on as after a success.
		http.Redirect(w, r, a.logoutTarget, http.StatusSeeOther)
	default: // the token could not be checked (keys or store down)
		a.logoutUnavailable(w)
	}
}

func (a *App) logoutUnavailable(w http.ResponseWriter) {
	a.render(w, http.StatusServiceUnavailable, messageTmpl, messageData{
		Title: "Sign-out failed", Text: "Your sign-out could not be recorded. Please sign in and sign out again, or try again shortly.",
	})
}

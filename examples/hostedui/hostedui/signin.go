package hostedui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/cognitoguard/cognitoguard"
)

// Cookie names: with an https PublicURL they carry the __Host- prefix
// (Secure, Path=/, no Domain: a sibling subdomain can neither plant nor
// read them).
const (
	sessionCookieName = "hostedui-session"
	loginCookieName   = "hostedui-login"
)

// loginCookieTTL bounds a sign-in started at /login: the time spent on
// the managed login's page.
const loginCookieTTL = 10 * time.Minute

// maxRefreshToken bounds the refresh token kept in a session (Cognito's
// are about 1.8 KB); the access token is bounded by the Verifier (16 KiB).
const maxRefreshToken = 8 << 10

func (a *App) cookieName(base string) string {
	if a.secure {
		return "__Host-" + base
	}
	return base
}

func (a *App) setCookie(w http.ResponseWriter, base, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		Secure: a.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (a *App) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(a.cookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

func randomString() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login starts the authorization-code flow: a new state and PKCE
// verifier go into the login cookie (HttpOnly, Lax: it comes back on the
// top-level redirect to /callback), and the browser goes to the managed
// login. "?prompt=login" makes the managed login ask for the password
// even if its own session cookie would sign the user in.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	state, verifier := randomString(), oauth2.GenerateVerifier()
	forced := r.URL.Query().Get("prompt") == "login"
	value := state + "." + verifier
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if forced {
		value += ".login"
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	a.setCookie(w, loginCookieName, value, int(loginCookieTTL/time.Second))
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, opts...), http.StatusSeeOther)
}

// pendingLogin is the login cookie: the state and verifier of a sign-in,
// and whether the password was demanded (prompt=login).
type pendingLogin struct {
	state, verifier string
	forced          bool
}

func parsePending(v string) (pendingLogin, bool) {
	parts := strings.Split(v, ".")
	if (len(parts) != 2 && len(parts) != 3) || parts[0] == "" || parts[1] == "" ||
		(len(parts) == 3 && parts[2] != "login") {
		return pendingLogin{}, false
	}
	return pendingLogin{state: parts[0], verifier: parts[1], forced: len(parts) == 3}, true
}

// callback ends the flow: state checked against the login cookie, code
// exchanged with the PKCE verifier, access token verified (revocation
// included) and kept in a new server-side session.
func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	pending, ok := parsePending(a.cookie(r, loginCookieName))
	a.setCookie(w, loginCookieName, "", -1) // single use, whatever happens
	q := r.URL.Query()
	switch {
	case !ok:
		a.message(w, http.StatusBadRequest, "Sign-in expired", "This sign-in was not started here, or took too long.", true)
		return
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pending.state)) != 1:
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "hostedui: callback with a wrong state")
		a.message(w, http.StatusBadRequest, "Sign-in refused", "This sign-in does not match the one started in this browser.", true)
		return
	case q.Get("error") != "":
		// Cognito's error code (access_denied, invalid_scope, …) is logged,
		// never shown: the query is the attacker's to write.
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: managed login answered an error", slog.String("error", truncate(q.Get("error"), 64)))
		a.message(w, http.StatusBadRequest, "Sign-in failed", "The sign-in service refused this sign-in.", true)
		return
	case q.Get("code") == "":
		a.message(w, http.StatusBadRequest, "Sign-in failed", "The sign-in service sent no code.", true)
		return
	}
	ctx, cancel := a.tokenContext(r.Context())
	defer cancel()
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pending.verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			a.log.LogAttrs(r.Context(), slog.LevelInfo, "hostedui: code refused", slog.String("error", re.ErrorCode))
			a.message(w, http.StatusBadRequest, "Sign-in failed", "The sign-in could not be completed.", true)
			return
		}
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: token endpoint failed", slog.String("error", err.Error()))
		a.unavailable(w)
		return
	}
	a.startSession(w, r, pending, tok)
}

// startSession verifies tok's access token and starts the session.
func (a *App) startSession(w http.ResponseWriter, r *http.Request, pending pendingLogin, tok *oauth2.Token) {
	c, err := a.verifier.Verify(r.Context(), tok.AccessToken)
	switch {
	case errors.Is(err, cognitoguard.ErrRevoked) && !pending.forced:
		// The managed login signed the user in with its own cookie, from a
		// sign-in that a later sign-out revoked (its tokens keep that
		// sign-in's auth_time): ask for the password.
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "hostedui: managed-login session predates a sign-out; asking for the password")
		http.Redirect(w, r, "/login?prompt=login", http.StatusSeeOther)
		return
	case errors.Is(err, cognitoguard.ErrRevoked):
		// Even the password sign-in is covered: a sign-out was recorded in
		// the same second (the rule fails closed on the second).
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "hostedui: new sign-in revoked by a sign-out of the same second")
		a.message(w, http.StatusUnauthorized, "Sign-in failed", "You were signed out just now. Please sign in again.", true)
		return
	case cognitoguard.Class(err) == cognitoguard.ErrUnavailable:
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: token not checkable", slog.String("error", err.Error()))
		a.unavailable(w)
		return
	case err != nil:
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: token from the token endpoint refused", slog.String("error", err.Error()))
		a.message(w, http.StatusBadGateway, "Sign-in failed", "The sign-in service returned a token this app does not accept.", true)
		return
	case !slices.Contains(c.Scopes, UserAdminScope):
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: access token without scope "+UserAdminScope+": allow it on the app client")
		a.message(w, http.StatusForbidden, "Sign-in failed", "The app client does not grant the scope this app needs to sign you out.", false)
		return
	case tok.RefreshToken == "" || len(tok.RefreshToken) > maxRefreshToken:
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: token response without a usable refresh token")
		a.message(w, http.StatusBadGateway, "Sign-in failed", "The sign-in service returned no usable refresh token.", true)
		return
	}
	// A new sign-in replaces the browser's session, if any: a session ID
	// never outlives the sign-in it was issued for.
	a.sessions.delete(a.cookie(r, sessionCookieName))
	id := a.sessions.add(c.Subject, c.Username, keep(tok))
	a.setCookie(w, sessionCookieName, id, int(a.sessions.ttl/time.Second))
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "hostedui: signed in", slog.String("sub", c.Subject))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// keep returns what a session keeps of tok: the access and refresh tokens
// and the expiry, without the raw response (the ID token is not needed).
func keep(tok *oauth2.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

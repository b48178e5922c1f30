package hostedui

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/signout"
)

// maxAPIBody bounds the API's answer the app reads and shows.
const maxAPIBody = 64 << 10

// errSessionEnded: the session's refresh token was refused (revoked or
// expired in Cognito).
var errSessionEnded = errors.New("hostedui: session ended")

// Notices of the signed-out home page, chosen by "m" (never reflected).
var notices = map[string]string{
	"signedout": "You are signed out.",
	"ended":     "Your session has ended. Please sign in again.",
}

// current returns the request's session and its verified claims, with the
// access token (refreshed first if it expired). A session whose token is
// refused (expired refresh, sign-out recorded anywhere) is ended: err then
// matches cognitoguard.ErrInvalidToken; with no session at all it matches
// cognitoguard.ErrNoToken.
func (a *App) current(w http.ResponseWriter, r *http.Request) (*session, *cognitoguard.Claims, string, error) {
	id := a.cookie(r, sessionCookieName)
	ss := a.sessions.get(id)
	if ss == nil {
		return nil, nil, "", cognitoguard.ErrNoToken
	}
	token, err := a.fresh(r.Context(), ss)
	var c *cognitoguard.Claims
	if err == nil {
		c, err = a.verifier.Verify(r.Context(), token)
	}
	if errors.Is(err, errSessionEnded) || cognitoguard.Class(err) == cognitoguard.ErrInvalidToken {
		a.sessions.delete(id)
		a.setCookie(w, sessionCookieName, "", -1)
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "hostedui: session ended", slog.String("sub", ss.sub), slog.String("error", err.Error()))
		return nil, nil, "", errors.Join(cognitoguard.ErrInvalidToken, err)
	}
	return ss, c, token, err
}

// fresh returns the session's access token, refreshed through the token
// endpoint when it has expired.
func (a *App) fresh(ctx context.Context, ss *session) (string, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.token.Valid() {
		return ss.token.AccessToken, nil
	}
	ctx, cancel := a.tokenContext(ctx)
	defer cancel()
	tok, err := a.oauth.TokenSource(ctx, ss.token).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return "", errors.Join(errSessionEnded, err)
		}
		return "", err
	}
	if len(tok.RefreshToken) > maxRefreshToken {
		return "", errors.Join(errSessionEnded, errors.New("refresh token too long"))
	}
	ss.token = keep(tok)
	a.sessions.resize(ss, ss.token)
	return ss.token.AccessToken, nil
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	_, c, _, err := a.current(w, r)
	switch cognitoguard.Class(err) {
	case nil:
		a.render(w, http.StatusOK, homeTmpl, homeData{C: c})
	case cognitoguard.ErrNoToken:
		a.render(w, http.StatusOK, signedOutTmpl, notices[r.URL.Query().Get("m")])
	case cognitoguard.ErrInvalidToken:
		a.render(w, http.StatusOK, signedOutTmpl, notices["ended"])
	default:
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: session not checkable", slog.String("error", err.Error()))
		a.unavailable(w)
	}
}

// callAPI calls the API service with the session's access token and
// shows its answer.
func (a *App) callAPI(w http.ResponseWriter, r *http.Request) {
	_, _, token, err := a.current(w, r)
	if err != nil {
		if cognitoguard.Class(err) == cognitoguard.ErrUnavailable {
			a.unavailable(w)
			return
		}
		http.Redirect(w, r, "/?m=ended", http.StatusSeeOther)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.apiURL+"/me", nil)
	if err != nil {
		a.unavailable(w)
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := a.hc.Do(req)
	if err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: API call failed", slog.String("error", err.Error()))
		a.message(w, http.StatusBadGateway, "API unreachable", "The API service did not answer.", false)
		return
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAPIBody))
	if err != nil {
		a.message(w, http.StatusBadGateway, "API unreachable", "The API service's answer could not be read.", false)
		return
	}
	a.render(w, http.StatusOK, apiTmpl, apiData{Status: res.StatusCode, Body: string(body),
		Challenge: res.Header.Get("WWW-Authenticate")})
}

// logout signs the user out everywhere with the sign-out helper (the
// sign-out recorded in the shared store, then Cognito's GlobalSignOut,
// which revokes the refresh tokens), ends the session here, and sends the
// browser to the managed login's logout, which ends its own session
// cookie (no API call can). POST only, behind cross-origin protection.
func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	id := a.cookie(r, sessionCookieName)
	if ss := a.sessions.get(id); ss != nil {
		token, err := a.fresh(r.Context(), ss)
		if err == nil {
			err = a.signOut.GlobalSignOut(r.Context(), token)
		}
		switch {
		case err == nil, errors.Is(err, errSessionEnded), errors.Is(err, signout.ErrCognito) && !errors.Is(err, signout.ErrStore),
			cognitoguard.Class(err) == cognitoguard.ErrInvalidToken:
			// Signed out; or Cognito failed once the sign-out was recorded
			// (logged by the helper); or nothing left to sign out with.
		default:
			// Not recorded: the user's tokens may still be accepted. Keep
			// the session so that the user can retry.
			a.log.LogAttrs(r.Context(), slog.LevelWarn, "hostedui: sign-out not recorded", slog.String("sub", ss.sub), slog.String("error", err.Error()))
			a.render(w, http.StatusServiceUnavailable, logoutFailedTmpl, nil)
			return
		}
		a.sessions.delete(id)
	}
	a.setCookie(w, sessionCookieName, "", -1)
	http.Redirect(w, r, a.logoutURL, http.StatusSeeOther)
}

func (a *App) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	a.message(w, http.StatusServiceUnavailable, "Unavailable", "Sign-in checks are unavailable. Please try again shortly.", false)
}

func (a *App) message(w http.ResponseWriter, status int, title, text string, retry bool) {
	a.render(w, status, messageTmpl, messageData{Title: title, Text: text, Retry: retry})
}

func (a *App) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		a.log.Error("hostedui: template", slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

type homeData struct{ C *cognitoguard.Claims }

type apiData struct {
	Status          int
	Body, Challenge string
}

type messageData struct {
	Title, Text string
	Retry       bool
}

const head = `{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}} · cognitoguard hosted-UI example</title></head>
<body>{{end}}`

var signedOutTmpl = template.Must(template.New("out").Parse(head + `{{template "head" "Signed out"}}
<h1 id="signed-out">Not signed in</h1>
{{with .}}<p id="notice">{{.}}</p>{{end}}
<p><a id="signin" href="/login">Sign in</a></p>
</body></html>`))

var homeTmpl = template.Must(template.New("home").Parse(head + `{{template "head" "Home"}}
<h1 id="welcome">Signed in as {{.C.Username}}</h1>
<p>sub <code id="sub">{{.C.Subject}}</code>, scopes <code>{{range .C.Scopes}}{{.}} {{end}}</code></p>
<p><a id="call-api" href="/call-api">Call the API</a></p>
<form method="post" action="/logout"><button id="logout" type="submit">Sign out</button></form>
</body></html>`))

var apiTmpl = template.Must(template.New("api").Parse(head + `{{template "head" "API"}}
<h1>The API answered <span id="api-status">{{.Status}}</span></h1>
{{with .Challenge}}<p>WWW-Authenticate: <code id="api-challenge">{{.}}</code></p>{{end}}
<pre id="api-body">{{.Body}}</pre>
<p><a href="/">Back</a></p>
</body></html>`))

var messageTmpl = template.Must(template.New("message").Parse(head + `{{template "head" .Title}}
<h1 id="title">{{.Title}}</h1>
<p id="message">{{.Text}}</p>
<p>{{if .Retry}}<a id="signin" href="/login">Sign in again</a>{{else}}<a href="/">Home</a>{{end}}</p>
</body></html>`))

var logoutFailedTmpl = template.Must(template.New("logoutFailed").Parse(head + `{{template "head" "Sign-out failed"}}
<h1 id="title">Sign-out failed</h1>
<p id="message">Your sign-out could not be recorded, so your sign-in may still be accepted. Please try again.</p>
<form method="post" action="/logout"><button id="logout" type="submit">Sign out</button></form>
</body></html>`))

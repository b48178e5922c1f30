package cognitotest

import (
	"crypto/hmac"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// OAuth 2.0 flows of app clients ([AppClient.OAuthFlows]), Cognito's
// AllowedOAuthFlows values. The implicit flow is not served.
const (
	OAuthFlowCode              = "code"
	OAuthFlowClientCredentials = "client_credentials"
)

// Lifetimes of the managed login's state, as in Cognito.
const (
	// LoginSessionTTL is how long the managed login's session cookie
	// signs a user in again without a password.
	LoginSessionTTL = time.Hour
	// AuthCodeTTL is how long an authorization code can be redeemed.
	AuthCodeTTL = 5 * time.Minute
)

// defaultOAuthScopes are the scopes of a code-flow client of Config
// without OAuthScopes.
var defaultOAuthScopes = []string{"openid", "email", "phone", "profile", DefaultScope}

const (
	sessionCookie = "cognito"
	csrfCookie    = "XSRF-TOKEN"
)

// loginSession is a managed-login session: who signed in with a password,
// and when.
type loginSession struct {
	sub      string
	authTime time.Time
	expires  time.Time
}

// authCode is an authorization code waiting for its token request.
type authCode struct {
	clientID, redirectURI string
	sub                   string
	scopes                []string
	challenge, nonce      string
	authTime, expires     time.Time
}

// authRequest is a checked /oauth2/authorize request.
type authRequest struct {
	client      *AppClient
	redirectURI string
	state       string
	scopes      []string
	challenge   string
	nonce       string
}

// authError is an error of the authorize, login or logout endpoints:
// shown on an error page when the client or redirect URI cannot be
// trusted, else sent to the redirect URI.
type authError struct {
	code, desc string
	page       bool
}

// checkAuthRequest checks the parameters of an authorization request as
// Cognito does.
func (p *Pool) checkAuthRequest(q url.Values) (*authRequest, *authError) {
	c, ok := p.client(q.Get("client_id"))
	if !ok {
		return nil, &authError{"invalid_request", "unknown client_id", true}
	}
	ar := &authRequest{client: c, redirectURI: q.Get("redirect_uri"), state: q.Get("state"),
		challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
	if !slices.Contains(c.CallbackURLs, ar.redirectURI) {
		return nil, &authError{"redirect_mismatch", "redirect_uri is not a callback URL of the client", true}
	}
	switch {
	case q.Get("response_type") != "code":
		return ar, &authError{code: "unsupported_response_type"}
	case !c.allowsOAuth(OAuthFlowCode):
		return ar, &authError{code: "unauthorized_client"}
	case ar.challenge != "" && q.Get("code_challenge_method") != "S256",
		ar.challenge == "" && q.Get("code_challenge_method") != "":
		return ar, &authError{code: "invalid_request", desc: "code_challenge_method must be S256"}
	}
	ar.scopes = strings.Fields(q.Get("scope"))
	if len(ar.scopes) == 0 {
		ar.scopes = slices.Clone(c.OAuthScopes)
	}
	for _, s := range ar.scopes {
		if !slices.Contains(c.OAuthScopes, s) {
			return ar, &authError{code: "invalid_scope"}
		}
	}
	return ar, nil
}

// write answers with the error: an error page, or a redirect to the
// client's redirect URI with error and state.
func (e *authError) write(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	if e.page || ar == nil {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "error="+e.code+"\n"+e.desc, http.StatusBadRequest)
		return
	}
	q := url.Values{"error": {e.code}}
	if e.desc != "" {
		q.Set("error_description", e.desc)
	}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	http.Redirect(w, r, withQuery(ar.redirectURI, q), http.StatusFound)
}

// withQuery adds q to the query of uri, a registered callback URL.
func withQuery(uri string, q url.Values) string {
	u, err := url.Parse(uri)
	if err != nil { // registered URLs parse; keep the answer well-formed anyway
		return uri
	}
	v := u.Query()
	for k, vs := range q {
		v[k] = vs
	}
	u.RawQuery = v.Encode()
	return u.String()
}

// serveAuthorize serves /oauth2/authorize: a signed-in browser (session
// cookie) gets a code at once, unless prompt=login; others go to /login.
func (p *Pool) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	q := r.URL.Query()
	ar, e := p.checkAuthRequest(q)
	if e != nil {
		e.write(w, r, ar)
		return
	}
	if q.Get("prompt") != "login" {
		if u, authTime := p.loggedIn(r); u != nil {
			p.redirectWithCode(w, r, ar, u, authTime)
			return
		}
	}
	q.Del("prompt")
	http.Redirect(w, r, "/login?"+q.Encode(), http.StatusFound)
}

// loggedIn returns the user of the request's managed-login session and
// its sign-in time, or nil if there is none that can sign in.
func (p *Pool) loggedIn(r *http.Request) (*userRecord, time.Time) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, time.Time{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ls := p.logins[ck.Value]
	if ls == nil || !p.now().Before(ls.expires) {
		return nil, time.Time{}
	}
	u := p.userBySubLocked(ls.sub)
	if u == nil || signInStatus(u) != nil {
		return nil, time.Time{}
	}
	return u, ls.authTime
}

// redirectWithCode issues an authorization code for u and redirects the
// browser to the client's redirect URI with it.
func (p *Pool) redirectWithCode(w http.ResponseWriter, r *http.Request, ar *authRequest, u *userRecord, authTime time.Time) {
	code := newUUID()
	p.mu.Lock()
	p.pruneOAuthLocked()
	p.codes[code] = &authCode{clientID: ar.client.ID, redirectURI: ar.redirectURI, sub: u.Sub,
		scopes: ar.scopes, challenge: ar.challenge, nonce: ar.nonce,
		authTime: authTime, expires: p.now().Add(AuthCodeTTL)}
	p.mu.Unlock()
	q := url.Values{"code": {code}}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	http.Redirect(w, r, withQuery(ar.redirectURI, q), http.StatusFound)
}

var loginPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in (cognitotest)</title></head>
<body><h1>Sign in</h1>
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="_csrf" value="{{.CSRF}}">
<label>Username <input id="username" name="username" autocomplete="username" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
<button id="signin" type="submit">Sign in</button>
</form></body></html>
`))
})

// serveLogin serves the managed login page (GET) and its sign-in (POST).
func (p *Pool) serveLogin(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead, http.MethodPost) {
		return
	}
	ar, e := p.checkAuthRequest(r.URL.Query())
	if e != nil {
		e.write(w, r, ar)
		return
	}
	if r.Method != http.MethodPost {
		p.showLogin(w, r, "", http.StatusOK)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	ck, err := r.Cookie(csrfCookie)
	if err != nil || r.ParseForm() != nil || !hmac.Equal([]byte(ck.Value), []byte(r.PostForm.Get("_csrf"))) {
		http.Error(w, "cognitotest: missing or wrong CSRF token", http.StatusForbidden)
		return
	}
	u, msg := p.passwordLogin(ar.client, r.PostForm.Get("username"), r.PostForm.Get("password"))
	if u == nil {
		p.showLogin(w, r, msg, http.StatusBadRequest)
		return
	}
	now := p.now()
	id := newRefreshToken()
	p.mu.Lock()
	p.pruneOAuthLocked()
	p.logins[id] = &loginSession{sub: u.Sub, authTime: now, expires: now.Add(LoginSessionTTL)}
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(LoginSessionTTL / time.Second)})
	p.redirectWithCode(w, r, ar, u, now)
}

// passwordLogin checks a managed-login sign-in as InitiateAuth checks a
// password sign-in and returns the user, or the message to show.
func (p *Pool) passwordLogin(c *AppClient, name, password string) (*userRecord, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.lookupLocked(name)
	switch {
	case u == nil && c.PreventUserExistenceErrors == PreventUserExistenceLegacy:
		return nil, errNoUser.message
	case u == nil || u.Password == "" || !hmac.Equal([]byte(u.Password), []byte(password)):
		return nil, "Incorrect username or password."
	}
	if e := signInStatus(u); e != nil {
		return nil, e.message
	}
	return u, ""
}

// showLogin renders the login page with a new CSRF token.
func (p *Pool) showLogin(w http.ResponseWriter, r *http.Request, msg string, status int) {
	token := randomString(32)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: token, Path: "/login", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'"+redirectOrigin(r)+"; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = loginPage().Execute(w, struct{ Action, CSRF, Error string }{"/login?" + r.URL.RawQuery, token, msg})
}

// redirectOrigin is " " and the origin of the request's redirect_uri, or ""
// when it has none that can stand in a policy. The login page's
// form-action must allow it: browsers apply form-action to the redirects
// that follow a form's submission, and the sign-in POST ends in a redirect
// to the client's callback, as on Cognito's managed login.
func redirectOrigin(r *http.Request) string {
	u, err := url.Parse(r.URL.Query().Get("redirect_uri"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !cspHost().MatchString(u.Host) {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

// cspHost is a host[:port] that can stand in a Content-Security-Policy
// source expression as it is.
var cspHost = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)
})

// serveLogout serves /logout: it ends the managed-login session (the
// cookie, and the session behind it) and redirects to logout_uri, a
// sign-out URL of the client, or, with redirect_uri and response_type,
// to the login page.
func (p *Pool) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	q := r.URL.Query()
	c, ok := p.client(q.Get("client_id"))
	if !ok {
		(&authError{"invalid_request", "unknown client_id", true}).write(w, r, nil)
		return
	}
	target := q.Get("logout_uri")
	switch {
	case target != "" && !slices.Contains(c.LogoutURLs, target):
		(&authError{"redirect_mismatch", "logout_uri is not a sign-out URL of the client", true}).write(w, r, nil)
		return
	case target == "":
		_, e := p.checkAuthRequest(q)
		if e != nil {
			e.write(w, r, nil) // an error page: nothing was signed out
			return
		}
		target = "/login?" + r.URL.RawQuery
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		p.mu.Lock()
		delete(p.logins, ck.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1})
	http.Redirect(w, r, target, http.StatusFound)
}

// pruneOAuthLocked drops expired authorization codes and managed-login
// sessions.
func (p *Pool) pruneOAuthLocked() {
	now := p.now()
	maps.DeleteFunc(p.codes, func(_ string, c *authCode) bool { return !now.Before(c.expires) })
	maps.DeleteFunc(p.logins, func(_ string, l *loginSession) bool { return !now.Before(l.expires) })
}

// allowMethods answers 405 and reports false unless r's method is one of
// methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// Package webapp is the example web application of cognitoguard: server-
// rendered pages, a password sign-in through the Cognito user pool API, the
// access token in a cookie, a protected page, and a sign-out that is honoured
// everywhere at once.
//
// The program examples/webapp runs it; the e2e module drives it with a
// headless browser. It lives in its own package (package main cannot be
// imported) and is an example, not a supported API.
//
// # Routes
//
//	GET  /          redirect to /app
//	GET  /login     sign-in form
//	POST /login     InitiateAuth USER_PASSWORD_AUTH; sets the cookie; 303 to /app
//	GET  /app       protected page; without a valid cookie: 303 to /login
//	GET  /api/me    the same claims as JSON; without a valid token: RFC 6750 401
//	POST /logout    signout.NewLogoutHandler: GlobalSignOut (recorded in the
//	                store, then in Cognito), cookie cleared, 303 to the hosted
//	                UI logout endpoint
//	GET  /healthz   ok
//
// # Security choices
//
//   - The access token lives in the cookie [AccessCookie]: __Host- prefixed,
//     Secure, HttpOnly, SameSite=Lax, Path=/. Browsers keep Secure cookies
//     only over HTTPS, except on localhost and 127.0.0.1 (development).
//     No ID or refresh token is kept in the browser: the pages need neither,
//     and a refresh token in a cookie would outlive every sign-out but
//     Cognito's own. When the access token expires the user signs in again.
//   - Every POST passes [http.CrossOriginProtection] (Sec-Fetch-Site, then
//     Origin against Host): a cross-site form cannot sign a user in or out.
//   - Pages carry a Content-Security-Policy whose form-action allows this
//     origin and the logout endpoint's (browsers apply form-action to the
//     redirect that follows the logout POST), frame-ancestors 'none',
//     Referrer-Policy no-referrer and Cache-Control no-store.
//   - The app client MUST have no client secret (a browser-facing client
//     never has one) and allow ALLOW_USER_PASSWORD_AUTH.
package webapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/jwks"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// AccessCookie is the name of the cookie that holds the user's access
// token. The __Host- prefix makes browsers refuse it unless it is Secure,
// has Path=/ and no Domain, so a sibling subdomain cannot plant or widen it.
const AccessCookie = "__Host-cognitoguard-access"

// CognitoAPI is what the app calls in Cognito: InitiateAuth to sign in, and
// the calls of the sign-out helper. *cognitoidentityprovider.Client
// implements it.
type CognitoAPI interface {
	signout.CognitoAPI
	InitiateAuth(ctx context.Context, params *cip.InitiateAuthInput, optFns ...func(*cip.Options)) (*cip.InitiateAuthOutput, error)
}

var _ CognitoAPI = (*cip.Client)(nil)

// Config configures [New]. UserPoolID and ClientID are required.
type Config struct {
	// Region of the user pool, such as "eu-west-1". Default: the prefix of
	// UserPoolID.
	Region string
	// UserPoolID, such as "eu-west-1_AbCdEf123". Required.
	UserPoolID string
	// ClientID of the app client (no secret, ALLOW_USER_PASSWORD_AUTH).
	// Required.
	ClientID string
	// Issuer overrides the issuer derived from the pool (emulators, tests,
	// multi-Region issuers).
	Issuer string
	// CognitoEndpoint overrides the Cognito API endpoint (emulators, tests).
	CognitoEndpoint string
	// Cognito, if set, replaces the SDK client built from Region and
	// CognitoEndpoint.
	Cognito CognitoAPI

	// Store records sign-outs and is consulted on every request. Default:
	// an in-process [revocation.Memory] (one instance only; use
	// the Redis store of package redisstore to share sign-outs between instances).
	Store revocation.Store

	// HostedUIDomain is the pool's hosted UI (managed login) domain, such
	// as "myapp.auth.eu-west-1.amazoncognito.com". When set, the logout
	// redirects the browser to https://{domain}/logout so that Cognito also
	// ends the hosted UI session (see [signout.LogoutURL]).
	HostedUIDomain string
	// LogoutEndpoint replaces https://{HostedUIDomain}/logout (a stand-in
	// page in tests); client_id and logout_uri are added to its query.
	LogoutEndpoint string
	// PublicURL is the scheme and host of this app as browsers reach it,
	// such as "https://app.example.com". The logout_uri sent to Cognito is
	// PublicURL + "/login" and MUST be among the app client's sign-out URLs.
	// Required when HostedUIDomain or LogoutEndpoint is set.
	PublicURL string

	// HTTPClient is used for the JWKS and the Cognito API. Default: a
	// client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives the app's and the library's records. Nil discards.
	Logger *slog.Logger
}

// App is the web application. It is an [http.Handler], safe for concurrent
// use. Close releases the Verifier.
type App struct {
	handler      http.Handler
	verifier     *cognitoguard.Verifier
	idp          CognitoAPI
	signOut      *signout.Helper
	clientID     string
	logoutTarget string // where the browser goes after POST /logout
	log          *slog.Logger
}

// New returns the app for cfg.
func New(cfg Config) (*App, error) {
	if cfg.UserPoolID == "" || cfg.ClientID == "" {
		return nil, errors.New("webapp: UserPoolID and ClientID are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	store := cfg.Store
	if store == nil {
		store = revocation.NewMemory(revocation.MemoryConfig{Logger: log})
	}
	idp := cfg.Cognito
	if idp == nil {
		var err error
		if idp, err = newCognito(cfg, hc); err != nil {
			return nil, err
		}
	}
	target, formOrigin, err := logoutTarget(cfg)
	if err != nil {
		return nil, err
	}
	pool := cognitoguard.Pool{UserPoolID: cfg.UserPoolID, ClientIDs: []string{cfg.ClientID}}
	if cfg.Issuer != "" {
		pool.Issuers = []string{cfg.Issuer}
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{
		Revocation: store,
		JWKS:       jwks.Config{HTTPClient: hc},
		Logger:     log,
	})
	if err != nil {
		return nil, err
	}
	so, err := signout.New(idp, v, store, signout.Config{Logger: log})
	if err != nil {
		v.Close()
		return nil, err
	}
	a := &App{
		verifier:     v,
		idp:          idp,
		signOut:      so,
		clientID:     cfg.ClientID,
		logoutTarget: target,
		log:          log,
	}

	a.handler = a.routes(formOrigin)
	return a, nil
}

// newCognito returns a Cognito client for the pool's region (cfg.Region,
// or the pool ID's).
func newCognito(cfg Config, hc *http.Client) (CognitoAPI, error) {
	region := cfg.Region
	if region == "" {
		r, err := cognitoguard.PoolRegion(cfg.UserPoolID)
		if err != nil {
			return nil, fmt.Errorf("webapp: no region given: %w", err)
		}
		region = r
	}
	opts := cip.Options{
		Region: region,
		// InitiateAuth and GlobalSignOut are unauthenticated
		// operations: no AWS credentials are needed (nor sent).
		Credentials: aws.AnonymousCredentials{},
		HTTPClient:  hc,
	}
	if cfg.CognitoEndpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.CognitoEndpoint)
	}
	return cip.New(opts), nil
}

// routes returns the app's handler: its routes behind cross-origin
// protection and the security headers; formOrigin is the logout target's
// origin for the CSP form-action (" https://host", or "").
func (a *App) routes(formOrigin string) http.Handler {
	// Pages: a missing, invalid, expired or revoked cookie sends the
	// browser to the sign-in form. API: RFC 6750 responses.
	page := middleware.New(a.verifier, middleware.Config{Cookie: AccessCookie, ErrorHandler: a.pageError, Logger: a.log})
	api := middleware.New(a.verifier, middleware.Config{Cookie: AccessCookie, Realm: "webapp", Logger: a.log})

	cop := http.NewCrossOriginProtection()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/app", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.Handle("GET /app", page(http.HandlerFunc(a.appPage)))
	mux.Handle("GET /api/me", api(http.HandlerFunc(a.me)))
	mux.Handle("POST /logout", a.logoutHandler(cop))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		io.WriteString(w, styleCSS)
	})

	csp := "default-src 'none'; style-src 'self'; form-action 'self'" + formOrigin +
		"; frame-ancestors 'none'; base-uri 'none'"
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		if r.URL.Path != "/style.css" {
			h.Set("Cache-Control", "no-store")
		}
		mux.ServeHTTP(w, r)
	}))
}

// logoutTarget returns where POST /logout sends the browser, and the
// origin to add to the CSP form-action (" https://host", or "").
func logoutTarget(cfg Config) (target, formOrigin string, err error) {
	if cfg.HostedUIDomain == "" && cfg.LogoutEndpoint == "" {
		// No hosted UI: the app's own sign-in page.
		return "/login", "", nil
	}
	if cfg.PublicURL == "" {
		return "", "", errors.New("webapp: PublicURL is required with a hosted UI logout")
	}
	logoutURI := strings.TrimSuffix(cfg.PublicURL, "/") + "/login"
	if cfg.LogoutEndpoint == "" {
		target, err = signout.LogoutURL(cfg.HostedUIDomain, cfg.ClientID, logoutURI)
		if err != nil {
			return "", "", err
		}
	} else {
		u, err := url.Parse(cfg.LogoutEndpoint)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Fragment != "" {
			return "", "", fmt.Errorf("webapp: logout endpoint %q is not an absolute http(s) URL", cfg.LogoutEndpoint)
		}
		q := u.Query()
		q.Set("client_id", cfg.ClientID)
		q.Set("logout_uri", logoutURI)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	u, _ := url.Parse(target)
	return target, " " + u.Scheme + "://" + u.Host, nil
}

// ServeHTTP serves the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Close releases the Verifier's key fetchers.
func (a *App) Close() error { return a.verifier.Close() }

// LogoutTarget returns the address POST /logout redirects to.
func (a *App) LogoutTarget() string { return a.logoutTarget }

// Messages shown on the sign-in page, chosen by the "m" query parameter
// (never reflected: unknown values show nothing).
var notices = map[string]string{
	"ended":     "Your session has ended. Please sign in again.",
	"signedout": "You are signed out.",
}

func (a *App) loginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, loginTmpl, loginData{Notice: notices[r.URL.Query().Get("m")]})
}

type loginData struct {
	Notice, Error, Username string
}

// maxFormBytes bounds the sign-in form body.
const maxFormBytes = 8 << 10

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		a.render(w, http.StatusBadRequest, loginTmpl, loginData{Error: "The form could not be read."})
		return
	}
	user, pass := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	if user == "" || pass == "" {
		a.render(w, http.StatusBadRequest, loginTmpl, loginData{Error: "Enter your username and password.", Username: user})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	out, err := a.idp.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(a.clientID),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pass},
	})
	if err != nil {
		var notAuth *types.NotAuthorizedException
		var noUser *types.UserNotFoundException
		var reset *types.PasswordResetRequiredException
		var unconfirmed *types.UserNotConfirmedException
		switch {
		case errors.As(err, &notAuth), errors.As(err, &noUser), errors.As(err, &reset), errors.As(err, &unconfirmed):
			a.log.LogAttrs(r.Context(), slog.LevelInfo, "webapp: sign-in refused", slog.String("error", err.Error()))
			a.render(w, http.StatusUnauthorized, loginTmpl, loginData{Error: "Incorrect username or password.", Username: user})
		default:
			a.log.LogAttrs(r.Context(), slog.LevelWarn, "webapp: sign-in failed", slog.String("error", err.Error()))
			w.Header().Set("Retry-After", "5")
			a.render(w, http.StatusServiceUnavailable, loginTmpl, loginData{Error: "Sign-in is unavailable. Please try again later.", Username: user})
		}
		return
	}
	res := out.AuthenticationResult
	if res == nil || res.AccessToken == nil || *res.AccessToken == "" {
		// MFA, NEW_PASSWORD_REQUIRED, …: not handled by this example.
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "webapp: sign-in challenge not supported", slog.String("challenge", string(out.ChallengeName)))
		a.render(w, http.StatusUnauthorized, loginTmpl, loginData{Error: "This account needs a sign-in step this example does not support.", Username: user})
		return
	}
	maxAge := int(res.ExpiresIn)
	if maxAge <= 0 {
		maxAge = 3600
	}
	http.SetCookie(w, &http.Cookie{
		Name:     AccessCookie,
		Value:    *res.AccessToken,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, "/app", http.StatusSeeOther)
}

// clearCookie expires the token cookie.
func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     AccessCookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// pageError answers a page request the middleware rejected: the browser
// goes to the sign-in form when it has no usable token, gets a 403 page
// when the token lacks a permission, and a 503 page when verification is
// unavailable (fail closed). err's text is never shown.
func (a *App) pageError(w http.ResponseWriter, r *http.Request, err error) {
	switch cognitoguard.Class(err) {
	case cognitoguard.ErrNoToken:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case cognitoguard.ErrInvalidToken:
		// Expired, revoked or broken: drop the cookie.
		clearCookie(w)
		http.Redirect(w, r, "/login?m=ended", http.StatusSeeOther)
	case cognitoguard.ErrInsufficientScope:
		a.render(w, http.StatusForbidden, messageTmpl, messageData{Title: "Forbidden", Text: "Your account may not see this page."})
	default:
		w.Header().Set("Retry-After", "1")
		a.render(w, http.StatusServiceUnavailable, messageTmpl, messageData{Title: "Unavailable", Text: "Sign-in checks are unavailable. Please try again shortly."})
	}
}

type appData struct {
	C *cognitoguard.Claims
}

func (a *App) appPage(w http.ResponseWriter, r *http.Request) {
	c, ok := cognitoguard.FromContext(r.Context())
	if !ok {
		a.pageError(w, r, cognitoguard.ErrNoToken)
		return
	}
	a.render(w, http.StatusOK, appTmpl, appData{C: c})
}

func (a *App) me(w http.ResponseWriter, r *http.Request) {
	c, _ := cognitoguard.FromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"sub":       c.Subject,
		"username":  c.Username,
		"token_use": c.TokenUse,
		"client_id": c.ClientID,
		"scopes":    c.Scopes,
		"groups":    c.Groups,
		"auth_time": c.AuthTime.Unix(),
		"exp":       c.Expiry.Unix(),
	})
}

func (a *App) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		a.log.Error("webapp: template", slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

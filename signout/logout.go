package signout

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/logs"
	"github.com/cognitoguard/cognitoguard/internal/retryafter"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// SignOuter signs out the user of an access token: records the sign-out in
// the revocation store, then revokes the refresh tokens in Cognito.
// [*Helper] implements it. The logout handler answers its errors by what
// they match: [ErrStore] (503), else [ErrCognito] (502), else the
// [cognitoguard.Class] of the error, as [middleware.WriteError] does (401
// for a missing or invalid token, 503 otherwise). Implementations MUST be
// safe for concurrent use.
type SignOuter interface {
	GlobalSignOut(ctx context.Context, accessToken string) error
}

var _ SignOuter = (*Helper)(nil)

// LogoutConfig holds the optional settings of [NewLogoutHandler]. Its zero
// value reads the access token from the Authorization header, clears no
// cookie and answers 204.
type LogoutConfig struct {
	// Extractor, if set, reads the access token instead of the header and
	// cookie extraction (Cookie is then only cleared, not read). A
	// cross-origin request is then not refused, only its cookies are
	// kept: if it reads a cookie, wrap the handler in an
	// [http.CrossOriginProtection].
	Extractor func(*http.Request) (string, error)

	// Cookie, if set, names a cookie holding the access token, read when
	// the request has no Authorization header, as [middleware.Config.Cookie]. A
	// request authenticated by this cookie MUST come from this site: it
	// goes through CrossOrigin first. The cookie is also cleared.
	Cookie string

	// ClearCookies names further cookies to expire in every response to a
	// same-origin POST (the ID and refresh token
	// cookies, a session cookie, …), with Path=/, no Domain, Secure,
	// HttpOnly, SameSite=Lax and Max-Age=0: the attributes of __Host-
	// cookies. A cookie set with a Domain or another Path is a different
	// cookie for the browser and is not cleared: expire it yourself.
	ClearCookies []string

	// RedirectURL, if set, makes a successful sign-out answer 303 See
	// Other to it, for example [LogoutURL](...) to end the hosted
	// UI session too. Default: 204 No Content.
	RedirectURL string

	// CrossOrigin tells same-origin requests from cross-origin ones. A
	// cross-origin POST never gets its cookies cleared (another site must
	// not be able to end the user's session); without an Authorization
	// header it is answered 403 and nothing is done; with one (an API
	// client on another origin) it is answered as usual, by the token of
	// that header only, never by the cookie. Default:
	// http.NewCrossOriginProtection() (Sec-Fetch-Site and Origin checks);
	// use its AddTrustedOrigin for a front end on another origin.
	CrossOrigin *http.CrossOriginProtection

	// Realm is the realm of the WWW-Authenticate challenges. Default
	// [middleware.DefaultRealm].
	Realm string

	// RetryAfter is the Retry-After of 503 responses, in whole seconds
	// rounded up. Default 1s.
	RetryAfter time.Duration

	// ErrorHandler, if set, writes the response of every refused or failed
	// sign-out instead of the JSON and Bearer answers of the table in
	// [NewLogoutHandler], for example an HTML page or a redirect in a web
	// app. err tells the cases apart with errors.Is: [ErrCrossOrigin] (the
	// cookies are kept); the cognitoguard classes [cognitoguard.ErrNoToken],
	// [cognitoguard.ErrInvalidToken] and [cognitoguard.ErrUnavailable] for
	// the token; [ErrStore] (not recorded: answer as unavailable)
	// or else [ErrCognito] (recorded, Cognito failed) for the
	// sign-out; any other error (from a SignOuter of your own) as
	// unavailable. For a same-origin request the cookies are already
	// cleared in w's header; Cache-Control is no-store; the failure is logged
	// as without ErrorHandler. It must not echo err's text: it may hold
	// the user's sub. A 405 for another method is still answered by the
	// handler.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger receives a Debug record for a request without a valid token
	// and a Warn record for a failed sign-out (never the token). Nil: the
	// SignOuter's logger when it has a Logger method ([Helper.Logger]).
	Logger *slog.Logger
}

// ErrCrossOrigin is given to [LogoutConfig.ErrorHandler] for a sign-out
// request, authenticated by cookie, that failed the cross-origin check.
var ErrCrossOrigin = errors.New("signout: cross-origin request refused")

// NewLogoutHandler returns the handler of a "sign out" route (mount it
// as "POST /logout"; it does not need the middleware of [middleware.New]
// in front).
// It signs out the user of the request's access token with s and clears
// the configured cookies:
//
//	request / outcome                          status  notes
//	method other than POST                     405     Allow: POST; nothing done
//	cross-origin, no Authorization header      403     nothing done, cookies kept
//	no token                                   401     WWW-Authenticate: Bearer realm="…"
//	invalid token (forged, expired, …)         401     error="invalid_token"; nobody signed out
//	not a user's token (M2M, no admin scope)   403     error="insufficient_scope"; nothing recorded ([ErrNotUserToken])
//	token not checkable (keys or store down)   503     Retry-After
//	sign-out not recorded or not confirmed     503     Retry-After (Cognito was still called)
//	Cognito call failed, record kept           502     the user's tokens are already rejected
//	signed out                                 204     or 303 to RedirectURL
//
// [LogoutConfig.ErrorHandler] replaces the answers of the failures (403,
// 401, 503, 502), for example with pages for a browser.
//
// Cookies are cleared on every answer to a same-origin POST, failures
// included: the user asked to sign out, and on a shared computer a cookie
// left behind after a half-failed sign-out is the larger risk. A
// cross-origin request never touches them, whatever its answer. A failed sign-out is logged at Warn with the user's sub (by s) so
// that an operator can finish it (cognitoguard signout USERNAME). The
// failure bodies are short fixed JSON texts, like [middleware.WriteError]'s;
// no response contains the token or an error's text. Every response has
// Cache-Control: no-store.
//
// A retried sign-out (double click, a token already signed out) succeeds
// when s is a [*Helper] wired to a Verifier sharing its store.
//
// NewLogoutHandler panics if s is nil. The handler is safe for concurrent
// use.
func NewLogoutHandler(s SignOuter, cfg LogoutConfig) http.Handler {
	if s == nil {
		panic("signout: NewLogoutHandler: nil SignOuter")
	}
	h := &logoutHandler{
		s:          s,
		extract:    cfg.Extractor,
		cookie:     cfg.Cookie,
		redirect:   cfg.RedirectURL,
		cop:        cfg.CrossOrigin,
		realm:      cfg.Realm,
		retryAfter: retryafter.Seconds(cfg.RetryAfter),
		onError:    cfg.ErrorHandler,
		log:        cfg.Logger,
	}
	if h.cop == nil {
		h.cop = http.NewCrossOriginProtection()
	}
	h.log = logs.Of(h.log, s)
	seen := make(map[string]bool)
	for _, name := range append([]string{cfg.Cookie}, cfg.ClearCookies...) {
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		h.clear = append(h.clear, (&http.Cookie{
			Name:     name,
			Path:     "/",
			MaxAge:   -1,
			Expires:  time.Unix(0, 0),
			Secure:   true,
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
		}).String())
	}
	return h
}

type logoutHandler struct {
	s          SignOuter
	extract    func(*http.Request) (string, error)
	cookie     string
	redirect   string
	cop        *http.CrossOriginProtection
	realm      string // quoted
	retryAfter string
	clear      []string // Set-Cookie values
	onError    func(http.ResponseWriter, *http.Request, error)
	log        *slog.Logger
}

func (h *logoutHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		hdr.Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, "method_not_allowed", "Sign out with POST")
		return
	}
	// A cross-origin request never touches cookies: clearing them is a
	// forced sign-out another site could trigger. It may still sign out
	// with a token of its own (an API client's Authorization header).
	crossOrigin := h.cop.Check(r) != nil
	if crossOrigin && h.extract == nil && len(r.Header["Authorization"]) == 0 {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "signout: cross-origin logout refused",
			slog.String("origin", r.Header.Get("Origin")), slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")))
		h.fail(w, r, ErrCrossOrigin, func() {
			writeJSON(w, http.StatusForbidden, "cross_origin", "Cross-origin sign-out refused")
		})
		return
	}
	tok, err := h.token(r)
	if !crossOrigin {
		for _, c := range h.clear {
			hdr.Add("Set-Cookie", c)
		}
	}
	if err == nil {
		err = h.s.GlobalSignOut(r.Context(), tok)
	}
	switch {
	case err == nil:
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "signout: signed out")
		if h.redirect != "" {
			hdr.Set("Location", h.redirect)
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrStore):
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "signout: sign-out not recorded", slog.String("error", err.Error()))
		h.fail(w, r, err, func() {
			hdr.Set("Retry-After", h.retryAfter)
			writeJSON(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The sign-out could not be recorded or confirmed; try again")
		})
	case errors.Is(err, ErrCognito):
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "signout: sign-out failed at the identity provider", slog.String("error", err.Error()))
		h.fail(w, r, err, func() {
			writeJSON(w, http.StatusBadGateway, "sign_out_incomplete", "The identity provider did not confirm the sign-out; try again")
		})
	default:
		h.reject(w, r, err)
	}
}

// token reads the access token of r: with the Extractor, else as the
// middleware does (the Authorization header, else the Cookie).
func (h *logoutHandler) token(r *http.Request) (string, error) {
	if h.extract == nil {
		return middleware.Extract(r, h.cookie)
	}
	tok, err := h.extract(r)
	if err == nil && tok == "" {
		err = &cognitoguard.Error{Kind: cognitoguard.ErrNoToken, Reason: "extractor found no token"}
	}
	return tok, err
}

// reject answers a token that is missing, invalid or not checkable: the
// classes of cognitoguard, answered as the middleware does.
func (h *logoutHandler) reject(w http.ResponseWriter, r *http.Request, err error) {
	class := cognitoguard.Class(err)
	level := slog.LevelDebug
	if class == cognitoguard.ErrUnavailable && r.Context().Err() == nil {
		level = slog.LevelWarn
	}
	h.log.LogAttrs(r.Context(), level, "signout: logout token rejected",
		slog.String("class", class.Error()), slog.String("error", err.Error()))
	h.fail(w, r, err, func() {
		if class == cognitoguard.ErrUnavailable {
			w.Header().Set("Retry-After", h.retryAfter)
		}
		middleware.WriteError(w, r, err, h.realm)
	})
}

// fail answers a refused or failed sign-out: with the configured
// ErrorHandler, else with answer.
func (h *logoutHandler) fail(w http.ResponseWriter, r *http.Request, err error, answer func()) {
	if h.onError != nil {
		h.onError(w, r, err)
		return
	}
	answer()
}

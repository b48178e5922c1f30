package signout

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/logs"
	"github.com/cognitoguard/cognitoguard/internal/retryafter"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// DefaultAdminGroup is the group of [AdminConfig.Groups] when none is set.
const DefaultAdminGroup = "admin"

// AdminSignOuter signs out, by username, alias or sub, a user of the one
// pool it administers, with the service's IAM rights. [*Helper]
// implements it. The admin handler answers its errors by what they match:
// [ErrUserNotFound] without an [*Error] (404: nothing done), [ErrStore]
// (503), [ErrCognito] (502), any other as unavailable (503).
// Implementations MUST be safe for concurrent use.
type AdminSignOuter interface {
	AdminSignOut(ctx context.Context, username string) (sub string, err error)
	// UserPoolID is the pool whose users AdminSignOut signs out; the
	// handler lets in only callers of that pool.
	UserPoolID() string
}

var _ AdminSignOuter = (*Helper)(nil)

// AdminConfig holds the optional settings of [NewAdminHandler]. Its zero
// value lets members of the group "admin" sign out the user named by the
// path wildcard {username}.
type AdminConfig struct {
	// Groups are the Cognito groups (cognito:groups) whose members may
	// sign users out: any one of them suffices. Default
	// [DefaultAdminGroup].
	Groups []string

	// PathValue is the name of the route's wildcard holding the username,
	// alias or (local users only) sub. Default "username", as in
	// "POST /admin/users/{username}/signout".
	PathValue string

	// Realm is the realm of the WWW-Authenticate challenges. Default
	// [middleware.DefaultRealm].
	Realm string

	// RetryAfter is the Retry-After of 503 responses, in whole seconds
	// rounded up. Default 1s.
	RetryAfter time.Duration

	// ErrorHandler, if set, writes the response of every refused or failed
	// request instead of the answers of the table in [NewAdminHandler].
	// err tells the cases apart with errors.Is:
	// [cognitoguard.ErrNoToken] (no verified caller),
	// [cognitoguard.ErrInsufficientScope] (not in a group), [ErrUserNotFound],
	// [ErrStore] (not recorded: answer as unavailable), else [ErrCognito]
	// (Cognito failed), any other error as unavailable. Cache-Control is
	// already no-store and the failure is logged. It must not echo err's
	// text. A 405 for another method is still answered by the handler.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger receives an Info record for each sign-out (the caller's sub,
	// the username and the user's sub) and a Warn record for each failure.
	// Nil: the AdminSignOuter's logger when it has a Logger method
	// ([Helper.Logger]).
	Logger *slog.Logger
}

// NewAdminHandler returns the handler of an administrator's "sign this
// user out" route, such as "POST /admin/users/{username}/signout". It
// MUST be mounted behind [middleware.New], which verifies the caller's
// token (revocation included); it then checks the caller's pool and
// groups and signs the user of the path out with s (a [*Helper]'s
// [Helper.AdminSignOut]):
//
//	request / outcome                          status  notes
//	method other than POST                     405     Allow: POST; nothing done
//	no verified caller (no middleware.New)     401     fails closed; logged at Error
//	caller of a pool other than the Helper's   403     error="insufficient_scope"; nothing done
//	caller not in a group of Groups            403     error="insufficient_scope"; nothing done
//	no such user                               404     nothing done
//	sign-out not recorded or not confirmed     503     Retry-After; nothing lost: retry
//	Cognito failed                             502     recorded if the user was resolved; retry
//	signed out                                 204
//
// The caller MUST be a user of the pool s administers
// ([AdminSignOuter.UserPoolID], compared with the verified
// [cognitoguard.Claims.UserPoolID]): group names are pool-agnostic, so
// with a Verifier of several pools an "admin" of one pool would otherwise
// sign out the users of another with the service's IAM rights.
//
// A retry is always safe (see [Helper]). Bodies are short fixed JSON
// texts; no response contains a token or an error's text. Every response
// has Cache-Control: no-store.
//
// NewAdminHandler panics if s is nil or administers no pool (an empty
// UserPoolID), or a group name is empty. The handler is safe for
// concurrent use.
func NewAdminHandler(s AdminSignOuter, cfg AdminConfig) http.Handler {
	if s == nil {
		panic("signout: NewAdminHandler: nil AdminSignOuter")
	}
	if s.UserPoolID() == "" {
		panic("signout: NewAdminHandler: the AdminSignOuter has no UserPoolID")
	}
	h := &adminHandler{
		s:          s,
		groups:     slices.Clone(cfg.Groups),
		pathValue:  cfg.PathValue,
		realm:      cfg.Realm,
		retryAfter: retryafter.Seconds(cfg.RetryAfter),
		onError:    cfg.ErrorHandler,
		log:        cfg.Logger,
	}
	if len(h.groups) == 0 {
		h.groups = []string{DefaultAdminGroup}
	}
	if slices.Contains(h.groups, "") {
		panic("signout: NewAdminHandler: empty group name")
	}
	if h.pathValue == "" {
		h.pathValue = "username"
	}
	h.log = logs.Of(h.log, s)
	return h
}

type adminHandler struct {
	s          AdminSignOuter
	groups     []string
	pathValue  string
	realm      string
	retryAfter string
	onError    func(http.ResponseWriter, *http.Request, error)
	log        *slog.Logger
}

func (h *adminHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		hdr.Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, "method_not_allowed", "Sign out with POST")
		return
	}
	ctx := r.Context()
	caller, ok := cognitoguard.FromContext(ctx)
	if !ok {
		h.log.LogAttrs(ctx, slog.LevelError, "signout: admin handler without a verified caller: mount it behind middleware.New")
		h.reject(w, r, &cognitoguard.Error{Kind: cognitoguard.ErrNoToken, Reason: "no claims in the request context"})
		return
	}
	if reason := h.refusal(caller); reason != "" {
		h.log.LogAttrs(ctx, slog.LevelWarn, "signout: admin sign-out refused: "+reason,
			slog.String("caller_pool", caller.UserPoolID), slog.String("caller_sub", caller.Subject))
		h.reject(w, r, &cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope, Reason: reason})
		return
	}
	username := r.PathValue(h.pathValue)
	var sub string
	err := error(&CognitoError{Kind: ErrUserNotFound, Err: errors.New("empty username")})
	if username != "" {
		sub, err = h.s.AdminSignOut(ctx, username)
	}
	attrs := []slog.Attr{slog.String("caller_sub", caller.Subject), slog.String("username", username), slog.String("sub", sub)}
	if err == nil {
		h.log.LogAttrs(ctx, slog.LevelInfo, "signout: admin sign-out", attrs...)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.log.LogAttrs(ctx, slog.LevelWarn, "signout: admin sign-out failed", append(attrs, slog.String("error", err.Error()))...)
	var se *Error
	resolved := errors.As(err, &se) // the user was resolved; the record was attempted
	switch {
	case errors.Is(err, ErrUserNotFound) && !resolved:
		h.fail(w, r, err, func() { writeJSON(w, http.StatusNotFound, "user_not_found", "No such user") })
	case errors.Is(err, ErrStore):
		h.fail(w, r, err, func() {
			hdr.Set("Retry-After", h.retryAfter)
			writeJSON(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The sign-out could not be recorded or confirmed; try again")
		})
	case errors.Is(err, ErrCognito) && resolved:
		h.fail(w, r, err, func() {
			writeJSON(w, http.StatusBadGateway, "sign_out_incomplete", "The sign-out is recorded but the identity provider did not confirm it; try again")
		})
	case errors.Is(err, ErrCognito):
		h.fail(w, r, err, func() {
			writeJSON(w, http.StatusBadGateway, "identity_provider_error", "The identity provider did not answer; nothing was done; try again")
		})
	default:
		h.fail(w, r, err, func() {
			hdr.Set("Retry-After", h.retryAfter)
			writeJSON(w, http.StatusServiceUnavailable, "temporarily_unavailable", "Try again")
		})
	}
}

// refusal says why caller may not sign users out, or returns "". The
// caller must be a user of the pool the Helper administers: with a
// Verifier of several pools, a group of one pool (anyone who administers
// that pool can put users in it) grants nothing in another.
func (h *adminHandler) refusal(caller *cognitoguard.Claims) string {
	switch {
	case caller.UserPoolID != h.s.UserPoolID():
		return "caller of another user pool"
	case !slices.ContainsFunc(h.groups, caller.InGroup):
		return "caller not in an admin group"
	}
	return ""
}

// reject answers a caller refused before anything is done, as the
// middleware does.
func (h *adminHandler) reject(w http.ResponseWriter, r *http.Request, err error) {
	h.fail(w, r, err, func() { middleware.WriteError(w, r, err, h.realm) })
}

// fail answers with the configured ErrorHandler, else with answer.
func (h *adminHandler) fail(w http.ResponseWriter, r *http.Request, err error, answer func()) {
	if h.onError != nil {
		h.onError(w, r, err)
		return
	}
	answer()
}

package forwardauth

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/quoted"
	"github.com/cognitoguard/cognitoguard/internal/retryafter"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// ErrIdentityTooLarge is wrapped by the error of a verified token whose
// identity headers exceed [Config.MaxIdentityBytes] (in the
// [cognitoguard.ErrInsufficientScope] class). The default answer is 403
// with error_description "The identity is too large to forward": a
// client retrying gets the same answer, and a proxy never has to hold
// more than the bound.
var ErrIdentityTooLarge = errors.New("forwardauth: identity headers too large to forward")

// descTooLarge is the fixed description of the ErrIdentityTooLarge answer.
const descTooLarge = "The identity is too large to forward"

// fits refuses claims whose identity headers, named names, would exceed
// limit bytes.
func fits(names [5]string, limit int) func(*cognitoguard.Claims) error {
	fixed := 0
	for _, n := range names {
		fixed += len(n) + len(": \r\n")
	}
	return func(c *cognitoguard.Claims) error {
		n := fixed + len(c.Subject) + len(c.Username) + listLen(c.Groups) + listLen(c.Scopes) + len(c.TokenUse)
		if n <= limit {
			return nil
		}
		return &cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope,
			Reason: "identity headers of " + strconv.Itoa(n) + " bytes exceed " + strconv.Itoa(limit), Err: ErrIdentityTooLarge}
	}
}

// listLen is len(strings.Join(l, " ")).
func listLen(l []string) int {
	n := max(len(l)-1, 0)
	for _, s := range l {
		n += len(s)
	}
	return n
}

// defaultErrorHandler answers as middleware.New does without an
// ErrorHandler, but for ErrIdentityTooLarge, whose 403 has a description
// of its own.
func defaultErrorHandler(auth middleware.Config) func(http.ResponseWriter, *http.Request, error) {
	retryAfter := retryafter.Seconds(auth.RetryAfter)
	return func(w http.ResponseWriter, r *http.Request, err error) {
		switch cognitoguard.Class(err) {
		case cognitoguard.ErrInsufficientScope:
			if errors.Is(err, ErrIdentityTooLarge) {
				writeTooLarge(w, auth.Realm)
				return
			}
		case cognitoguard.ErrNoToken, cognitoguard.ErrInvalidToken:
		default: // 503: WriteError keeps a Retry-After already set
			w.Header().Set("Retry-After", retryAfter)
		}
		middleware.WriteError(w, r, err, auth.Realm)
	}
}

// writeTooLarge writes the 403 of ErrIdentityTooLarge in the form of
// middleware.WriteError's answers.
func writeTooLarge(w http.ResponseWriter, realm string) {
	if realm == "" {
		realm = middleware.DefaultRealm
	}
	body := `{"error":"insufficient_scope","error_description":"` + descTooLarge + `"}` + "\n"
	h := w.Header()
	h.Set("WWW-Authenticate", `Bearer realm="`+quoted.Escape(realm)+`", error="insufficient_scope", error_description="`+descTooLarge+`"`)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, body)
}

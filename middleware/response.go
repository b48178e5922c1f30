package middleware

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/quoted"
	"github.com/cognitoguard/cognitoguard/internal/wording"
)

// DefaultRealm is the realm of WWW-Authenticate challenges when
// [Config.Realm] is empty.
const DefaultRealm = "api"

// ScopeError is wrapped by the errors of [RequireScopes]: Scopes are the
// scopes the resource requires, all of them. [WriteError] announces them
// in the scope parameter of the challenge (RFC 6750 §3). Treat Scopes as
// read-only.
type ScopeError struct {
	Scopes []string
}

func (e *ScopeError) Error() string {
	return "middleware: required scopes: " + strings.Join(e.Scopes, " ")
}

// invalidKind is one specific sentinel of the ErrInvalidToken class, with
// its log name and its fixed client-facing description.
type invalidKind struct {
	kind error
	name string
	desc string
}

// invalidKinds lists the ErrInvalidToken sentinels. The descriptions are
// fixed text: a response never carries an error's own text, which may
// hold details meant for logs only.
var invalidKinds = [...]invalidKind{
	{cognitoguard.ErrRevoked, "revoked", wording.RevokedAccess},
	{cognitoguard.ErrExpired, "expired", "The access token expired"},
	{cognitoguard.ErrNotYetValid, "not_yet_valid", "The access token is not yet valid"},
	{cognitoguard.ErrMalformed, "malformed", "The access token is malformed"},
	{cognitoguard.ErrUnknownKey, "unknown_key", "The access token is signed with an unknown key"},
	{cognitoguard.ErrSignature, "signature", "The access token signature is invalid"},
	{cognitoguard.ErrIssuer, "issuer", "The access token issuer is not accepted"},
	{cognitoguard.ErrTokenUse, "token_use", "The token type is not accepted"},
	{cognitoguard.ErrClient, "client", "The access token was issued to another client"},
}

// Fixed descriptions of the other responses.
const (
	descInvalid        = "The access token is invalid"
	descNoToken        = "A bearer token is required"
	descInvalidRequest = "The request must carry exactly one bearer token"
	descScope          = "The access token lacks a required scope"
	descForbidden      = "The access token does not grant access to this resource"
	descUnavailable    = "Token verification is temporarily unavailable"
)

// classify returns the response and log names of err: its class (for the
// log), the RFC 6750 error code (empty for a bare challenge), the kind's
// log name and the fixed description.
func classify(err error) (class, code, kind, desc string) {
	switch cognitoguard.Class(err) {
	case cognitoguard.ErrNoToken:
		if errors.Is(err, cognitoguard.ErrInvalidRequest) {
			return "no_token", "invalid_request", "invalid_request", descInvalidRequest
		}
		return "no_token", "", "no_token", descNoToken
	case cognitoguard.ErrInvalidToken:
		for i := range invalidKinds {
			if errors.Is(err, invalidKinds[i].kind) {
				desc := invalidKinds[i].desc
				if invalidKinds[i].kind == cognitoguard.ErrRevoked {
					desc = wording.Revoked(err) // an ID token's wording differs
				}
				return "invalid_token", "invalid_token", invalidKinds[i].name, desc
			}
		}
		return "invalid_token", "invalid_token", "invalid_token", descInvalid
	case cognitoguard.ErrInsufficientScope:
		var se *ScopeError
		if errors.As(err, &se) {
			return "insufficient_scope", "insufficient_scope", "insufficient_scope", descScope
		}
		return "insufficient_scope", "insufficient_scope", "insufficient_scope", descForbidden
	default: // ErrUnavailable, unknown errors and nil: fail closed.
		return "unavailable", "temporarily_unavailable", "unavailable", descUnavailable
	}
}

// WriteError writes the default response for err, the one [New] writes
// when [Config.ErrorHandler] is nil. It is exported for custom error
// handlers that add to it (a header, a metric) or fall back to it.
//
//	class of err ([cognitoguard.Class])    status  WWW-Authenticate
//	ErrNoToken                             401     Bearer realm="api"
//	ErrNoToken and ErrInvalidRequest       401     Bearer realm="api", error="invalid_request", error_description="…"
//	ErrInvalidToken                        401     Bearer realm="api", error="invalid_token", error_description="…"
//	ErrInsufficientScope                   403     Bearer realm="api", error="insufficient_scope", error_description="…"[, scope="…"]
//	ErrUnavailable, any other error, nil   503     (none); Retry-After
//
// The description is fixed text chosen by the error's sentinel (for
// [cognitoguard.ErrRevoked], exactly "Access Token has been revoked", or
// "Token has been revoked" when [cognitoguard.Error.TokenUse] is id, as
// Cognito words them);
// the scope parameter lists the scopes of a [ScopeError] in err. The body
// is a short JSON object with the same error code and description, sent
// with Content-Type application/json and Cache-Control no-store. The
// response never contains the token nor err's text.
//
// realm is quoted and escaped; empty means [DefaultRealm]. Retry-After is
// kept if w's header already has one, else it is 1 (second).
//
// WriteError must be called before anything is written to w. It is safe for
// concurrent use.
func WriteError(w http.ResponseWriter, r *http.Request, err error, realm string) {
	if realm == "" {
		realm = DefaultRealm
	}
	writeError(w, err, quoted.Escape(realm), "")
}

// writeError writes the response for err. realm is already quoted;
// retryAfter "" keeps a Retry-After already set, else writes 1.
func writeError(w http.ResponseWriter, err error, realm, retryAfter string) {
	_, code, _, desc := classify(err)
	h := w.Header()
	var status int
	switch code {
	case "temporarily_unavailable":
		status = http.StatusServiceUnavailable
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		} else if h.Get("Retry-After") == "" {
			h.Set("Retry-After", "1")
		}
	case "insufficient_scope":
		status = http.StatusForbidden
		var b strings.Builder
		b.WriteString(`Bearer realm="`)
		b.WriteString(realm)
		b.WriteString(`", error="insufficient_scope", error_description="`)
		b.WriteString(desc)
		b.WriteByte('"')
		var se *ScopeError
		if errors.As(err, &se) && len(se.Scopes) > 0 {
			b.WriteString(`, scope="`)
			for i, s := range se.Scopes {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(quoted.Escape(s))
			}
			b.WriteByte('"')
		}
		h.Set("WWW-Authenticate", b.String())
	case "":
		status = http.StatusUnauthorized
		h.Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
	default: // invalid_token, invalid_request
		status = http.StatusUnauthorized
		h.Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="`+code+`", error_description="`+desc+`"`)
	}
	bodyCode := code
	if bodyCode == "" {
		bodyCode = "unauthorized"
	}
	// code and desc are fixed ASCII text without quotes or backslashes:
	// no JSON escaping is needed.
	body := `{"error":"` + bodyCode + `","error_description":"` + desc + `"}` + "\n"
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

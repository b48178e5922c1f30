package forwardauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// Default names of the identity headers.
const (
	DefaultSubjectHeader  = "X-Auth-Sub"
	DefaultUsernameHeader = "X-Auth-Username"
	DefaultGroupsHeader   = "X-Auth-Groups"
	DefaultScopeHeader    = "X-Auth-Scope"
	DefaultTokenUseHeader = "X-Auth-Token-Use"
)

// ErrHeaderValue is wrapped by the error of a verified token whose claims
// cannot be forwarded in the identity headers: a control character in
// any of them, or a space inside a group name (groups are separated by
// spaces). Such a request is refused (403, class
// [cognitoguard.ErrInsufficientScope]), never forwarded with a value the
// upstream could misread.
var ErrHeaderValue = errors.New("forwardauth: claim cannot be forwarded in a header")

// Headers names the identity headers of a 200 answer. An empty field takes
// its default (DefaultSubjectHeader, …). Names are canonicalised
// ([http.CanonicalHeaderKey]) and MUST be distinct. The Groups header is
// pool-agnostic: behind a Verifier of several pools it carries group names
// without their pool (RequiredGroups match them likewise), so an upstream
// that grants rights by group MUST trust every pool's administrators alike.
type Headers struct {
	Subject  string // sub
	Username string // username (access token) or cognito:username (ID token)
	Groups   string // cognito:groups, separated by single spaces
	Scope    string // scope, separated by single spaces (empty for ID tokens)
	TokenUse string // token_use: "access" or "id"
}

// Config holds the optional settings of [New]. Its zero value answers with
// the default header names, reads the token from the Authorization header
// and requires no scope nor group.
type Config struct {
	// Headers names the identity headers; zero fields take the defaults.
	Headers Headers

	// Auth configures extraction (Cookie, Extractor, MaxTokenSize), the
	// rejections (Realm, RetryAfter, ErrorHandler) and the Logger exactly
	// as for [middleware.New], which does that work.
	Auth middleware.Config

	// RequiredScopes, if set, must all be in the token's scope; otherwise
	// the answer is 403 ([middleware.RequireScopes]).
	RequiredScopes []string

	// RequiredGroups, if set, must hold at least one of the user's groups;
	// otherwise the answer is 403 ([middleware.RequireGroups]).
	RequiredGroups []string

	// MaxIdentityBytes bounds the identity headers of a 200 answer, counted
	// as written in HTTP/1.1: each name, ": ", value and CRLF. A token
	// whose identity is larger is refused with 403 and
	// [ErrIdentityTooLarge], never forwarded: the proxy's buffer for the
	// answer (nginx proxy_buffer_size) MUST exceed it, by 1 KiB for the
	// answer's other headers. Zero means [DefaultMaxIdentityBytes]; New
	// refuses a negative value.
	MaxIdentityBytes int
}

// DefaultMaxIdentityBytes is the default [Config.MaxIdentityBytes]: 16 KiB,
// more than any token of [cognitoguard.DefaultMaxTokenSize] can carry, so
// that only a larger configured token size can exceed it. The
// configurations in examples/forwardauth are sized for it.
const DefaultMaxIdentityBytes = 16 << 10

// New returns the handler of the check endpoint. It answers any method and
// any path the same way (Envoy prefixes the original path, the other
// proxies rewrite it), never reads the body, and writes:
//
//	200  the token is valid: every identity header, empty when the claim is
//	     absent (no groups, no scope); no body
//	401  no token or an invalid, expired or revoked one; WWW-Authenticate
//	403  a required scope or group is missing, ErrHeaderValue, or
//	     ErrIdentityTooLarge (error_description "The identity is too
//	     large to forward")
//	503  keys or revocation store unreachable (fail closed); Retry-After
//
// The 401, 403 and 503 answers are [middleware.WriteError]'s (but for
// ErrIdentityTooLarge's), or all cfg.Auth.ErrorHandler's when it is set.
// The proxy MUST copy the identity headers of a 200 onto the upstream
// request and delete those the client sent: only the proxy can, as the
// client's headers never reach this handler's answer.
//
// New returns an error if a header name is not an RFC 9110 token, is one
// with a meaning of its own (Content-Length, Set-Cookie, Authorization, …)
// or two are the same, or if MaxIdentityBytes is negative; it panics as
// middleware.New, RequireScopes and
// RequireGroups do on their invalid inputs (nil v, an empty scope). The
// handler is safe for concurrent use.
func New(v middleware.Verifier, cfg Config) (http.Handler, error) {
	names, err := cfg.Headers.resolve()
	if err != nil {
		return nil, err
	}
	limit := cfg.MaxIdentityBytes
	switch {
	case limit < 0:
		return nil, fmt.Errorf("forwardauth: MaxIdentityBytes %d is negative", limit)
	case limit == 0:
		limit = DefaultMaxIdentityBytes
	}
	if cfg.Auth.ErrorHandler == nil {
		cfg.Auth.ErrorHandler = defaultErrorHandler(cfg.Auth)
	}
	var h http.Handler = identity(names)
	h = middleware.Require(fits(names, limit))(h)
	h = middleware.Require(forwardable)(h)
	if len(cfg.RequiredGroups) > 0 {
		h = middleware.RequireGroups(cfg.RequiredGroups...)(h)
	}
	if len(cfg.RequiredScopes) > 0 {
		h = middleware.RequireScopes(cfg.RequiredScopes...)(h)
	}
	return middleware.New(v, cfg.Auth)(h), nil
}

// resolve returns the five names, defaulted and canonicalised, in the
// order of the fields.
func (hs Headers) resolve() ([5]string, error) {
	names := [5]string{hs.Subject, hs.Username, hs.Groups, hs.Scope, hs.TokenUse}
	defaults := [5]string{DefaultSubjectHeader, DefaultUsernameHeader, DefaultGroupsHeader, DefaultScopeHeader, DefaultTokenUseHeader}
	for i := range names {
		if names[i] == "" {
			names[i] = defaults[i]
		}
		if !isToken(names[i]) {
			return names, fmt.Errorf("forwardauth: header name %q is not a token", names[i])
		}
		names[i] = http.CanonicalHeaderKey(names[i])
		if reserved[names[i]] {
			return names, fmt.Errorf("forwardauth: header name %s is reserved", names[i])
		}
		for j := range i {
			if names[j] == names[i] {
				return names, fmt.Errorf("forwardauth: header %s named twice", names[i])
			}
		}
	}
	return names, nil
}

// reserved are header names an identity header must not take: the
// answer's own, and those with a meaning to the proxy or the client.
var reserved = map[string]bool{
	"Cache-Control": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true,
	"Connection": true, "Www-Authenticate": true, "Retry-After": true, "Set-Cookie": true,
	"Location": true, "Authorization": true, "Cookie": true, "Host": true,
}

// identity answers 200 with the identity headers of the verified claims.
func identity(names [5]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := cognitoguard.FromContext(r.Context())
		if !ok { // unreachable behind middleware.New; fail closed anyway
			middleware.WriteError(w, r, nil, "")
			return
		}
		// One backing array for the seven values; direct assignment, as
		// the names are canonical already.
		v := [...]string{c.Subject, c.Username, strings.Join(c.Groups, " "), strings.Join(c.Scopes, " "),
			string(c.TokenUse), "no-store", "0"}
		vs := v[:]
		h := w.Header()
		for i, n := range names {
			h[n] = vs[i : i+1 : i+1]
		}
		h["Cache-Control"] = vs[5:6:6]
		h["Content-Length"] = vs[6:7:7]
		w.WriteHeader(http.StatusOK)
	})
}

// forwardable refuses claims that the identity headers cannot carry
// faithfully.
func forwardable(c *cognitoguard.Claims) error {
	bad := ""
	switch {
	case !isValue(c.Subject, false):
		bad = "sub"
	case !isValue(c.Username, false):
		bad = "username"
	case !isValue(string(c.TokenUse), true):
		bad = "token_use"
	}
	for _, g := range c.Groups {
		if g == "" || !isValue(g, true) {
			bad = "cognito:groups"
		}
	}
	for _, s := range c.Scopes {
		if !isValue(s, true) {
			bad = "scope"
		}
	}
	if bad == "" {
		return nil
	}
	return &cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope, Reason: "claim " + bad + " cannot be forwarded in a header", Err: ErrHeaderValue}
}

// isValue reports whether s can be a header value as is: no control
// character (tab included) nor DEL, no leading or trailing space (which
// proxies strip), and no space at all when noSpace (a list element).
// Bytes from 0x80 (UTF-8) are RFC 9110 obs-text and pass.
func isValue(s string, noSpace bool) bool {
	if s != "" && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || (noSpace && c == ' ') {
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 9110 token (a header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

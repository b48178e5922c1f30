package middleware

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/bearer"
)

// RequireScopes returns middleware that lets a request through only when
// its token carries every one of scopes; otherwise it answers 403 with
// error="insufficient_scope" and scope="…" listing scopes. The error it
// hands to the error handler matches [cognitoguard.ErrInsufficientScope]
// and wraps a [*ScopeError].
//
// It reads the claims stored by [New], which MUST run before it. Without
// claims in the context (New not installed: a misconfiguration) it
// answers 401 as for a request without token, failing closed. It uses the
// Realm, ErrorHandler and Logger of the enclosing New.
//
// Only access tokens carry scopes: behind a Verifier that accepts ID
// tokens, RequireScopes refuses them. Check scopes in the Verifier instead
// (cognitoguard.Config.RequiredScopes) when every route needs them.
//
// RequireScopes panics if scopes is empty (which would silently require
// nothing) or if a scope is not an RFC 6749 scope-token (empty, or with a
// space, a double quote, a backslash or a non-ASCII or control byte).
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	if len(scopes) == 0 {
		panic("middleware: RequireScopes: no scope")
	}
	for _, s := range scopes {
		if !isScopeToken(s) {
			panic("middleware: RequireScopes: invalid scope " + strconv.Quote(s))
		}
	}
	scopes = slices.Clone(scopes)
	se := &ScopeError{Scopes: scopes}
	return require(func(c *cognitoguard.Claims) error {
		for _, s := range scopes {
			if !c.HasScope(s) {
				return &cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope, Reason: "missing scope " + s, Err: se}
			}
		}
		return nil
	})
}

// RequireGroups returns middleware that lets a request through only when
// the user is in at least one of groups (cognito:groups); otherwise it
// answers 403 with error="insufficient_scope". The error matches
// [cognitoguard.ErrInsufficientScope]. Group names are pool-agnostic:
// behind a Verifier of several pools, a member of a group of that name in
// any of them passes; where the group MUST be one pool's, check
// [cognitoguard.Claims.UserPoolID] too.
//
// Like [RequireScopes], it MUST run behind [New], answers 401 when no
// claims are in the context, and panics if groups is empty or holds an
// empty name.
func RequireGroups(groups ...string) func(http.Handler) http.Handler {
	if len(groups) == 0 {
		panic("middleware: RequireGroups: no group")
	}
	if slices.Contains(groups, "") {
		panic("middleware: RequireGroups: empty group name")
	}
	groups = slices.Clone(groups)
	return require(func(c *cognitoguard.Claims) error {
		for _, g := range groups {
			if c.InGroup(g) {
				return nil
			}
		}
		return &cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope, Reason: "not in any required group"}
	})
}

// Require returns middleware that lets a request through only when check
// returns nil for its claims. A non-nil error is answered 403
// (error="insufficient_scope"), wrapped so that it matches
// [cognitoguard.ErrInsufficientScope] — unless it already matches a class
// of package cognitoguard, which is then kept, as for
// cognitoguard.Config.Check: a check that returns
// [cognitoguard.ErrUnavailable] (its database is down) gets 503, one that
// returns [cognitoguard.ErrRevoked] gets 401. The error reaches
// [Config.ErrorHandler]; its text is neither logged (only the fixed reason
// "check refused the request" is) nor sent to the client.
//
// check MUST be safe for concurrent use and MUST NOT modify the claims.
// Like [RequireScopes], Require MUST run behind [New] and answers 401 when
// no claims are in the context. It panics if check is nil.
func Require(check func(*cognitoguard.Claims) error) func(http.Handler) http.Handler {
	if check == nil {
		panic("middleware: Require: nil check")
	}
	return require(func(c *cognitoguard.Claims) error {
		err := check(c)
		if err == nil || isClassified(err) {
			return err
		}
		return &cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope, Reason: "check refused the request", Err: err}
	})
}

func require(check func(*cognitoguard.Claims) error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("middleware: nil next handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := cognitoguard.FromContext(r.Context())
			if !ok {
				settingsFrom(r.Context()).reject(w, r,
					bearer.NoToken("no claims in the request context: middleware.New is not installed before this handler"))
				return
			}
			if err := check(c); err != nil {
				settingsFrom(r.Context()).reject(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isClassified reports whether err belongs to a class of package
// cognitoguard (bare specific sentinels count).
func isClassified(err error) bool {
	return cognitoguard.Class(err) != cognitoguard.ErrUnavailable || errors.Is(err, cognitoguard.ErrUnavailable)
}

// isScopeToken reports whether s is an RFC 6749 §3.3 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
			return false
		}
	}
	return true
}

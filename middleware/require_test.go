package middleware

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognitoguard/cognitoguard"
)

const (
	chScope     = `Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read write"`
	chForbidden = `Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant access to this resource"`
)

func TestRequire(t *testing.T) {
	errCheck := errors.New("reason-tenant mismatch")
	tenantCheck := func(c *cognitoguard.Claims) error {
		switch c.Username {
		case "alice":
			return nil
		case "down":
			return &cognitoguard.Error{Kind: cognitoguard.ErrUnavailable, Reason: "reason-tenant db"}
		case "gone":
			return cognitoguard.ErrRevoked
		}
		return errCheck
	}
	tests := []struct {
		name    string
		mw      func(http.Handler) http.Handler
		claims  *cognitoguard.Claims
		want    response
		errKind error
	}{
		{"scopes: all present", RequireScopes("read", "write"),
			&cognitoguard.Claims{Scopes: []string{"write", "admin", "read"}}, response{200, "", "", ""}, nil},
		{"scopes: one missing", RequireScopes("read", "write"),
			&cognitoguard.Claims{Scopes: []string{"read"}}, response{403, chScope, "", "insufficient_scope"}, cognitoguard.ErrInsufficientScope},
		{"scopes: none (ID token)", RequireScopes("read", "write"),
			&cognitoguard.Claims{TokenUse: cognitoguard.TokenUseID}, response{403, chScope, "", "insufficient_scope"}, cognitoguard.ErrInsufficientScope},
		{"groups: one of them", RequireGroups("admin", "ops"),
			&cognitoguard.Claims{Groups: []string{"users", "ops"}}, response{200, "", "", ""}, nil},
		{"groups: none of them", RequireGroups("admin", "ops"),
			&cognitoguard.Claims{Groups: []string{"users"}}, response{403, chForbidden, "", "insufficient_scope"}, cognitoguard.ErrInsufficientScope},
		{"groups: no groups", RequireGroups("admin"),
			&cognitoguard.Claims{}, response{403, chForbidden, "", "insufficient_scope"}, cognitoguard.ErrInsufficientScope},
		{"check: passes", Require(tenantCheck),
			&cognitoguard.Claims{Username: "alice"}, response{200, "", "", ""}, nil},
		{"check: refuses", Require(tenantCheck),
			&cognitoguard.Claims{Username: "bob"}, response{403, chForbidden, "", "insufficient_scope"}, errCheck},
		{"check: unavailable keeps its class", Require(tenantCheck),
			&cognitoguard.Claims{Username: "down"}, response{503, "", "1", "temporarily_unavailable"}, cognitoguard.ErrUnavailable},
		{"check: revoked keeps its class", Require(tenantCheck),
			&cognitoguard.Claims{Username: "gone"}, response{401, chInvalid("Access Token has been revoked"), "", "invalid_token"}, cognitoguard.ErrRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var handled error
			cfg := Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				handled = err
				WriteError(w, r, err, "api")
			}}
			h := New(&fakeVerifier{claims: tt.claims}, cfg)(tt.mw(okHandler))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request("Bearer "+testToken))
			checkResponse(t, rec, tt.want)
			if tt.errKind == nil {
				if handled != nil {
					t.Errorf("ErrorHandler called with %v", handled)
				}
				return
			}
			if !errors.Is(handled, tt.errKind) {
				t.Errorf("ErrorHandler err = %v, want errors.Is %v", handled, tt.errKind)
			}
			if tt.want.status == http.StatusForbidden && !errors.Is(handled, cognitoguard.ErrInsufficientScope) {
				t.Errorf("err %v does not match ErrInsufficientScope", handled)
			}
		})
	}
}

// TestRequireWithoutNew: a Require function not behind New is a
// misconfiguration; it fails closed with 401.
func TestRequireWithoutNew(t *testing.T) {
	for name, mw := range map[string]func(http.Handler) http.Handler{
		"RequireScopes": RequireScopes("read"),
		"RequireGroups": RequireGroups("admin"),
		"Require":       Require(func(*cognitoguard.Claims) error { return nil }),
	} {
		t.Run(name, func(t *testing.T) {
			called := false
			h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request("Bearer "+testToken))
			checkResponse(t, rec, response{401, chNoToken, "", "unauthorized"})
			if called {
				t.Error("next called without claims")
			}
		})
	}
}

// TestRequireUsesNewConfig: behind New, the Require functions answer with
// New's realm and error handler.
func TestRequireUsesNewConfig(t *testing.T) {
	fv := &fakeVerifier{claims: &cognitoguard.Claims{}}
	rec := httptest.NewRecorder()
	New(fv, Config{Realm: "orders"})(RequireGroups("admin")(okHandler)).ServeHTTP(rec, request("Bearer "+testToken))
	checkResponse(t, rec, response{403,
		`Bearer realm="orders", error="insufficient_scope", error_description="The access token does not grant access to this resource"`,
		"", "insufficient_scope"})

	rec = httptest.NewRecorder()
	New(fv, Config{RetryAfter: 7e9})(Require(func(*cognitoguard.Claims) error {
		return cognitoguard.ErrUnavailable
	})(okHandler)).ServeHTTP(rec, request("Bearer "+testToken))
	checkResponse(t, rec, response{503, "", "7", "temporarily_unavailable"})

	rec = httptest.NewRecorder()
	New(fv, Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusTeapot)
	}})(RequireScopes("x")(okHandler)).ServeHTTP(rec, request("Bearer "+testToken))
	if rec.Code != http.StatusTeapot {
		t.Errorf("status = %d, want the custom handler's 418", rec.Code)
	}
}

func TestRequirePanics(t *testing.T) {
	mustPanic(t, "RequireScopes()", func() { RequireScopes() })
	mustPanic(t, "RequireScopes empty", func() { RequireScopes("a", "") })
	mustPanic(t, "RequireScopes space", func() { RequireScopes("a b") })
	mustPanic(t, "RequireScopes quote", func() { RequireScopes(`a"`) })
	mustPanic(t, "RequireGroups()", func() { RequireGroups() })
	mustPanic(t, "RequireGroups empty", func() { RequireGroups("") })
	mustPanic(t, "Require(nil)", func() { Require(nil) })
	mustPanic(t, "nil next", func() { RequireGroups("a")(nil) })
}

// TestRequireScopesCopiesArgs: changing the caller's slice afterwards
// does not change the requirement.
func TestRequireScopesCopiesArgs(t *testing.T) {
	scopes := []string{"read"}
	mw := RequireScopes(scopes...)
	scopes[0] = "none"
	fv := &fakeVerifier{claims: &cognitoguard.Claims{Scopes: []string{"none"}}}
	rec := httptest.NewRecorder()
	New(fv, Config{})(mw(okHandler)).ServeHTTP(rec, request("Bearer "+testToken))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", rec.Code)
	}
}

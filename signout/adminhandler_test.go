package signout_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// adminCase is a case of TestAdminHandler: root (group admin) or bob
// (no group) asks to sign out the user of the path.
type adminCase struct {
	name      string
	method    string
	caller    string // "root", "bob", "ops" or "" (no middleware in front)
	target    func(e *env, bob, fed cognitotest.User) string
	cfg       signout.AdminConfig
	failStore bool
	setup     func(e *env)
	status    int
	bodyHas   string
	recorded  bool  // bob's sign-out is in the store
	cognito   bool  // Cognito signed bob out
	handled   error // what ErrorHandler receives (errors.Is); nil: not called
}

func byName(name string) func(*env, cognitotest.User, cognitotest.User) string {
	return func(*env, cognitotest.User, cognitotest.User) string { return name }
}

func TestAdminHandler(t *testing.T) {
	bobName := byName("bob")
	tests := []adminCase{
		{name: "admin signs bob out: 204", caller: "root", target: bobName, status: 204, recorded: true, cognito: true},
		{name: "by sub: 204", caller: "root", target: func(_ *env, bob, _ cognitotest.User) string { return bob.Sub },
			status: 204, recorded: true, cognito: true},
		{name: "federated user by username: 204", caller: "root",
			target: func(_ *env, _, fed cognitotest.User) string { return fed.Username }, status: 204},
		{name: "GET: 405", method: http.MethodGet, caller: "root", target: bobName, status: 405, bodyHas: "method_not_allowed"},
		{name: "not an admin: 403", caller: "bob", target: bobName, status: 403, bodyHas: "insufficient_scope",
			handled: cognitoguard.ErrInsufficientScope},
		{name: "configured group: 204", caller: "ops", target: bobName, cfg: signout.AdminConfig{Groups: []string{"ops", "sre"}},
			status: 204, recorded: true, cognito: true},
		{name: "configured group, admin not in it: 403", caller: "root", target: bobName,
			cfg: signout.AdminConfig{Groups: []string{"ops"}}, status: 403, handled: cognitoguard.ErrInsufficientScope},
		{name: "no middleware in front: 401", caller: "", target: bobName, status: 401, handled: cognitoguard.ErrNoToken},
		{name: "unknown user: 404", caller: "root", target: byName("nobody"), status: 404, bodyHas: "user_not_found",
			handled: signout.ErrUserNotFound},
		{name: "a federated user's sub: 404", caller: "root",
			target: func(_ *env, _, fed cognitotest.User) string { return fed.Sub }, status: 404, handled: signout.ErrUserNotFound},
		{name: "store fails: 503, Cognito called", caller: "root", target: bobName, failStore: true, status: 503,
			bodyHas: "temporarily_unavailable", cognito: true, handled: signout.ErrStore},
		{name: "Cognito fails: 502, recorded", caller: "root", target: bobName,
			setup:  func(e *env) { e.pool.FailNext("AdminUserGlobalSignOut", "InternalErrorException", 500, 5) },
			status: 502, bodyHas: "sign_out_incomplete", recorded: true, handled: signout.ErrCognito},
		{name: "user not resolved, Cognito throttles: 502, nothing done", caller: "root", target: bobName,
			setup:  func(e *env) { e.pool.FailNext("AdminGetUser", "TooManyRequestsException", 400, 5) },
			status: 502, bodyHas: "identity_provider_error", handled: signout.ErrTooManyRequests},
	}
	for _, tc := range tests {
		for _, custom := range []bool{false, true} {
			name := tc.name
			if custom {
				name += "/ErrorHandler"
			}
			t.Run(name, func(t *testing.T) { testAdminCase(t, tc, custom) })
		}
	}
}

func testAdminCase(t *testing.T, tc adminCase, custom bool) {
	var o envOptions
	if tc.failStore {
		o.recorder = func(m *revocation.Memory) signout.Recorder { return &failingRecorder{Memory: m, err: errStoreDown} }
	}
	e := newEnv(t, o)
	e.pool.AddUser(cognitotest.User{Username: "root", Groups: []string{"admin"}})
	e.pool.AddUser(cognitotest.User{Username: "ops", Groups: []string{"ops"}})
	bob := e.pool.AddUser(cognitotest.User{Username: "bob"})
	fed := e.googleUser("1047")
	bobTokens := e.pool.SignIn("bob")
	var handled error
	calls := 0
	cfg := tc.cfg
	if custom {
		cfg.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
			calls++
			handled = err
			w.WriteHeader(599)
		}
	}
	var h http.Handler = signout.NewAdminHandler(e.so, cfg)
	if tc.caller != "" {
		h = middleware.New(e.verifier, middleware.Config{})(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/users/{username}/signout", h)
	if tc.setup != nil {
		tc.setup(e)
	}
	e.clock.Advance(time.Second)
	method := tc.method
	if method == "" {
		method = http.MethodPost
	}
	r := httptest.NewRequestWithContext(t.Context(), method, "/admin/users/"+tc.target(e, bob, fed)+"/signout", nil)
	if tc.caller != "" {
		r.Header.Set("Authorization", "Bearer "+e.pool.AccessToken(tc.caller))
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)

	status := tc.status
	if custom && tc.handled != nil {
		status = 599
	}
	if rec.Code != status {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, status, rec.Body.String())
	}
	if !custom && !strings.Contains(rec.Body.String(), tc.bodyHas) {
		t.Errorf("body %q lacks %q", rec.Body.String(), tc.bodyHas)
	}
	if got := rec.Header().Get("Retry-After"); !custom && (got != "") != (tc.status == 503) {
		t.Errorf("Retry-After = %q with status %d", got, tc.status)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	if _, ok := e.signedOutAt(t, bob.Sub); ok != tc.recorded {
		t.Errorf("bob's sign-out recorded: %v, want %v", ok, tc.recorded)
	}
	if _, ok := e.pool.SignedOutAt(bob.Sub); ok != tc.cognito {
		t.Errorf("Cognito signed bob out: %v, want %v", ok, tc.cognito)
	}
	if tc.recorded {
		e.wantVerify(t, "bob's token", bobTokens.AccessToken, cognitoguard.ErrRevoked)
	}
	if tc.status == 204 && strings.HasPrefix(tc.name, "federated") {
		if _, ok := e.signedOutAt(t, fed.Sub); !ok {
			t.Error("the federated user's sign-out is not recorded")
		}
	}
	switch {
	case !custom:
	case tc.handled == nil && calls != 0:
		t.Errorf("ErrorHandler called with %v", handled)
	case tc.handled != nil && (calls != 1 || !errors.Is(handled, tc.handled)):
		t.Errorf("ErrorHandler called %d times with %v, want once with %v", calls, handled, tc.handled)
	}
}

func TestAdminHandlerRevokedAdmin(t *testing.T) {
	// A signed-out administrator's token is refused by the middleware in
	// front: it can no longer sign anybody out.
	e := newEnv(t, envOptions{})
	e.pool.AddUser(cognitotest.User{Username: "root", Groups: []string{"admin"}})
	bob := e.pool.AddUser(cognitotest.User{Username: "bob"})
	tok := e.pool.AccessToken("root")
	e.clock.Advance(time.Second)
	if _, err := e.so.AdminSignOut(t.Context(), "root"); err != nil {
		t.Fatal(err)
	}
	h := middleware.New(e.verifier, middleware.Config{})(signout.NewAdminHandler(e.so, signout.AdminConfig{}))
	mux := http.NewServeMux()
	mux.Handle("POST /admin/users/{username}/signout", h)
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/admin/users/bob/signout", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", rec.Code)
	}
	if _, ok := e.signedOutAt(t, bob.Sub); ok {
		t.Error("bob was signed out")
	}
}

func TestNewAdminHandlerPanics(t *testing.T) {
	e := newEnv(t, envOptions{})
	for name, f := range map[string]func(){
		"nil helper":  func() { signout.NewAdminHandler(nil, signout.AdminConfig{}) },
		"empty group": func() { signout.NewAdminHandler(e.so, signout.AdminConfig{Groups: []string{"admin", ""}}) },
		"helper without a pool": func() {
			so, err := signout.New(e.client, nil, e.store, signout.Config{})
			if err != nil {
				t.Fatal(err)
			}
			signout.NewAdminHandler(so, signout.AdminConfig{})
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestAdminHandlerCallerOfAnotherPool(t *testing.T) {
	// A Verifier of two pools lets both pools' users through the
	// middleware; an "admin" of pool B must not sign out a user of pool A,
	// which the Helper administers with the service's IAM rights.
	clock := newClock()
	a := cognitotest.NewPool(cognitotest.Config{Now: clock.Now, PoolID: "eu-west-1_PoolA"})
	t.Cleanup(a.Close)
	b := cognitotest.NewPool(cognitotest.Config{Now: clock.Now, PoolID: "eu-west-1_PoolB"})
	t.Cleanup(b.Close)
	store := revocation.NewMemory(revocation.MemoryConfig{Now: clock.Now})
	var pools []cognitoguard.Pool
	for _, p := range []*cognitotest.Pool{a, b} {
		pools = append(pools, cognitoguard.Pool{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{p.ClientID()}})
	}
	v, err := cognitoguard.New(pools, cognitoguard.Config{Revocation: store, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	so, err := signout.New(newClient(a), v, store, signout.Config{UserPoolID: a.PoolID(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	bob := a.AddUser(cognitotest.User{Username: "bob"})
	a.AddUser(cognitotest.User{Username: "root", Groups: []string{"admin"}})
	b.AddUser(cognitotest.User{Username: "root", Groups: []string{"admin"}})
	var handled error
	h := middleware.New(v, middleware.Config{})(signout.NewAdminHandler(so, signout.AdminConfig{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			handled = err
			middleware.WriteError(w, r, err, "")
		},
	}))
	mux := http.NewServeMux()
	mux.Handle("POST /admin/users/{username}/signout", h)
	post := func(caller *cognitotest.Pool) *httptest.ResponseRecorder {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/admin/users/bob/signout", nil)
		r.Header.Set("Authorization", "Bearer "+caller.AccessToken("root"))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		return rec
	}
	clock.Advance(time.Second)
	if rec := post(b); rec.Code != http.StatusForbidden || !errors.Is(handled, cognitoguard.ErrInsufficientScope) {
		t.Fatalf("admin of pool B: status %d, error %v; want 403 and ErrInsufficientScope", rec.Code, handled)
	}
	if n := a.Calls("AdminUserGlobalSignOut"); n != 0 {
		t.Errorf("AdminUserGlobalSignOut called %d times for a caller of another pool", n)
	}
	if _, ok, _ := store.SignedOutAt(t.Context(), a.PoolID(), bob.Sub); ok {
		t.Error("bob's sign-out was recorded for a caller of another pool")
	}
	if rec := post(a); rec.Code != http.StatusNoContent {
		t.Fatalf("admin of pool A: status %d, want 204", rec.Code)
	}
}

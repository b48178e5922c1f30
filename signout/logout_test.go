package signout_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

var _ signout.SignOuter = (*signout.Helper)(nil)

// logoutEnv wires the handler to a fake pool through the real SDK.
type logoutEnv struct {
	pool     *cognitotest.Pool
	store    *revocation.Memory
	verifier *cognitoguard.Verifier
	so       *signout.Helper
}

// failingStore fails every write.
type failingStore struct{ *revocation.Memory }

func (failingStore) RevokeUser(context.Context, string, string, time.Time) error {
	return errors.New("store down (test)")
}

func (failingStore) RevokeUserSince(context.Context, string, string, time.Time, time.Time) (time.Time, bool, error) {
	return time.Time{}, false, errors.New("store down (test)")
}

func newLogoutEnv(t *testing.T, failStore bool) *logoutEnv {
	t.Helper()
	clk := newClock()
	e := &logoutEnv{}
	e.pool = cognitotest.NewPool(cognitotest.Config{Now: clk.Now})
	t.Cleanup(e.pool.Close)
	e.store = revocation.NewMemory(revocation.MemoryConfig{Now: clk.Now})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()}, ClientIDs: []string{e.pool.ClientID()}}}, cognitoguard.Config{Revocation: e.store, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	e.verifier = v
	client := e.pool.Client()
	var rec signout.Recorder = e.store
	if failStore {
		rec = failingStore{e.store}
	}
	e.so, err = signout.New(client, v, rec, signout.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// logoutWant is the expected outcome of a logout request.
type logoutWant struct {
	status      int
	challenge   string // WWW-Authenticate prefix, if any
	location    string
	retryAfter  bool
	cleared     bool // the cookies were expired
	signedOut   bool // Cognito signed the user out (and the store recorded it, unless failStore)
	cognitoCall bool
	bodyHas     string
	handled     error // what LogoutConfig.ErrorHandler receives (errors.Is); nil: not called
}

// logoutCase is a case of TestLogoutHandler.
type logoutCase struct {
	name      string
	method    string
	cfg       signout.LogoutConfig
	failStore bool
	setup     func(e *logoutEnv)
	auth      func(e *logoutEnv, tok string, r *http.Request)
	want      logoutWant
}

func TestLogoutHandler(t *testing.T) {
	const redirect = "https://auth.example.com/logout?client_id=c&logout_uri=https%3A%2F%2Fapp.example.com%2F"
	tests := []logoutCase{
		{
			name: "bearer token: 204",
			auth: bearer,
			want: logoutWant{status: 204, cleared: true, signedOut: true, cognitoCall: true},
		},
		{
			name: "redirect: 303",
			cfg:  signout.LogoutConfig{RedirectURL: redirect},
			auth: bearer,
			want: logoutWant{status: 303, location: redirect, cleared: true, signedOut: true, cognitoCall: true},
		},
		{
			name:   "GET: 405",
			method: http.MethodGet,
			auth:   bearer,
			want:   logoutWant{status: 405, bodyHas: "method_not_allowed"},
		},
		{
			name: "no token: 401",
			auth: func(*logoutEnv, string, *http.Request) {},
			want: logoutWant{status: 401, challenge: `Bearer realm="api"`, cleared: true, handled: cognitoguard.ErrNoToken},
		},
		{
			name: "forged token: 401, nobody signed out",
			auth: func(e *logoutEnv, _ string, r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+e.pool.AccessToken("alice", cognitotest.WithSigningKey(e.pool.IDSigningKey())))
			},
			want: logoutWant{status: 401, challenge: `Bearer realm="api", error="invalid_token"`, cleared: true, handled: cognitoguard.ErrInvalidToken},
		},
		{
			name: "ID token: 401",
			auth: func(e *logoutEnv, _ string, r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+e.pool.IDToken("alice"))
			},
			want: logoutWant{status: 401, challenge: `Bearer realm="api", error="invalid_token"`, cleared: true, handled: cognitoguard.ErrInvalidToken},
		},
		{
			name: "Cognito fails: 502, record kept",
			setup: func(e *logoutEnv) {
				e.pool.FailNext("GlobalSignOut", "InternalErrorException", 500, 1)
			},
			auth: bearer,
			want: logoutWant{status: 502, cleared: true, cognitoCall: true, bodyHas: "sign_out_incomplete", handled: signout.ErrCognito},
		},
		{
			name:      "store fails: 503, Cognito called",
			failStore: true,
			auth:      bearer,
			want:      logoutWant{status: 503, retryAfter: true, cleared: true, signedOut: true, cognitoCall: true, bodyHas: "temporarily_unavailable", handled: signout.ErrStore},
		},
		{
			name: "keys unavailable: 503",
			setup: func(e *logoutEnv) {
				e.pool.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
			},
			auth: bearer,
			want: logoutWant{status: 503, retryAfter: true, cleared: true, handled: cognitoguard.ErrUnavailable},
		},
		{
			name: "cookie, same origin: 204",
			cfg:  signout.LogoutConfig{Cookie: "__Host-access"},
			auth: func(_ *logoutEnv, tok string, r *http.Request) {
				r.AddCookie(&http.Cookie{Name: "__Host-access", Value: tok})
				r.Header.Set("Sec-Fetch-Site", "same-origin")
			},
			want: logoutWant{status: 204, cleared: true, signedOut: true, cognitoCall: true},
		},
		{
			name: "cookie, not a browser: 204",
			cfg:  signout.LogoutConfig{Cookie: "__Host-access"},
			auth: func(_ *logoutEnv, tok string, r *http.Request) {
				r.AddCookie(&http.Cookie{Name: "__Host-access", Value: tok})
			},
			want: logoutWant{status: 204, cleared: true, signedOut: true, cognitoCall: true},
		},
		{
			name: "cookie, cross-site: 403, nothing done",
			cfg:  signout.LogoutConfig{Cookie: "__Host-access"},
			auth: func(_ *logoutEnv, tok string, r *http.Request) {
				r.AddCookie(&http.Cookie{Name: "__Host-access", Value: tok})
				r.Header.Set("Sec-Fetch-Site", "cross-site")
				r.Header.Set("Origin", "https://evil.example")
			},
			want: logoutWant{status: 403, bodyHas: "cross_origin", handled: signout.ErrCrossOrigin},
		},
		{
			name: "bearer, cross-site: signed out, cookies kept",
			cfg:  signout.LogoutConfig{Cookie: "__Host-access"},
			auth: func(_ *logoutEnv, tok string, r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+tok)
				r.Header.Set("Sec-Fetch-Site", "cross-site")
			},
			want: logoutWant{status: 204, signedOut: true, cognitoCall: true},
		},
		{
			name: "cookie and Basic header, cross-site: 401, cookies kept",
			cfg:  signout.LogoutConfig{Cookie: "__Host-access"},
			auth: func(_ *logoutEnv, tok string, r *http.Request) {
				// A browser attaches cached Basic credentials by itself.
				r.AddCookie(&http.Cookie{Name: "__Host-access", Value: tok})
				r.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
				r.Header.Set("Sec-Fetch-Site", "cross-site")
				r.Header.Set("Origin", "https://evil.example")
			},
			want: logoutWant{status: 401, challenge: `Bearer realm="api"`, handled: cognitoguard.ErrNoToken},
		},
		{
			name: "cookie and forged bearer, cross-site: 401, cookies kept",
			cfg:  signout.LogoutConfig{Cookie: "__Host-access"},
			auth: func(e *logoutEnv, tok string, r *http.Request) {
				r.AddCookie(&http.Cookie{Name: "__Host-access", Value: tok})
				r.Header.Set("Authorization", "Bearer "+e.pool.AccessToken("alice", cognitotest.WithSigningKey(e.pool.IDSigningKey())))
				r.Header.Set("Origin", "https://evil.example")
			},
			want: logoutWant{status: 401, challenge: `Bearer realm="api", error="invalid_token"`, handled: cognitoguard.ErrInvalidToken},
		},
		{
			name: "no cookie token configured, cross-site: 403, cookies kept",
			auth: func(_ *logoutEnv, _ string, r *http.Request) {
				r.Header.Set("Sec-Fetch-Site", "cross-site")
			},
			want: logoutWant{status: 403, bodyHas: "cross_origin", handled: signout.ErrCrossOrigin},
		},
		{
			name: "custom extractor, cross-site: signed out, cookies kept",
			cfg: signout.LogoutConfig{Extractor: func(r *http.Request) (string, error) {
				return r.Header.Get("X-Token"), nil
			}},
			auth: func(_ *logoutEnv, tok string, r *http.Request) {
				r.Header.Set("X-Token", tok)
				r.Header.Set("Sec-Fetch-Site", "cross-site")
			},
			want: logoutWant{status: 204, signedOut: true, cognitoCall: true},
		},
		{
			name: "two cookies: 401",
			cfg:  signout.LogoutConfig{Cookie: "__Host-access"},
			auth: func(_ *logoutEnv, tok string, r *http.Request) {
				r.AddCookie(&http.Cookie{Name: "__Host-access", Value: tok})
				r.AddCookie(&http.Cookie{Name: "__Host-access", Value: tok})
			},
			want: logoutWant{status: 401, challenge: `Bearer realm="api", error="invalid_request"`, cleared: true, handled: cognitoguard.ErrInvalidRequest},
		},
		{
			name: "custom extractor",
			cfg: signout.LogoutConfig{Extractor: func(r *http.Request) (string, error) {
				return r.Header.Get("X-Token"), nil
			}},
			auth: func(_ *logoutEnv, tok string, r *http.Request) { r.Header.Set("X-Token", tok) },
			want: logoutWant{status: 204, cleared: true, signedOut: true, cognitoCall: true},
		},
	}
	for _, tc := range tests {
		for _, custom := range []bool{false, true} {
			name := tc.name
			if custom {
				name += "/ErrorHandler"
			}
			t.Run(name, func(t *testing.T) {
				testLogoutCase(t, tc, custom)
			})
		}
	}
}

// testLogoutCase runs one case of TestLogoutHandler; with custom, through
// an ErrorHandler that answers 599, which must see every failure (and
// only failures), with the cookies already cleared.
func testLogoutCase(t *testing.T, tc logoutCase, custom bool) {
	want := tc.want
	var handled error
	calls := 0
	if custom {
		tc.cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			calls++
			handled = err
			w.WriteHeader(599)
		}
		if want.handled != nil {
			want = logoutWant{status: 599, cleared: want.cleared, signedOut: want.signedOut,
				cognitoCall: want.cognitoCall, handled: want.handled}
		}
	}
	e := newLogoutEnv(t, tc.failStore)
	u := e.pool.AddUser(cognitotest.User{Username: "alice"})
	tok := e.pool.SignIn("alice").AccessToken
	if tc.setup != nil {
		tc.setup(e)
	}
	cfg := tc.cfg
	cfg.ClearCookies = []string{"__Host-id", "__Host-refresh"}
	h := signout.NewLogoutHandler(e.so, cfg)
	method := tc.method
	if method == "" {
		method = http.MethodPost
	}
	r := httptest.NewRequestWithContext(t.Context(), method, "https://app.example.com/logout", nil)
	tc.auth(e, tok, r)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)

	res := rec.Result()
	if res.StatusCode != want.status {
		t.Fatalf("status = %d, want %d (body %q)", res.StatusCode, want.status, rec.Body.String())
	}
	if got := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, want.challenge) || (want.challenge == "") != (got == "") {
		t.Errorf("WWW-Authenticate = %q, want prefix %q", got, want.challenge)
	}
	if got := res.Header.Get("Location"); got != want.location {
		t.Errorf("Location = %q, want %q", got, want.location)
	}
	if got := res.Header.Get("Retry-After"); (got != "") != want.retryAfter {
		t.Errorf("Retry-After = %q, want set: %v", got, want.retryAfter)
	}
	if want.status == 405 && res.Header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q, want POST", res.Header.Get("Allow"))
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	checkCleared(t, res, want.cleared, append([]string{cfg.Cookie}, cfg.ClearCookies...))
	if !strings.Contains(rec.Body.String(), want.bodyHas) {
		t.Errorf("body %q lacks %q", rec.Body.String(), want.bodyHas)
	}
	if strings.Contains(rec.Body.String(), tok) || strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), ";"), tok) {
		t.Error("the token was echoed")
	}
	if _, ok := e.pool.SignedOutAt(u.Sub); ok != tc.want.signedOut && tc.want.status != 502 { // 502: Cognito failed after the record
		t.Errorf("Cognito signed out: %v, want %v", ok, want.signedOut)
	}
	if got := e.pool.Calls("GlobalSignOut") > 0; got != want.cognitoCall {
		t.Errorf("Cognito called: %v, want %v", got, want.cognitoCall)
	}
	_, recorded, _ := e.store.SignedOutAt(t.Context(), e.pool.PoolID(), u.Sub)
	wantRecorded := (tc.want.signedOut && !tc.failStore) || tc.want.status == 502 // the case, not the 599 stand-in
	if recorded != wantRecorded {
		t.Errorf("recorded: %v, want %v", recorded, wantRecorded)
	}
	if wantRecorded {
		if _, err := e.verifier.Verify(t.Context(), tok); !errors.Is(err, cognitoguard.ErrRevoked) {
			t.Errorf("token after logout: %v, want revoked", err)
		}
	}
	if custom {
		switch {
		case want.handled == nil && calls != 0:
			t.Errorf("ErrorHandler called with %v, want not called", handled)
		case want.handled != nil && (calls != 1 || !errors.Is(handled, want.handled)):
			t.Errorf("ErrorHandler called %d times with %v, want once with %v", calls, handled, want.handled)
		}
	}
}

func bearer(_ *logoutEnv, tok string, r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }

// checkCleared checks that the response expires exactly the named
// cookies (empty names skipped), with the __Host- attributes, or none.
func checkCleared(t *testing.T, res *http.Response, want bool, names []string) {
	t.Helper()
	got := make(map[string]*http.Cookie)
	for _, c := range res.Cookies() {
		got[c.Name] = c
	}
	if !want {
		if len(got) != 0 {
			t.Errorf("cookies set: %v, want none", res.Header.Values("Set-Cookie"))
		}
		return
	}
	n := 0
	for _, name := range names {
		if name == "" {
			continue
		}
		n++
		c := got[name]
		switch {
		case c == nil:
			t.Errorf("cookie %s not cleared", name)
		case c.MaxAge >= 0 || c.Value != "" || c.Path != "/" || c.Domain != "" || !c.Secure || !c.HttpOnly:
			t.Errorf("cookie %s cleared as %q", name, c.Raw)
		}
	}
	if len(got) != n {
		t.Errorf("cookies set: %v, want %v", res.Header.Values("Set-Cookie"), names)
	}
}

func TestLogoutHandlerRetry(t *testing.T) {
	// A double click: the second sign-out of the same token succeeds too.
	e := newLogoutEnv(t, false)
	e.pool.AddUser(cognitotest.User{Username: "alice"})
	tok := e.pool.SignIn("alice").AccessToken
	h := signout.NewLogoutHandler(e.so, signout.LogoutConfig{})
	for i := range 2 {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/logout", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("attempt %d: status %d, body %q", i+1, rec.Code, rec.Body.String())
		}
	}
	if n := e.pool.Calls("GlobalSignOut"); n != 2 {
		t.Errorf("GlobalSignOut calls = %d, want 2", n)
	}
}

// signOuterFunc adapts a function to SignOuter.
type signOuterFunc func(context.Context, string) error

func (f signOuterFunc) GlobalSignOut(ctx context.Context, tok string) error { return f(ctx, tok) }

func TestLogoutHandlerErrorClasses(t *testing.T) {
	// The answer depends on the error's class only, never its text.
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"store", &signout.Error{Op: "GlobalSignOut", Sub: "s", Store: errors.New("x")}, 503},
		{"store and Cognito", &signout.Error{Op: "GlobalSignOut", Sub: "s", Store: errors.New("x"),
			Cognito: signout.MapCognitoError(errors.New("y"))}, 503},
		{"Cognito", &signout.Error{Op: "GlobalSignOut", Sub: "s", Recorded: true,
			Cognito: signout.MapCognitoError(errors.New("y"))}, 502},
		{"wrapped Cognito", errorsJoin(errors.New("ctx"), &signout.Error{Op: "GlobalSignOut", Sub: "s",
			Cognito: signout.MapCognitoError(errors.New("y"))}), 502},
		{"revoked token", &cognitoguard.Error{Kind: cognitoguard.ErrRevoked}, 401},
		{"unavailable", &cognitoguard.Error{Kind: cognitoguard.ErrUnavailable}, 503},
		{"unknown error", errors.New("boom"), 503},
		{"context canceled", context.Canceled, 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := signout.NewLogoutHandler(signOuterFunc(func(context.Context, string) error { return tc.err }),
				signout.LogoutConfig{RetryAfter: 3 * time.Second})
			r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/logout", nil)
			r.Header.Set("Authorization", "Bearer abc.def.ghi")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			if tc.status == 503 && rec.Header().Get("Retry-After") != "3" {
				t.Errorf("Retry-After = %q, want 3", rec.Header().Get("Retry-After"))
			}
			if strings.Contains(rec.Body.String(), tc.err.Error()) {
				t.Errorf("body %q echoes the error", rec.Body.String())
			}
		})
	}
}

func errorsJoin(errs ...error) error { return errors.Join(errs...) }

func TestNewLogoutHandlerPanicsOnNil(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	signout.NewLogoutHandler(nil, signout.LogoutConfig{})
}

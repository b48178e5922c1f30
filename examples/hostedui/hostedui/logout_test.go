package hostedui_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/examples/hostedui/hostedui"
)

// sessionCookie returns the browser's session cookie of the app.
func (e *env) sessionCookie(t *testing.T, b *browser) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(e.appURL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "hostedui-session" {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// TestLogoutRefusals: a sign-out is a same-origin POST. GET is 405; a
// cross-site POST (a form of another site) is 403 and signs nobody out;
// neither touches the session.
func TestLogoutRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := newBrowser(t)
	e.signIn(t, b, username, password)
	session := e.sessionCookie(t, b)
	for _, tc := range []struct {
		name, method string
		header       map[string]string
		want         int
	}{
		{"GET", "GET", nil, http.StatusMethodNotAllowed},
		{"cross-site form", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin", "POST", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, e.appURL+"/logout", nil)
			req.AddCookie(session)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			e.app.ServeHTTP(w, req)
			if w.Code != tc.want || len(w.Result().Cookies()) != 0 {
				t.Errorf("%d %v, want %d and no cookie", w.Code, w.Result().Cookies(), tc.want)
			}
		})
	}
	user, _ := e.pool.User(username)
	if _, ok := e.pool.SignedOutAt(user.Sub); ok {
		t.Error("a refused sign-out reached Cognito")
	}
	if p := b.get(e.appURL + "/"); !strings.Contains(p.body, "Signed in as") {
		t.Error("a refused sign-out ended the session")
	}
}

// TestLogoutWithoutSession: a browser without a session is still sent to
// the managed login's logout, whose cookie may outlive the app's session.
func TestLogoutWithoutSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	w := httptest.NewRecorder()
	e.app.ServeHTTP(w, httptest.NewRequest("POST", e.appURL+"/logout", nil))
	loc, err := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || err != nil || loc.Scheme+"://"+loc.Host+loc.Path != e.domain+"/logout" ||
		loc.Query().Get("client_id") != clientID || loc.Query().Get("logout_uri") != e.appURL+"/" {
		t.Errorf("%d to %q, want 303 to %s/logout", w.Code, w.Header().Get("Location"), e.domain)
	}
}

// TestLogoutNotRecorded: when the sign-out cannot be recorded, the
// session is kept and the page says so (the user's tokens may still be
// accepted); the retry records it, Cognito's "already revoked" counting
// as done.
func TestLogoutNotRecorded(t *testing.T) {
	st := &failingStore{}
	e := newEnv(t, envOptions{cfg: func(c *hostedui.Config) { st.Store = c.Store; c.Store = st }})
	b := newBrowser(t)
	e.signIn(t, b, username, password)
	st.fail.Store(true)
	p := b.post(e.appURL+"/logout", nil)
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "could not be recorded") {
		t.Fatalf("sign-out with the store down: %d %s", p.status, p.body)
	}
	st.fail.Store(false)
	if p := b.get(e.appURL + "/"); !strings.Contains(p.body, "Signed in as") {
		t.Fatalf("the session did not survive the failed sign-out: %s", p.body)
	}
	if p := b.post(e.appURL+"/logout", nil); p.url.String() != e.appURL+"/" || !strings.Contains(p.body, `id="signin"`) {
		t.Fatalf("retried sign-out: %s %s", p.url, p.body)
	}
}

// TestScopeNotGranted: an app client that does not allow
// aws.cognito.signin.user.admin (GlobalSignOut needs it) gets an error
// from the managed login, shown as a page without its text.
func TestScopeNotGranted(t *testing.T) {
	e := newEnv(t, envOptions{scopes: []string{"openid", "email"}})
	b := newBrowser(t)
	p := b.get(e.appURL + "/login")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "refused this sign-in") || strings.Contains(p.body, "invalid_scope") {
		t.Errorf("sign-in without the scope: %d %s", p.status, p.body)
	}
	if !strings.Contains(e.logs.String(), "error=invalid_scope") {
		t.Error("the managed login's error was not logged")
	}
}

// TestNewRefuses: configurations that would put cookies or tokens on the
// wire in clear, or that signout.LogoutURL refuses.
func TestNewRefuses(t *testing.T) {
	base := hostedui.Config{UserPoolID: "eu-west-1_AbCdEf123", ClientID: "web", Domain: "https://auth.example.com",
		PublicURL: "https://app.example.com", APIURL: "https://api.example.com"}
	for _, tc := range []struct {
		name string
		mod  func(*hostedui.Config)
	}{
		{"no client", func(c *hostedui.Config) { c.ClientID = "" }},
		{"no domain", func(c *hostedui.Config) { c.Domain = "" }},
		{"http public URL", func(c *hostedui.Config) { c.PublicURL = "http://app.example.com" }},
		{"public URL with path", func(c *hostedui.Config) { c.PublicURL = "https://app.example.com/x" }},
		{"http domain", func(c *hostedui.Config) { c.Domain = "http://auth.example.com" }},
		{"http domain by IP", func(c *hostedui.Config) { c.Domain = "http://127.0.0.1:9229" }},
		{"domain with port", func(c *hostedui.Config) { c.Domain = "https://auth.example.com:8443" }},
		{"domain host only", func(c *hostedui.Config) { c.Domain = "auth.example.com" }},
		{"API URL with query", func(c *hostedui.Config) { c.APIURL = "https://api.example.com?x" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mod(&cfg)
			if app, err := hostedui.New(cfg); err == nil {
				app.Close()
				t.Errorf("New(%+v) accepted", cfg)
			}
		})
	}
	if app, err := hostedui.New(base); err != nil {
		t.Errorf("New(base): %v", err)
	} else {
		app.Close()
	}
}

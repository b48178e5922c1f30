package hostedui_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/examples/hostedui/hostedui"
)

// TestLoginRedirect: GET /login sends the browser to the managed login
// with PKCE S256, the scopes, a fresh state, and keeps state and verifier
// in a login cookie that is HttpOnly, SameSite=Lax and, over https,
// Secure and __Host- prefixed.
func TestLoginRedirect(t *testing.T) {
	for _, tc := range []struct {
		publicURL, cookie string
		secure            bool
	}{
		{"https://app.example.com", "__Host-hostedui-login", true},
		{"http://127.0.0.1:8080", "hostedui-login", false},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			app, err := hostedui.New(hostedui.Config{UserPoolID: "eu-west-1_AbCdEf123", ClientID: "web",
				Domain: "https://auth.example.com", PublicURL: tc.publicURL, APIURL: "http://127.0.0.1:8081"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { app.Close() })
			states := map[string]bool{}
			for range 2 {
				w := httptest.NewRecorder()
				app.ServeHTTP(w, httptest.NewRequest("GET", tc.publicURL+"/login", nil))
				loc, err := url.Parse(w.Header().Get("Location"))
				if w.Code != http.StatusSeeOther || err != nil {
					t.Fatalf("GET /login: %d %q", w.Code, w.Header().Get("Location"))
				}
				q := loc.Query()
				if loc.Scheme+"://"+loc.Host+loc.Path != "https://auth.example.com/oauth2/authorize" ||
					q.Get("response_type") != "code" || q.Get("client_id") != "web" ||
					q.Get("redirect_uri") != tc.publicURL+"/callback" || q.Get("scope") != "openid "+hostedui.UserAdminScope ||
					q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 43 {
					t.Errorf("authorize URL %s", loc)
				}
				states[q.Get("state")] = true
				cs := w.Result().Cookies()
				if len(cs) != 1 {
					t.Fatalf("cookies %v, want the login cookie", cs)
				}
				c := cs[0]
				if c.Name != tc.cookie || c.Secure != tc.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
					c.Path != "/" || c.MaxAge != 600 || !strings.HasPrefix(c.Value, q.Get("state")+".") {
					t.Errorf("login cookie %+v", c)
				}
				if strings.Contains(loc.String(), strings.TrimPrefix(c.Value, q.Get("state")+".")) {
					t.Error("the PKCE verifier is in the authorize URL")
				}
			}
			if len(states) != 2 {
				t.Error("two sign-ins got the same state")
			}
		})
	}
}

// TestCallbackRefusals: a callback without the login cookie, with another
// state, an error from the managed login, no code, a code already used or
// a verifier that is not the challenge's starts no session, and the login
// cookie is spent.
func TestCallbackRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	capture := func() (string, string, string) { return e.capture(t) }
	state, cookie, code := capture()
	verifier := cookie[strings.Index(cookie, ".")+1:]
	used := func() string { // a code redeemed once already
		s, c, code := capture()
		e.callback(t, c, url.Values{"state": {s}, "code": {code}})
		return code
	}()
	s2, c2, code2 := capture()

	for _, tc := range []struct {
		name   string
		cookie string
		q      url.Values
		want   int
	}{
		{"no login cookie", "", url.Values{"state": {state}, "code": {code}}, 400},
		{"malformed cookie", "x", url.Values{"state": {"x"}, "code": {code}}, 400},
		{"other state", cookie, url.Values{"state": {"other"}, "code": {code}}, 400},
		{"no state", cookie, url.Values{"code": {code}}, 400},
		{"error", cookie, url.Values{"state": {state}, "error": {"access_denied"}, "error_description": {"<script>"}}, 400},
		{"no code", cookie, url.Values{"state": {state}}, 400},
		{"used code", cookie, url.Values{"state": {state}, "code": {used}}, 400},
		{"other verifier", state + "." + strings.Repeat("A", len(verifier)), url.Values{"state": {state}, "code": {code}}, 400},
		{"another sign-in's cookie", c2, url.Values{"state": {state}, "code": {code2}}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := e.callback(t, tc.cookie, tc.q)
			if res.StatusCode != tc.want || strings.Contains(body, "<script>") {
				t.Errorf("%d %s, want %d", res.StatusCode, body, tc.want)
			}
			for _, c := range res.Cookies() {
				if c.Name == "hostedui-session" || (c.Name == "hostedui-login" && c.MaxAge >= 0) {
					t.Errorf("cookie set: %+v", c)
				}
			}
		})
	}
	if n, _ := e.app.Sessions(); n != 1 { // the "used" one
		t.Errorf("%d sessions, want 1", n)
	}
	// The genuine pair still works (the refusals burnt nothing but what
	// they redeemed): the other verifier burnt code, so use s2's.
	if res, _ := e.callback(t, c2, url.Values{"state": {s2}, "code": {code2}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the genuine callback: %d", res.StatusCode)
	}
}

// capture starts a sign-in at the app and signs in at the managed login,
// stopping before the callback: it returns the state, the login cookie's
// value and the code.
func (e *env) capture(t *testing.T) (state, cookie, code string) {
	t.Helper()
	b := newBrowser(t)
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/callback" || req.URL.Path == "/oauth2/authorize" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, err := b.c.Get(e.appURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if strings.HasSuffix(c.Name, "hostedui-login") {
			cookie = c.Value
		}
	}
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	p := b.get(res.Header.Get("Location"))
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("not the login page: %s %s", p.url, p.body)
	}
	res, err = b.c.PostForm(p.url.String(), url.Values{"username": {username}, "password": {password}, "_csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || cookie == "" {
		t.Fatalf("sign-in: %s to %q, login cookie %q", res.Status, res.Header.Get("Location"), cookie)
	}
	return loc.Query().Get("state"), cookie, loc.Query().Get("code")
}

// TestSessionCookieOverHTTPS: with an https PublicURL, the callback's
// session cookie is __Host- prefixed, Secure, HttpOnly, SameSite=Lax and
// the login cookie is spent under its own __Host- name.
func TestSessionCookieOverHTTPS(t *testing.T) {
	const public = "https://app.test"
	e := newEnv(t, envOptions{publicURL: public})
	state, cookie, code := e.capture(t)
	req := httptest.NewRequest("GET", public+"/callback?"+url.Values{"state": {state}, "code": {code}}.Encode(), nil)
	req.AddCookie(&http.Cookie{Name: "__Host-hostedui-login", Value: cookie})
	w := httptest.NewRecorder()
	e.app.ServeHTTP(w, req)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("callback: %d %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	got := map[string]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		got[c.Name] = c
	}
	if c := got["__Host-hostedui-session"]; c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != int(hostedui.DefaultSessionLifetime.Seconds()) || len(c.Value) != 43 {
		t.Errorf("session cookie %+v", c)
	}
	if c := got["__Host-hostedui-login"]; c == nil || c.MaxAge >= 0 || !c.Secure {
		t.Errorf("login cookie not spent: %+v", c)
	}
}

// callback sends GET /callback?q with the login cookie (if any) and
// returns the response, redirects not followed.
func (e *env) callback(t *testing.T, cookie string, q url.Values) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", e.appURL+"/callback?"+q.Encode(), nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "hostedui-login", Value: cookie})
	}
	w := httptest.NewRecorder()
	e.app.ServeHTTP(w, req)
	return w.Result(), w.Body.String()
}

// TestClientSecret: a confidential app client authenticates at the token
// endpoint with its secret; a wrong secret fails the sign-in.
func TestClientSecret(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{{"right", "s3cret", true}, {"wrong", "other", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{secret: "s3cret", cfg: func(c *hostedui.Config) { c.ClientSecret = tc.secret }})
			p := e.signIn(t, newBrowser(t), username, password)
			if signedIn := strings.Contains(p.body, "Signed in as "+username); signedIn != tc.ok {
				t.Errorf("signed in %v, want %v: %d %s", signedIn, tc.ok, p.status, p.body)
			}
			if !tc.ok && (p.status != http.StatusBadRequest || !strings.Contains(e.logs.String(), "error=invalid_client")) {
				t.Errorf("wrong secret: %d, want 400 and invalid_client logged", p.status)
			}
			if strings.Contains(e.logs.String(), tc.secret) {
				t.Error("the client secret was logged")
			}
		})
	}
}

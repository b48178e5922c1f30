package hostedui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/leaktest"
)

// TestFlow: the whole story through a cookie-keeping client, the API
// instances sharing a real redis-server: sign-in through the managed
// login (PKCE), the API call, the managed login's session signing the
// user in again without a password, the sign-out (GlobalSignOut, the
// record, the managed login's logout), the old access token refused by
// the second API instance, and the password asked again.
func TestFlow(t *testing.T) {
	leaktest.Check(t, http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	e := newEnv(t, envOptions{redis: true})
	b := newBrowser(t)

	if p := b.get(e.appURL + "/"); p.status != http.StatusOK || !strings.Contains(p.body, `id="signin"`) {
		t.Fatalf("home before sign-in: %d %s", p.status, p.body)
	}
	home := e.signIn(t, b, username, password)
	if home.url.String() != e.appURL+"/" || !strings.Contains(home.body, "Signed in as "+username) {
		t.Fatalf("after sign-in: %s %d %s", home.url, home.status, home.body)
	}
	user, _ := e.pool.User(username)
	if !strings.Contains(home.body, user.Sub) {
		t.Errorf("home does not show the sub %s", user.Sub)
	}

	api := b.get(e.appURL + "/call-api")
	if !strings.Contains(api.body, `<span id="api-status">200</span>`) || !strings.Contains(api.body, user.Sub) {
		t.Fatalf("API call: %s", api.body)
	}
	old := e.token(t)
	if got := apiStatus(t, e.apiB.URL, old); got != http.StatusOK {
		t.Fatalf("the second API instance before sign-out: %d, want 200", got)
	}

	// The managed login's own session signs the user in again, without a
	// password: why its logout matters.
	if p := b.get(e.appURL + "/login"); p.url.String() != e.appURL+"/" || !strings.Contains(p.body, "Signed in as") {
		t.Fatalf("sign-in with the managed login's session: landed on %s, want / signed in", p.url)
	}
	if n, _ := e.app.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1 (the new sign-in replaced the browser's session)", n)
	}

	out := b.post(e.appURL+"/logout", nil)
	if out.url.String() != e.appURL+"/" || !strings.Contains(out.body, `id="signin"`) {
		t.Fatalf("after sign-out: %s %d %s", out.url, out.status, out.body)
	}
	if _, ok := e.pool.SignedOutAt(user.Sub); !ok {
		t.Error("Cognito's GlobalSignOut was not called")
	}
	for _, srv := range []string{e.apiB.URL, e.apiA.URL} {
		if got := waitStatus(t, srv, old, http.StatusUnauthorized); got != http.StatusUnauthorized {
			t.Errorf("%s: the old access token after sign-out: %d, want 401", srv, got)
		}
	}
	if n, b := e.app.Sessions(); n != 0 || b != 0 {
		t.Errorf("%d sessions (%d bytes) after sign-out, want none", n, b)
	}
	if p := b.get(e.appURL + "/login"); !e.isLoginPage(p) {
		t.Fatalf("sign-in after sign-out: landed on %s (%d), want the password form", p.url, p.status)
	}
	if p := b.get(e.appURL + "/call-api"); p.url.String() != e.appURL+"/?m=ended" {
		t.Errorf("API call after sign-out: landed on %s, want /?m=ended", p.url)
	}
}

// apiStatus calls GET /me of the API at base with token.
func apiStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized && !strings.Contains(res.Header.Get("WWW-Authenticate"), "Access Token has been revoked") {
		t.Errorf("401 with %q, want the revocation's description", res.Header.Get("WWW-Authenticate"))
	}
	return res.StatusCode
}

// waitStatus polls the API until it answers want (a sign-out reaches the
// other instances' views through pub/sub) or 10 s have passed.
func waitStatus(t *testing.T, base, token string, want int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := apiStatus(t, base, token)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestForcedPasswordAfterSignOutElsewhere: the user is signed out
// elsewhere (recorded in the store) while the managed login's session
// cookie lives on; it would sign the user in with tokens of the old
// sign-in, which the Verifier refuses: the app asks for the password
// (prompt=login) instead of looping, and the new sign-in passes.
func TestForcedPasswordAfterSignOutElsewhere(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := newBrowser(t)
	e.poolShift.Store(int64(-10 * time.Second)) // the first sign-in, 10 s ago
	if p := e.signIn(t, b, username, password); !strings.Contains(p.body, "Signed in as") {
		t.Fatalf("first sign-in: %s", p.body)
	}
	e.poolShift.Store(0)
	user, _ := e.pool.User(username)
	// What an administrator's or another device's sign-out records.
	if err := e.stores().RevokeUser(t.Context(), e.pool.PoolID(), user.Sub, time.Now().Add(-5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if p := b.get(e.appURL + "/"); !strings.Contains(p.body, "Your session has ended") {
		t.Errorf("home after the sign-out elsewhere: %s", p.body)
	}
	p := b.get(e.appURL + "/login")
	if !e.isLoginPage(p) || !strings.Contains(e.logs.String(), "asking for the password") {
		t.Fatalf("sign-in with the managed login's old session: landed on %s (%d), want the password form", p.url, p.status)
	}
	m := csrfRE.FindStringSubmatch(p.body)
	home := b.post(p.url.String(), url.Values{"username": {username}, "password": {password}, "_csrf": {m[1]}})
	if !strings.Contains(home.body, "Signed in as "+username) {
		t.Fatalf("sign-in with the password: %s %s", home.url, home.body)
	}
}

// TestRefresh: an access token that expires (within x/oauth2's 10 s
// margin) is refreshed through the token endpoint before the API call;
// the API gets a token of the same sign-in, issued later.
func TestRefresh(t *testing.T) {
	e := newEnv(t, envOptions{accessTTL: 8 * time.Second})
	b := newBrowser(t)
	e.poolShift.Store(int64(-3 * time.Second)) // the sign-in, 3 s ago
	e.signIn(t, b, username, password)
	e.poolShift.Store(0)
	if p := b.get(e.appURL + "/call-api"); !strings.Contains(p.body, `<span id="api-status">200</span>`) {
		t.Fatalf("API call: %s", p.body)
	}
	c, err := e.verifier(t).Verify(t.Context(), e.token(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.IssuedAt.Sub(c.AuthTime) < 2*time.Second {
		t.Errorf("the API got a token issued %v, authenticated %v: want a refreshed token of the sign-in 3 s ago", c.IssuedAt, c.AuthTime)
	}
}

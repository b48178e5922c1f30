package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/examples/hostedui/hostedui"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// hostedUIWorld is the hosted-UI example as deployed: the fake pool's
// managed login on localhost, the web app on 127.0.0.1 (another host
// name: cookies ignore ports), and two instances of the API service, each
// service with a store of its own on one redis-server.
type hostedUIWorld struct {
	pool       *cognitotest.Pool
	domain     string // the managed login, http://localhost:port
	app        string
	apiA, apiB string
	seen       atomic.Value // the last bearer token API A got
	logs       syncbuf.Buffer
}

func newHostedUIWorld(t *testing.T) *hostedUIWorld {
	t.Helper()
	w := &hostedUIWorld{}
	log := slog.New(slog.NewTextHandler(&w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("services' log:\n%s", w.logs.String())
		}
	})
	redisAddr, _ := redistest.Server(t)
	newStore := func() revocation.Store {
		rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
		st, err := revocation.NewRedis(rdb, revocation.RedisConfig{Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close(); rdb.Close() })
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := st.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		return st
	}
	mux := http.NewServeMux()
	appSrv := httptest.NewServer(mux)
	t.Cleanup(appSrv.Close)
	w.app = appSrv.URL
	w.pool = cognitotest.NewPool(cognitotest.Config{LoopbackOnly: true, Clients: []cognitotest.AppClient{{ID: "web",
		OAuthScopes:  []string{"openid", hostedui.UserAdminScope},
		CallbackURLs: []string{w.app + "/callback"}, LogoutURLs: []string{w.app + "/"}}}})
	t.Cleanup(w.pool.Close)
	u, _ := url.Parse(w.pool.URL())
	w.domain = "http://localhost:" + u.Port()

	api := func(record bool) string {
		v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: w.pool.PoolID(), Issuers: []string{w.pool.Issuer()},
			ClientIDs: []string{"web"}}}, cognitoguard.Config{Revocation: newStore(), Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		h := hostedui.NewAPI(v, log)
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && record {
				w.seen.Store(tok)
			}
			h.ServeHTTP(rw, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	w.apiA, w.apiB = api(true), api(false)
	app, err := hostedui.New(hostedui.Config{UserPoolID: w.pool.PoolID(), ClientID: "web", Issuer: w.pool.Issuer(),
		CognitoEndpoint: w.pool.URL(), Domain: w.domain, PublicURL: w.app, APIURL: w.apiA,
		Store: newStore(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	mux.Handle("/", app)
	return w
}

// apiMe calls GET /me of an API instance with token and returns the
// status and WWW-Authenticate.
func apiMe(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", base+"/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("WWW-Authenticate")
}

// TestBrowserHostedUI drives the hosted-UI example with Chromium: sign-in
// through the managed login's password form (authorization code, PKCE),
// the API call with the access token, sign-out (the helper's
// GlobalSignOut and the managed login's logout), the old access token
// refused by a second API instance, and the password asked again.
func TestBrowserHostedUI(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	w := newHostedUIWorld(t)
	user := w.pool.AddUser(cognitotest.User{Username: username, Password: password})
	bctx := newBrowser(t, ctx, chromium)
	// The fake pool's login page says "form-action 'self'", which makes
	// Chromium block the redirect to the app's callback that follows the
	// sign-in POST (form-action applies to redirects), so no browser could
	// sign in through it; Cognito's managed login does redirect. Its
	// policy is bypassed from the click on "Sign in" until the browser is
	// back on the app (taking the header off the response does not do:
	// Chromium still enforces it).
	bypassCSP := func(on bool) {
		t.Helper()
		if _, err := chromedp.Call(bctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: on}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	location := func() *url.URL {
		t.Helper()
		loc, err := chromedp.Run(bctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	onLoginPage := func(step string) {
		t.Helper()
		run(step, chromedp.WaitVisible(chromedp.ID("password")))
		if u := location(); "http://"+u.Host != w.domain || u.Path != "/login" {
			t.Fatalf("%s: at %s, want the managed login's form at %s/login", step, u, w.domain)
		}
	}

	// 1. Sign in: the app sends the browser to the managed login.
	run("open the app", chromedp.Navigate(w.app+"/"), chromedp.WaitVisible(chromedp.ID("signin")))
	bypassCSP(true)
	run("click sign in", chromedp.Click(chromedp.ID("signin")))
	onLoginPage("sign in")
	run("type the password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password))
	resp, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.ID("signin")))
	if err != nil {
		t.Fatalf("submit the managed login's form: %v", err)
	}
	if resp.Status != 200 || resp.URL != w.app+"/" {
		t.Fatalf("after sign-in: %s with %d, want %s/ with 200", resp.URL, resp.Status, w.app)
	}
	bypassCSP(false)
	welcome, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("welcome")))
	if err != nil || welcome != "Signed in as "+username {
		t.Fatalf("home heading %q, %v", welcome, err)
	}

	// The cookies: the app's session cookie on 127.0.0.1 (HttpOnly, Lax;
	// not Secure over http), the login cookie spent, the managed login's
	// session cookie on localhost.
	cookies := browserCookies(t, bctx)
	sess := findCookie(cookies, "hostedui-session")
	if sess == nil || sess.Domain != "127.0.0.1" || !sess.HTTPOnly || sess.SameSite != network.CookieSameSiteLax || sess.Path != "/" || sess.Secure {
		t.Errorf("session cookie %+v", sess)
	}
	if c := findCookie(cookies, "hostedui-login"); c != nil {
		t.Errorf("login cookie kept after the callback: %+v", c)
	}
	if c := findCookie(cookies, "cognito"); c == nil || c.Domain != "localhost" {
		t.Fatalf("managed login's session cookie %+v, want one on localhost", c)
	}
	if js, err := chromedp.Run(bctx, chromedp.Evaluate[string]("document.cookie")); err != nil || js != "" {
		t.Errorf("document.cookie = %q, %v: the cookies must be HttpOnly", js, err)
	}

	// 2. The API call with the access token.
	run("call the API", chromedp.Click(chromedp.ID("call-api")), chromedp.WaitVisible(chromedp.ID("api-status")))
	status, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("api-status")))
	if err != nil || status != "200" {
		t.Fatalf("API status %q, %v", status, err)
	}
	body, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("api-body")))
	if err != nil || !strings.Contains(body, user.Sub) {
		t.Errorf("API body %q, %v: want the sub", body, err)
	}
	old, _ := w.seen.Load().(string)
	if old == "" {
		t.Fatal("API A saw no token")
	}
	if code, _ := apiMe(t, w.apiB, old); code != http.StatusOK {
		t.Fatalf("API B before the sign-out: %d, want 200", code)
	}

	// 3. Sign out: POST /logout, then the managed login's /logout, back
	// to the app.
	run("back home", chromedp.Navigate(w.app+"/"), chromedp.WaitVisible(chromedp.ID("logout")))
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.ID("logout")))
	if err != nil {
		t.Fatalf("click sign out: %v", err)
	}
	if resp.Status != 200 || resp.URL != w.app+"/" {
		t.Fatalf("after sign-out: %s with %d, want %s/", resp.URL, resp.Status, w.app)
	}
	run("signed out", chromedp.WaitVisible(chromedp.ID("signin")))
	cookies = browserCookies(t, bctx)
	for _, name := range []string{"hostedui-session", "cognito"} {
		if c := findCookie(cookies, name); c != nil {
			t.Errorf("cookie %s kept after sign-out", name)
		}
	}
	if _, ok := w.pool.SignedOutAt(user.Sub); !ok {
		t.Error("Cognito's GlobalSignOut was not called")
	}

	// 4. The old access token, refused by the second API instance (the
	// sign-out reached it through the shared store), though it is still
	// an unexpired, well-signed token.
	deadline := time.Now().Add(10 * time.Second)
	code, challenge := apiMe(t, w.apiB, old)
	for code != http.StatusUnauthorized && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		code, challenge = apiMe(t, w.apiB, old)
	}
	if code != http.StatusUnauthorized || !strings.Contains(challenge, "Access Token has been revoked") {
		t.Errorf("API B after the sign-out: %d %q, want 401 revoked", code, challenge)
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: w.pool.PoolID(), Issuers: []string{w.pool.Issuer()}, ClientIDs: []string{"web"}}}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Verify(ctx, old); err != nil {
		t.Errorf("the old token without revocation: %v, want valid", err)
	}

	// 5. Signing in again asks for the password: the managed login's
	// session ended with its logout.
	run("click sign in again", chromedp.Click(chromedp.ID("signin")))
	onLoginPage("sign in after sign-out")
}

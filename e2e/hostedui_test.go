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
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/examples/hostedui/hostedui"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
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
		st, err := redisstore.New(rdb, redisstore.Config{Logger: log})
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
	b := &hostedUITab{t: t, ctx: newBrowser(t, ctx, chromium), w: w}

	// 1. Sign in through the managed login; the cookies it leaves.
	b.signIn()
	b.checkSignedInCookies()

	// 2. The API call with the access token; the second API instance
	// accepts that token too.
	old := b.callAPI(user.Sub)
	if code, _ := apiMe(t, w.apiB, old); code != http.StatusOK {
		t.Fatalf("API B before the sign-out: %d, want 200", code)
	}

	// 3. Sign out: POST /logout, then the managed login's /logout, back
	// to the app, both sessions' cookies gone.
	b.signOut()
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
	b.run("click sign in again", chromedp.Click(chromedp.ID("signin")))
	b.onLoginPage("sign in after sign-out")
}

// hostedUITab is the browser tab of TestBrowserHostedUI.
type hostedUITab struct {
	t   *testing.T
	ctx context.Context // chromedp's
	w   *hostedUIWorld
}

func (b *hostedUITab) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

func (b *hostedUITab) text(id string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		b.t.Fatalf("text of #%s: %v", id, err)
	}
	return s
}

// click clicks the element id and checks that the navigation it starts
// ends on want with 200.
func (b *hostedUITab) click(id, want string) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.ID(id)))
	if err != nil {
		b.t.Fatalf("click #%s: %v", id, err)
	}
	if resp.Status != 200 || resp.URL != want {
		b.t.Fatalf("click #%s: landed on %s with %d, want %s with 200", id, resp.URL, resp.Status, want)
	}
}

// onLoginPage checks that the tab shows the managed login's password form.
func (b *hostedUITab) onLoginPage(step string) {
	b.t.Helper()
	b.run(step, chromedp.WaitVisible(chromedp.ID("password")))
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	if u, err := url.Parse(loc); err != nil || "http://"+u.Host != b.w.domain || u.Path != "/login" {
		b.t.Fatalf("%s: at %s, want the managed login's form at %s/login", step, loc, b.w.domain)
	}
}

// signIn follows the app's "Sign in" to the managed login and signs in
// there with the password: the login page's form-action allows the
// redirect to the app's callback that follows the sign-in POST.
func (b *hostedUITab) signIn() {
	b.t.Helper()
	b.run("open the app", chromedp.Navigate(b.w.app+"/"), chromedp.WaitVisible(chromedp.ID("signin")))
	b.run("click sign in", chromedp.Click(chromedp.ID("signin")))
	b.onLoginPage("sign in")
	b.run("type the password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password))
	b.click("signin", b.w.app+"/")
	if got := b.text("welcome"); got != "Signed in as "+username {
		b.t.Fatalf("home heading %q", got)
	}
}

// checkSignedInCookies: the app's session cookie on 127.0.0.1 (HttpOnly,
// Lax; not Secure over http), the login cookie spent, the managed login's
// session cookie on localhost, no cookie readable by scripts.
func (b *hostedUITab) checkSignedInCookies() {
	t := b.t
	t.Helper()
	cookies := browserCookies(t, b.ctx)
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
	if js, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.cookie")); err != nil || js != "" {
		t.Errorf("document.cookie = %q, %v: the cookies must be HttpOnly", js, err)
	}
}

// callAPI clicks "Call the API", checks the answer (200, the user's sub)
// and returns the access token API A got.
func (b *hostedUITab) callAPI(sub string) string {
	b.t.Helper()
	b.click("call-api", b.w.app+"/call-api")
	if got := b.text("api-status"); got != "200" {
		b.t.Fatalf("API status %q", got)
	}
	if body := b.text("api-body"); !strings.Contains(body, sub) {
		b.t.Errorf("API body %q: want the sub", body)
	}
	tok, _ := b.w.seen.Load().(string)
	if tok == "" {
		b.t.Fatal("API A saw no token")
	}
	return tok
}

// signOut clicks "Sign out" on the home page: the browser ends on the
// app's signed-out page, through the managed login's logout, without the
// session cookies of either.
func (b *hostedUITab) signOut() {
	b.t.Helper()
	b.run("back home", chromedp.Navigate(b.w.app+"/"), chromedp.WaitVisible(chromedp.ID("logout")))
	b.click("logout", b.w.app+"/")
	b.run("signed out", chromedp.WaitVisible(chromedp.ID("signin")))
	cookies := browserCookies(b.t, b.ctx)
	for _, name := range []string{"hostedui-session", "cognito"} {
		if c := findCookie(cookies, name); c != nil {
			b.t.Errorf("cookie %s kept after sign-out", name)
		}
	}
}

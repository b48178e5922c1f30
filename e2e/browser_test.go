package e2e

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/syncbuf"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/examples/webapp/webapp"
	"github.com/cognitoguard/cognitoguard/internal/integration"
)

const (
	username = "alice"
	password = "e2e-Passw0rd!"
)

// chromiumPath finds the browser: $CHROMIUM, else chromium or
// chromium-browser on PATH, else /usr/bin/chromium. Without one the test is
// skipped, or fails under COGNITOGUARD_INTEGRATION=1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
		missing(t, fmt.Sprintf("CHROMIUM=%q is not an executable", p))
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "no Chromium found (set CHROMIUM, or install Debian's chromium)")
	return ""
}

func missing(t *testing.T, why string) {
	t.Helper()
	integration.Unavailable(t, "%s", why)
}

// standIn is the hosted UI logout endpoint's stand-in: it records the
// requests it gets and shows a page.
type standIn struct {
	*httptest.Server
	mu   sync.Mutex
	hits []url.Values
}

func newStandIn(t *testing.T) *standIn {
	s := &standIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/logout" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.hits = append(s.hits, r.URL.Query())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Hosted UI logout</title><h1 id="standin">Signed out of the hosted UI</h1><p><a id="back" href="%s">Back to the app</a></p>`,
			html.EscapeString(r.URL.Query().Get("logout_uri")))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *standIn) requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.hits...)
}

// startApp runs the example web app in-process, as its main does, and
// returns its base URL.
func startApp(t *testing.T, ctx context.Context, pool *cognitotest.Pool, logoutURL string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs strings.Builder
	var logsMu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		logsMu.Lock()
		defer logsMu.Unlock()
		return logs.Write(p)
	})
	go func() {
		done <- webapp.Run(ctx, []string{
			"-addr", "127.0.0.1:0",
			"-user-pool-id", pool.PoolID(),
			"-client-id", pool.ClientID(),
			"-issuer", pool.Issuer(),
			"-cognito-endpoint", pool.URL(),
			"-logout-url", logoutURL,
			"-v",
		}, w, w, func(addr string) { ready <- addr })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("webapp.Run: %v", err)
		}
		if t.Failed() {
			logsMu.Lock()
			t.Logf("webapp log:\n%s", logs.String())
			logsMu.Unlock()
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("webapp.Run: %v", err)
	case <-ctx.Done():
		t.Fatal("webapp did not start")
	}
	return ""
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// newBrowser starts headless Chromium with a fresh profile and returns a
// chromedp context of one tab.
func newBrowser(t *testing.T, ctx context.Context, path string) context.Context {
	t.Helper()
	var out syncbuf.Buffer
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 760),
		chromedp.CombinedOutput(&out),
	)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		// Close the browser gracefully, then free the allocator (and
		// wait for the process).
		if err := chromedp.Cancel(bctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing Chromium: %v", err)
		}
		bcancel()
		acancel()
		if t.Failed() {
			t.Logf("Chromium output:\n%s", out.String())
		}
	})
	return bctx
}

// browserCookies returns every cookie of the browser profile.
func browserCookies(t *testing.T, ctx context.Context) []*network.Cookie {
	t.Helper()
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatalf("storage.getCookies: %v", err)
	}
	return res.Cookies
}

func findCookie(cs []*network.Cookie, name string) *network.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestBrowserLogout signs in with a real browser, sees the protected page,
// signs out, and checks that the browser lands on the hosted UI logout
// endpoint without its cookie, and that the old session cookie, replayed by
// hand, is refused because the sign-out was recorded.
func TestBrowserLogout(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), 55*time.Second)
	defer cancel()

	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	user := pool.AddUser(cognitotest.User{Username: username, Password: password, Email: "alice@example.com", Groups: []string{"staff"}})
	hosted := newStandIn(t)
	app := startApp(t, ctx, pool, hosted.URL+"/logout")
	bctx := newBrowser(t, ctx, chromium)

	step := func(name string, f func() error) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	// 1. The sign-in form.
	step("open the sign-in page", func() error {
		return chromedp.Do(bctx,
			chromedp.Navigate(app+"/login"),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), username),
			chromedp.SendKeys(chromedp.ID("password"), password),
		)
	})

	// 2. Submit: POST /login, 303, the protected page.
	step("submit the sign-in form", func() error {
		resp, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.ID("login")))
		if err != nil {
			return err
		}
		if resp.Status != 200 || resp.URL != app+"/app" {
			return fmt.Errorf("landed on %s with %d, want %s/app with 200", resp.URL, resp.Status, app)
		}
		return nil
	})
	welcome, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("welcome")))
	if err != nil {
		t.Fatal(err)
	}
	if welcome != "Signed in as "+username {
		t.Errorf("protected page heading = %q", welcome)
	}
	claims, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("claims")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(claims, user.Sub) || !strings.Contains(claims, "staff") {
		t.Errorf("claims table = %q, want the sub and group", claims)
	}

	// The screenshot of the protected page.
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("E2E_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "protected-page.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the protected page: %s (%d bytes)", shot, len(png))

	// The session cookie as the browser holds it.
	old := findCookie(browserCookies(t, bctx), webapp.AccessCookie)
	if old == nil {
		t.Fatalf("the browser holds no %s cookie after signing in", webapp.AccessCookie)
	}
	if !old.Secure || !old.HTTPOnly || old.SameSite != network.CookieSameSiteLax || old.Path != "/" {
		t.Errorf("cookie attributes: Secure=%v HttpOnly=%v SameSite=%q Path=%q", old.Secure, old.HTTPOnly, old.SameSite, old.Path)
	}
	// HttpOnly: the page's scripts cannot read it.
	if jsCookies, err := chromedp.Run(bctx, chromedp.Evaluate[string]("document.cookie")); err != nil || strings.Contains(jsCookies, webapp.AccessCookie) {
		t.Errorf("document.cookie = %q, %v: the token cookie must be HttpOnly", jsCookies, err)
	}

	// 3. Sign out: POST /logout, 303 to the hosted UI logout endpoint.
	step("click sign out", func() error {
		resp, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.ID("logout")))
		if err != nil {
			return err
		}
		if resp.Status != 200 {
			return fmt.Errorf("landed on %s with %d", resp.URL, resp.Status)
		}
		return nil
	})
	if _, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("standin"))); err != nil {
		t.Fatalf("the stand-in logout page did not show: %v", err)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != hosted.URL+"/logout" {
		t.Errorf("location after sign-out = %s, want %s/logout?…", loc, hosted.URL)
	}
	if q := u.Query(); q.Get("client_id") != pool.ClientID() || q.Get("logout_uri") != app+"/login" {
		t.Errorf("logout query = %v, want client_id=%s logout_uri=%s/login", q, pool.ClientID(), app)
	}
	if hits := hosted.requests(); len(hits) != 1 {
		t.Errorf("the stand-in got %d requests, want 1", len(hits))
	}

	// 4. The browser no longer holds the cookie, and the protected page
	// sends it to the sign-in form.
	if c := findCookie(browserCookies(t, bctx), webapp.AccessCookie); c != nil {
		t.Errorf("the browser still holds %s after signing out", c.Name)
	}
	step("open the protected page again", func() error {
		resp, err := chromedp.RunResponse(bctx, chromedp.Navigate(app+"/app"))
		if err != nil {
			return err
		}
		if resp.URL != app+"/login" {
			return fmt.Errorf("landed on %s, want %s/login", resp.URL, app)
		}
		return nil
	})

	// 5. Cognito was told (refresh tokens revoked), and the old cookie,
	// replayed by hand, is refused: the sign-out was recorded, although
	// the access token itself is still an unexpired, well-signed JWT.
	if _, ok := pool.SignedOutAt(user.Sub); !ok {
		t.Error("Cognito's GlobalSignOut was not called")
	}
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	replay := func(path string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, "GET", app+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: old.Name, Value: old.Value})
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := replay("/app"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("replayed cookie on /app = %d %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := replay("/api/me"); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), "Access Token has been revoked") {
		t.Errorf("replayed cookie on /api/me = %d %q, want 401 revoked", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// Nothing else is wrong with the token: a Verifier without the
	// revocation store still accepts it, so the refusal above is the
	// recorded sign-out.
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if c, err := v.Verify(ctx, old.Value); err != nil || c.Subject != user.Sub {
		t.Errorf("the replayed token without revocation: %v, want it valid for %s", err, user.Sub)
	}
}

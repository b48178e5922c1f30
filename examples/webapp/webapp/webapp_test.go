package webapp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/examples/webapp/webapp"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
)

const (
	testUser     = "alice"
	testPassword = "correct horse battery staple"
	standIn      = "https://auth.example.test/logout"
	publicURL    = "http://127.0.0.1:8080"
)

// newApp returns a pool with one user and the app pointed at it.
func newApp(t *testing.T, mod func(*webapp.Config)) (*cognitotest.Pool, *webapp.App) {
	t.Helper()
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	pool.AddUser(cognitotest.User{Username: testUser, Password: testPassword, Email: "alice@example.com", Groups: []string{"staff"}})
	cfg := webapp.Config{
		Region:          "us-east-1",
		UserPoolID:      pool.PoolID(),
		ClientID:        pool.ClientID(),
		Issuer:          pool.Issuer(),
		CognitoEndpoint: pool.URL(),
		LogoutEndpoint:  standIn,
		PublicURL:       publicURL,
		// The SDK's own client, without retries: injected failures fail
		// at once.
		Cognito: pool.Client(),
	}
	if mod != nil {
		mod(&cfg)
	}
	app, err := webapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return pool, app
}

// do serves one request and returns the response.
func do(t *testing.T, h http.Handler, method, target string, form url.Values, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body).WithContext(t.Context())
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func accessCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == webapp.AccessCookie {
			return c
		}
	}
	return nil
}

// login signs in and returns the token cookie.
func login(t *testing.T, app http.Handler) *http.Cookie {
	t.Helper()
	resp := do(t, app, "POST", "/login", url.Values{"username": {testUser}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app" {
		t.Fatalf("POST /login = %d %q, want 303 /app; body %s", resp.StatusCode, resp.Header.Get("Location"), readBody(t, resp))
	}
	c := accessCookie(resp)
	if c == nil {
		t.Fatalf("POST /login set no %s cookie: %v", webapp.AccessCookie, resp.Header["Set-Cookie"])
	}
	return c
}

func TestLoginLogoutReplay(t *testing.T) {
	pool, app := newApp(t, nil)

	// The form.
	resp := do(t, app, "GET", "/login", nil)
	if body := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(body, `action="/login"`) {
		t.Fatalf("GET /login = %d, body %s", resp.StatusCode, body)
	}

	// Sign in: the cookie's attributes.
	c := login(t, app)
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge <= 0 {
		t.Errorf("cookie attributes = %+v, want Secure HttpOnly SameSite=Lax Path=/ no Domain, MaxAge > 0", c)
	}
	if n := pool.Calls("InitiateAuth"); n != 1 {
		t.Errorf("InitiateAuth calls = %d, want 1", n)
	}

	// The protected page and the API.
	resp = do(t, app, "GET", "/app", nil, c)
	if body := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "Signed in as "+testUser) || !strings.Contains(body, `action="/logout"`) {
		t.Fatalf("GET /app = %d, body %s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /app Cache-Control = %q, want no-store", cc)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://auth.example.test;") {
		t.Errorf("CSP = %q, want form-action to allow the logout endpoint's origin", csp)
	}
	resp = do(t, app, "GET", "/api/me", nil, c)
	var me map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/me = %d, %v", resp.StatusCode, err)
	}
	u, _ := pool.User(testUser)
	if me["sub"] != u.Sub || me["username"] != testUser || me["token_use"] != "access" {
		t.Errorf("GET /api/me = %v", me)
	}

	// Sign out: 303 to the hosted UI logout, cookie expired, Cognito told.
	resp = do(t, app, "POST", "/logout", nil, c)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /logout = %d, want 303; body %s", resp.StatusCode, readBody(t, resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != standIn {
		t.Errorf("logout Location = %q, want %q", got, standIn)
	}
	if q := loc.Query(); q.Get("client_id") != pool.ClientID() || q.Get("logout_uri") != publicURL+"/login" {
		t.Errorf("logout query = %v", q)
	}
	if cl := accessCookie(resp); cl == nil || cl.MaxAge >= 0 || cl.Value != "" || !cl.Secure || cl.Path != "/" {
		t.Errorf("POST /logout cookie = %+v, want it expired", cl)
	}
	if _, ok := pool.SignedOutAt(u.Sub); !ok {
		t.Error("Cognito GlobalSignOut was not called")
	}

	// The old cookie, replayed: the page sends the browser to the sign-in
	// form (and drops the cookie), the API answers 401 revoked.
	resp = do(t, app, "GET", "/app", nil, c)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?m=ended" {
		t.Errorf("GET /app with the old cookie = %d %q, want 303 /login?m=ended", resp.StatusCode, resp.Header.Get("Location"))
	}
	if cl := accessCookie(resp); cl == nil || cl.MaxAge >= 0 {
		t.Errorf("GET /app with the old cookie: cookie %+v, want it expired", cl)
	}
	resp = do(t, app, "GET", "/api/me", nil, c)
	if wa := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || !strings.Contains(wa, "Access Token has been revoked") {
		t.Errorf("GET /api/me with the old cookie = %d %q, want 401 revoked", resp.StatusCode, wa)
	}
	// As a bearer token too.
	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+c.Value)
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("GET /api/me with the old bearer token = %d, want 401", w.Code)
	}

	// A second logout with the revoked cookie: nothing to do, same redirect.
	resp = do(t, app, "POST", "/logout", nil, c)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), standIn) {
		t.Errorf("second POST /logout = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestUnauthenticated(t *testing.T) {
	pool, app := newApp(t, nil)
	garbage := &http.Cookie{Name: webapp.AccessCookie, Value: "not.a.token"}
	expired := &http.Cookie{Name: webapp.AccessCookie, Value: pool.AccessToken(testUser, cognitotest.WithExpiry(time.Now().Add(-time.Minute)))}
	for _, tc := range []struct {
		name     string
		target   string
		cookie   *http.Cookie
		status   int
		location string
	}{
		{"page without cookie", "/app", nil, 303, "/login"},
		{"page with garbage", "/app", garbage, 303, "/login?m=ended"},
		{"page with expired token", "/app", expired, 303, "/login?m=ended"},
		{"api without cookie", "/api/me", nil, 401, ""},
		{"api with garbage", "/api/me", garbage, 401, ""},
		{"api with expired token", "/api/me", expired, 401, ""},
		{"root", "/", nil, 303, "/app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cs []*http.Cookie
			if tc.cookie != nil {
				cs = append(cs, tc.cookie)
			}
			resp := do(t, app, "GET", tc.target, nil, cs...)
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
				t.Errorf("= %d %q, want %d %q", resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.location)
			}
			if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="webapp"`) {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	pool, app := newApp(t, nil)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"wrong password", url.Values{"username": {testUser}, "password": {"nope"}}, 401, "Incorrect username or password."},
		{"unknown user", url.Values{"username": {"mallory"}, "password": {"x"}}, 401, "Incorrect username or password."},
		{"empty", url.Values{"username": {""}, "password": {""}}, 400, "Enter your username and password."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(t, app, "POST", "/login", tc.form)
			body := readBody(t, resp)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.text) || accessCookie(resp) != nil {
				t.Errorf("= %d, cookie %v, body %s", resp.StatusCode, accessCookie(resp), body)
			}
		})
	}
	t.Run("cognito down", func(t *testing.T) {
		pool.FailNext("InitiateAuth", "InternalErrorException", 500, 5)
		resp := do(t, app, "POST", "/login", url.Values{"username": {testUser}, "password": {testPassword}})
		body := readBody(t, resp)
		if resp.StatusCode != 503 || !strings.Contains(body, "Sign-in is unavailable") || accessCookie(resp) != nil {
			t.Errorf("= %d, body %s", resp.StatusCode, body)
		}
		if strings.Contains(body, "InternalErrorException") {
			t.Error("the page shows Cognito's error")
		}
	})
	t.Run("oversized form", func(t *testing.T) {
		big := url.Values{"username": {testUser}, "password": {strings.Repeat("x", 16<<10)}}
		if resp := do(t, app, "POST", "/login", big); resp.StatusCode != 400 {
			t.Errorf("= %d, want 400", resp.StatusCode)
		}
	})
}

func TestCrossOriginPostsRefused(t *testing.T) {
	pool, app := newApp(t, nil)
	c := login(t, app)
	for _, target := range []string{"/logout", "/login"} {
		r := httptest.NewRequest("POST", target, strings.NewReader("username=alice&password=x"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Origin", "https://evil.example")
		r.AddCookie(c)
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Errorf("cross-site POST %s = %d, want 403", target, w.Code)
		}
	}
	if n := pool.Calls("GlobalSignOut"); n != 0 {
		t.Errorf("GlobalSignOut calls = %d after cross-site POSTs, want 0", n)
	}
	// Same-origin browser POST passes.
	r := httptest.NewRequest("POST", "/logout", nil)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.AddCookie(c)
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Errorf("same-origin POST /logout = %d, want 303", w.Code)
	}
}

func TestLogoutSignOutFailure(t *testing.T) {
	pool, app := newApp(t, nil)
	c := login(t, app)
	// Cognito fails, but the sign-out is recorded: the user is logged out
	// here all the same.
	pool.FailNext("GlobalSignOut", "TooManyRequestsException", 400, 1)
	resp := do(t, app, "POST", "/logout", nil, c)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /logout = %d, want 303", resp.StatusCode)
	}
	if resp := do(t, app, "GET", "/api/me", nil, c); resp.StatusCode != 401 {
		t.Errorf("GET /api/me after a half-failed sign-out = %d, want 401", resp.StatusCode)
	}
}

func TestLogoutTarget(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*webapp.Config)
		want string
	}{
		{"hosted UI", func(c *webapp.Config) {
			c.LogoutEndpoint = ""
			c.HostedUIDomain = "myapp.auth.us-east-1.amazoncognito.com"
			c.PublicURL = "https://app.example.com"
		}, "https://myapp.auth.us-east-1.amazoncognito.com/logout?client_id=cognitotest-client&logout_uri=https%3A%2F%2Fapp.example.com%2Flogin"},
		{"override", func(c *webapp.Config) {}, standIn + "?client_id=cognitotest-client&logout_uri=http%3A%2F%2F127.0.0.1%3A8080%2Flogin"},
		{"none", func(c *webapp.Config) { c.LogoutEndpoint = "" }, "/login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, app := newApp(t, tc.mod)
			if got := app.LogoutTarget(); got != tc.want {
				t.Errorf("LogoutTarget() = %q, want %q", got, tc.want)
			}
		})
	}
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	for _, cfg := range []webapp.Config{
		{UserPoolID: pool.PoolID()},
		{UserPoolID: "local_x", ClientID: "c"},
		{UserPoolID: pool.PoolID(), ClientID: "c", HostedUIDomain: "https://bad"},
		{UserPoolID: pool.PoolID(), ClientID: "c", HostedUIDomain: "d.example.com"},
		{UserPoolID: pool.PoolID(), ClientID: "c", LogoutEndpoint: "/relative", PublicURL: publicURL},
	} {
		if app, err := webapp.New(cfg); err == nil {
			app.Close()
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestRun(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: testUser, Password: testPassword})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	addrc := make(chan string, 1)
	var stdout, stderr bytes.Buffer
	errc := make(chan error, 1)
	go func() {
		errc <- webapp.Run(ctx, []string{
			"-addr", "127.0.0.1:0",
			"-user-pool-id", pool.PoolID(),
			"-client-id", pool.ClientID(),
			"-issuer", pool.Issuer(),
			"-cognito-endpoint", pool.URL(),
			"-logout-url", standIn,
		}, &stdout, &stderr, func(addr string) { addrc <- addr })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("Run: %v; stderr %s", err, stderr.String())
	}
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = client.PostForm("http://"+addr+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := accessCookie(resp)
	if resp.StatusCode != 303 || c == nil {
		t.Fatalf("POST /login = %d, cookie %v", resp.StatusCode, c)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/logout", nil)
	req.AddCookie(c)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantLoc := standIn + "?client_id=" + pool.ClientID() + "&logout_uri=" + url.QueryEscape("http://"+addr+"/login")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != wantLoc {
		t.Errorf("POST /logout = %d %q, want 303 %q", resp.StatusCode, resp.Header.Get("Location"), wantLoc)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	if !strings.Contains(stdout.String(), "http://"+addr) {
		t.Errorf("stdout = %q", stdout.String())
	}

	for _, args := range [][]string{
		{},
		{"-user-pool-id", pool.PoolID()},
		{"-nope"},
		{"-user-pool-id", pool.PoolID(), "-client-id", "c", "extra"},
	} {
		if err := webapp.Run(t.Context(), args, io.Discard, io.Discard, nil); err == nil {
			t.Errorf("Run(%q) succeeded", args)
		}
	}
}

// failingStore records nothing: every write fails as an unreachable Redis
// would.
type failingStore struct{ *revocation.Memory }

func (failingStore) RevokeUser(context.Context, string, string, time.Time) error {
	return revocation.ErrUnavailable
}

func (failingStore) RevokeUserSince(context.Context, string, string, time.Time, time.Time) (time.Time, bool, error) {
	return time.Time{}, false, revocation.ErrUnavailable
}

func TestLogoutEdgeCases(t *testing.T) {
	t.Run("no cookie", func(t *testing.T) {
		pool, app := newApp(t, nil)
		resp := do(t, app, "POST", "/logout", nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), standIn) {
			t.Errorf("POST /logout without cookie = %d %q, want 303 to the logout target", resp.StatusCode, resp.Header.Get("Location"))
		}
		if n := pool.Calls("GlobalSignOut"); n != 0 {
			t.Errorf("GlobalSignOut calls = %d, want 0", n)
		}
	})
	t.Run("forged cookie", func(t *testing.T) {
		pool, app := newApp(t, nil)
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		forged := &http.Cookie{Name: webapp.AccessCookie, Value: pool.AccessToken(testUser, cognitotest.WithSigningKey(other))}
		resp := do(t, app, "POST", "/logout", nil, forged)
		if resp.StatusCode != http.StatusSeeOther || accessCookie(resp) == nil || accessCookie(resp).MaxAge >= 0 {
			t.Errorf("POST /logout with a forged cookie = %d, cookie %v, want 303 and the cookie cleared", resp.StatusCode, accessCookie(resp))
		}
		u, _ := pool.User(testUser)
		if _, ok := pool.SignedOutAt(u.Sub); ok || pool.Calls("GlobalSignOut") != 0 {
			t.Error("a forged token signed the user out")
		}
	})
	t.Run("store down", func(t *testing.T) {
		_, app := newApp(t, func(c *webapp.Config) {
			c.Store = failingStore{revocation.NewMemory(revocation.MemoryConfig{})}
		})
		c := login(t, app)
		resp := do(t, app, "POST", "/logout", nil, c)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "could not be recorded") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("POST /logout with the store down = %d %q, body %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if strings.Contains(body, "temporarily_unavailable") {
			t.Error("the page carries the library's JSON body")
		}
	})
	t.Run("GET", func(t *testing.T) {
		_, app := newApp(t, nil)
		if resp := do(t, app, "GET", "/logout", nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /logout = %d, want 405", resp.StatusCode)
		}
	})
}

// TestSharedRedisStore runs two instances of the app on one real
// redis-server (the store refuses a Redis whose eviction policy it cannot
// read, as miniredis's): a sign-out on one is honoured by the other at
// once.
func TestSharedRedisStore(t *testing.T) {
	redisAddr, _ := redistest.Server(t)
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: testUser, Password: testPassword})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := func() (string, <-chan error) {
		addrc := make(chan string, 1)
		errc := make(chan error, 1)
		go func() {
			errc <- webapp.Run(ctx, []string{
				"-addr", "127.0.0.1:0",
				"-user-pool-id", pool.PoolID(),
				"-client-id", pool.ClientID(),
				"-issuer", pool.Issuer(),
				"-cognito-endpoint", pool.URL(),
				"-redis-addr", redisAddr,
			}, io.Discard, io.Discard, func(addr string) { addrc <- addr })
		}()
		select {
		case addr := <-addrc:
			return "http://" + addr, errc
		case err := <-errc:
			t.Fatalf("Run: %v", err)
		}
		return "", nil
	}
	a, errA := start()
	b, errB := start()
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	get := func(base, path string, c *http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		req.AddCookie(c)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp, err := client.PostForm(a+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := accessCookie(resp)
	if c == nil {
		t.Fatalf("POST /login = %d without cookie", resp.StatusCode)
	}
	// Both instances accept the token (B sees the user for the first time).
	for _, base := range []string{a, b} {
		if resp := get(base, "/api/me", c); resp.StatusCode != 200 {
			t.Fatalf("GET %s/api/me = %d, want 200", base, resp.StatusCode)
		}
	}
	// Sign out on A.
	req, _ := http.NewRequestWithContext(ctx, "POST", a+"/logout", nil)
	req.AddCookie(c)
	if resp, err = client.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /logout: %v %v", resp, err)
	}
	resp.Body.Close()
	// B rejects the token: at once, or within the pub/sub delivery bound.
	deadline := time.Now().Add(2 * time.Second)
	for {
		resp := get(b, "/api/me", c)
		if resp.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/api/me after the sign-out on the other instance = %d, want 401", b, resp.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	for _, errc := range []<-chan error{errA, errB} {
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

package hostedui_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/examples/hostedui/hostedui"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

const (
	clientID = "web"
	username = "alice"
	password = "Alice-pw-1"
)

// env is the example's world: a fake pool serving the managed login on
// localhost, the web app on 127.0.0.1 (another host name, so that the
// browser's cookies of the two never mix), and two instances of the API
// service; the app and the API instances each have a store of their own,
// shared through store (Redis, or one in-process store).
type env struct {
	pool      *cognitotest.Pool
	poolShift atomic.Int64 // nanoseconds added to the pool's clock
	domain    string       // the pool as http://localhost:port
	app       *hostedui.App
	appURL    string
	apiA      *httptest.Server // the API the app calls
	apiB      *httptest.Server // a second instance
	lastToken atomic.Value     // the last bearer token apiA saw
	logs      *syncbuf.Buffer
	stores    func() revocation.Store // a store sharing the services'
}

type envOptions struct {
	redis     bool          // share the store through a real redis-server
	scopes    []string      // the app client's OAuth scopes (default openid and user.admin)
	accessTTL time.Duration // the pool's access token lifetime (default an hour)
	publicURL string        // the app's PublicURL (default where it is served)
	secret    string        // the app client's secret (default none: a public client)
	cfg       func(*hostedui.Config)
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{logs: &syncbuf.Buffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", e.logs.String())
		}
	})
	appMux := http.NewServeMux()
	appSrv := httptest.NewServer(appMux)
	t.Cleanup(appSrv.Close)
	e.appURL = appSrv.URL
	public := o.publicURL
	if public == "" {
		public = e.appURL
	}
	scopes := o.scopes
	if scopes == nil {
		scopes = []string{"openid", hostedui.UserAdminScope}
	}
	e.pool = cognitotest.NewPool(cognitotest.Config{
		Clients: []cognitotest.AppClient{{ID: clientID, OAuthScopes: scopes, Secret: o.secret,
			CallbackURLs: []string{public + "/callback"}, LogoutURLs: []string{public + "/"}}},
		Now:            func() time.Time { return time.Now().Add(time.Duration(e.poolShift.Load())) },
		LoopbackOnly:   true,
		AccessTokenTTL: o.accessTTL,
	})
	t.Cleanup(e.pool.Close)
	e.pool.AddUser(cognitotest.User{Username: username, Password: password})
	u, _ := url.Parse(e.pool.URL())
	e.domain = "http://localhost:" + u.Port()

	newStore := storeMaker(t, o.redis, log)
	e.stores = newStore
	cfg := hostedui.Config{
		UserPoolID: e.pool.PoolID(), ClientID: clientID, Issuer: e.pool.Issuer(),
		CognitoEndpoint: e.pool.URL(), Domain: e.domain, PublicURL: public,
		Store: newStore(), Logger: log, ClientSecret: o.secret,
	}
	e.apiA = e.newAPI(t, newStore(), log, true)
	e.apiB = e.newAPI(t, newStore(), log, false)
	cfg.APIURL = e.apiA.URL
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	app, err := hostedui.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	e.app = app
	appMux.Handle("/", app)
	return e
}

// storeMaker returns the function that makes each service's store: a new
// client of one redis-server each, or the same in-process store.
func storeMaker(t *testing.T, useRedis bool, log *slog.Logger) func() revocation.Store {
	if !useRedis {
		m := revocation.NewMemory(revocation.MemoryConfig{Logger: log})
		return func() revocation.Store { return m }
	}
	addr, _ := redistest.Server(t)
	return func() revocation.Store {
		rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
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
}

func (e *env) newAPI(t *testing.T, store revocation.Store, log *slog.Logger, record bool) *httptest.Server {
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()},
		ClientIDs: []string{clientID}}}, cognitoguard.Config{Revocation: store, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	h := hostedui.NewAPI(v, log)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && record {
			e.lastToken.Store(tok)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// verifier returns a Verifier of the pool without revocation.
func (e *env) verifier(t *testing.T) *cognitoguard.Verifier {
	t.Helper()
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()},
		ClientIDs: []string{clientID}}}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// token returns the last access token the app sent to the API.
func (e *env) token(t *testing.T) string {
	t.Helper()
	tok, _ := e.lastToken.Load().(string)
	if tok == "" {
		t.Fatal("the API has seen no token")
	}
	return tok
}

// browser plays a browser without JavaScript: a cookie jar, redirects
// followed.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t, &http.Client{Jar: jar, Timeout: 15 * time.Second}}
}

// page is a response with its body read.
type page struct {
	status int
	url    *url.URL
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{res.StatusCode, res.Request.URL, string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// isLoginPage reports whether p is the managed login's password form.
func (e *env) isLoginPage(p page) bool {
	return p.status == http.StatusOK && "http://"+p.url.Host == e.domain && p.url.Path == "/login" &&
		strings.Contains(p.body, `type="password"`)
}

// signIn follows the app's "Sign in" to the managed login's form, signs
// in there with the password, and returns the page the browser lands on.
func (e *env) signIn(t *testing.T, b *browser, user, pass string) page {
	t.Helper()
	p := b.get(e.appURL + "/login")
	if !e.isLoginPage(p) {
		t.Fatalf("GET /login landed on %s (%d), want the managed login's form", p.url, p.status)
	}
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on the login page: %s", p.body)
	}
	return b.post(p.url.String(), url.Values{"username": {user}, "password": {pass}, "_csrf": {m[1]}})
}

// failingStore is a revocation store whose writes fail while fail is set.
type failingStore struct {
	revocation.Store
	fail atomic.Bool
}

var errStoreDown = errors.New("test: store down")

func (s *failingStore) RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error {
	if s.fail.Load() {
		return errStoreDown
	}
	return s.Store.RevokeUser(ctx, poolID, sub, at)
}

// RevokeUserSince fails like RevokeUser: the embedded store's would be
// promoted, and the sign-out helper prefers it (signout.SinceRecorder).
func (s *failingStore) RevokeUserSince(ctx context.Context, poolID, sub string, since, at time.Time) (time.Time, bool, error) {
	if s.fail.Load() {
		return time.Time{}, false, errStoreDown
	}
	return s.Store.RevokeUserSince(ctx, poolID, sub, since, at)
}

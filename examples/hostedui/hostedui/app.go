package hostedui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"golang.org/x/oauth2"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/jwks"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// UserAdminScope is the scope GlobalSignOut needs in the access token; the
// app asks for it with "openid" and refuses a sign-in whose token lacks it.
const UserAdminScope = "aws.cognito.signin.user.admin"

// Config configures [New]. UserPoolID, ClientID, Domain, PublicURL and
// APIURL are required.
type Config struct {
	// Region of the user pool, such as "eu-west-1". Default: the prefix of
	// UserPoolID.
	Region string
	// UserPoolID, such as "eu-west-1_AbCdEf123". Required.
	UserPoolID string
	// ClientID is the app client: the authorization-code grant allowed,
	// scopes openid and aws.cognito.signin.user.admin, PublicURL +
	// "/callback" among its callback URLs and PublicURL + "/" among its
	// sign-out URLs. Required.
	ClientID string
	// ClientSecret is the app client's secret, if it has one (a server-side
	// app may); PKCE is used either way. It is never logged.
	ClientSecret string
	// Issuer overrides the issuer derived from the pool (emulators, tests).
	Issuer string
	// CognitoEndpoint overrides the Cognito API endpoint (emulators, tests).
	CognitoEndpoint string
	// Cognito, if set, replaces the SDK client built from Region and
	// CognitoEndpoint.
	Cognito signout.CognitoAPI

	// Domain is the managed login (hosted UI) of the pool, scheme and host:
	// "https://myapp.auth.eu-west-1.amazoncognito.com" or a custom domain.
	// For development only, http to localhost with a port (a fake pool such
	// as cmd/cognitotest) is accepted too. Required.
	Domain string
	// PublicURL is this app as browsers reach it, such as
	// "https://app.example.com". Cookies are Secure (and __Host- prefixed)
	// when it is https. Required.
	PublicURL string
	// APIURL is the API service the app calls with the user's access token
	// (GET APIURL + "/me"), such as "http://127.0.0.1:8081". Required.
	APIURL string

	// Store records sign-outs and is consulted on every request. Default:
	// an in-process [revocation.Memory] (one instance only; the API
	// service then never hears of the sign-outs: share a
	// [redisstore.New] store).
	Store revocation.Store

	// MaxSessions, MaxSessionBytes and MaxSessionsPerUser bound the
	// server-side sessions (the oldest make room for new ones);
	// SessionLifetime ends each session, whatever its tokens. Defaults
	// [DefaultMaxSessions], [DefaultMaxSessionBytes],
	// [DefaultMaxSessionsPerUser], [DefaultSessionLifetime].
	MaxSessions, MaxSessionBytes, MaxSessionsPerUser int
	SessionLifetime                                  time.Duration

	// HTTPClient calls the token endpoint, the JWKS, the Cognito API and
	// the API service. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock of sessions. Default time.Now.
	Now func() time.Time
	// Logger receives the app's and the library's records. Nil discards.
	Logger *slog.Logger
}

// App is the web application, an [http.Handler] safe for concurrent use.
// Close releases its Verifier.
type App struct {
	handler   http.Handler
	oauth     *oauth2.Config
	verifier  *cognitoguard.Verifier
	signOut   *signout.Helper
	sessions  *sessions
	hc        *http.Client
	apiURL    string
	logoutURL string // the managed login's logout, with client_id and logout_uri
	secure    bool   // PublicURL is https: Secure, __Host- cookies
	log       *slog.Logger
}

// New returns the app for cfg.
func New(cfg Config) (*App, error) {
	if cfg.UserPoolID == "" || cfg.ClientID == "" || cfg.Domain == "" || cfg.PublicURL == "" || cfg.APIURL == "" {
		return nil, errors.New("hostedui: UserPoolID, ClientID, Domain, PublicURL and APIURL are required")
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if err := checkBaseURL("PublicURL", cfg.PublicURL); err != nil {
		return nil, err
	}
	if u, _ := url.Parse(cfg.PublicURL); u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("hostedui: PublicURL %q: http only on a loopback host (development); serve the app over https", cfg.PublicURL)
	}
	if err := checkBaseURL("APIURL", strings.TrimSuffix(cfg.APIURL, "/")); err != nil {
		return nil, err
	}
	domain, logoutURL, err := managedLogin(cfg.Domain, cfg.ClientID, cfg.PublicURL+"/")
	if err != nil {
		return nil, err
	}
	setDefaults(&cfg)
	idp := cfg.Cognito
	if idp == nil {
		if idp, err = newCognito(cfg); err != nil {
			return nil, err
		}
	}
	pool := cognitoguard.Pool{UserPoolID: cfg.UserPoolID, ClientIDs: []string{cfg.ClientID}}
	if cfg.Issuer != "" {
		pool.Issuers = []string{cfg.Issuer}
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{
		Revocation: cfg.Store, JWKS: jwks.Config{HTTPClient: cfg.HTTPClient}, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	so, err := signout.New(idp, v, cfg.Store, signout.Config{Logger: cfg.Logger})
	if err != nil {
		v.Close()
		return nil, err
	}
	a := &App{
		oauth: &oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:   domain + "/oauth2/authorize",
				TokenURL:  domain + "/oauth2/token",
				AuthStyle: authStyle(cfg.ClientSecret),
			},
			RedirectURL: cfg.PublicURL + "/callback",
			Scopes:      []string{"openid", UserAdminScope},
		},
		verifier:  v,
		signOut:   so,
		sessions:  newSessions(cfg.MaxSessions, cfg.MaxSessionBytes, cfg.MaxSessionsPerUser, cfg.SessionLifetime, cfg.Now),
		hc:        cfg.HTTPClient,
		apiURL:    strings.TrimSuffix(cfg.APIURL, "/"),
		logoutURL: logoutURL,
		secure:    strings.HasPrefix(cfg.PublicURL, "https://"),
		log:       cfg.Logger,
	}
	a.handler = a.routes(domain)
	return a, nil
}

// authStyle is how the app client authenticates at the token endpoint: a
// confidential client with HTTP Basic (client_secret_basic), a public one
// with client_id in the body, as Cognito documents for each.
func authStyle(secret string) oauth2.AuthStyle {
	if secret != "" {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

func setDefaults(cfg *Config) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Store == nil {
		cfg.Store = revocation.NewMemory(revocation.MemoryConfig{Logger: cfg.Logger})
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.MaxSessionBytes <= 0 {
		cfg.MaxSessionBytes = DefaultMaxSessionBytes
	}
	if cfg.MaxSessionsPerUser <= 0 {
		cfg.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
}

// checkBaseURL accepts an absolute http(s) URL without path, query, user
// info or fragment.
func checkBaseURL(name, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("hostedui: %s %q is not a base URL such as https://app.example.com", name, s)
	}
	return nil
}

// managedLogin checks the managed-login domain and returns its base URL
// and its logout address for clientID and logoutURI, built by
// [signout.LogoutURL] (https only): for a development domain (http to
// localhost) the scheme and host of that address are replaced.
func managedLogin(domain, clientID, logoutURI string) (base, logout string, err error) {
	domain = strings.TrimSuffix(domain, "/")
	if err := checkBaseURL("Domain", domain); err != nil {
		return "", "", err
	}
	u, _ := url.Parse(domain)
	if u.Scheme == "http" && !strings.EqualFold(u.Hostname(), "localhost") {
		return "", "", fmt.Errorf("hostedui: Domain %q: http only to localhost (development)", domain)
	}
	if u.Scheme == "https" && u.Port() != "" {
		return "", "", fmt.Errorf("hostedui: Domain %q: a managed-login domain has no port", domain)
	}
	logout, err = signout.LogoutURL(u.Hostname(), clientID, logoutURI)
	if err != nil {
		return "", "", err
	}
	if u.Scheme == "http" {
		l, _ := url.Parse(logout)
		l.Scheme, l.Host = u.Scheme, u.Host
		logout = l.String()
	}
	return domain, logout, nil
}

// newCognito returns a Cognito client for the pool's region. GlobalSignOut
// is authorized by the user's access token: no AWS credentials are needed.
func newCognito(cfg Config) (signout.CognitoAPI, error) {
	region := cfg.Region
	if region == "" {
		r, err := cognitoguard.PoolRegion(cfg.UserPoolID)
		if err != nil {
			return nil, fmt.Errorf("hostedui: no region given: %w", err)
		}
		region = r
	}
	opts := cip.Options{Region: region, Credentials: aws.AnonymousCredentials{}, HTTPClient: cfg.HTTPClient}
	if cfg.CognitoEndpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.CognitoEndpoint)
	}
	return cip.New(opts), nil
}

// routes returns the app's handler: its routes behind cross-origin
// protection and the security headers. domain's origin is allowed as a
// form target: the logout POST redirects there.
func (a *App) routes(domain string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /call-api", a.callAPI)
	mux.HandleFunc("POST /logout", a.logout)
	mux.Handle("GET /healthz", middleware.NewReadyHandler(a.verifier, a.log))
	csp := "default-src 'none'; form-action 'self' " + domain + "; frame-ancestors 'none'; base-uri 'none'"
	cop := http.NewCrossOriginProtection()
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	}))
}

// ServeHTTP serves the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Close releases the Verifier's key fetchers.
func (a *App) Close() error { return a.verifier.Close() }

// Verifier returns the app's Verifier (for readiness checks).
func (a *App) Verifier() *cognitoguard.Verifier { return a.verifier }

// Sessions returns the number of live sessions and the bytes they count.
func (a *App) Sessions() (n, bytes int) { return a.sessions.len() }

// tokenContext bounds a call to Cognito's token endpoint and makes
// x/oauth2 use the app's HTTP client.
func (a *App) tokenContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	return context.WithValue(ctx, oauth2.HTTPClient, a.hc), cancel
}

// loopback reports whether host names the local machine.
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
}

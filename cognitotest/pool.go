package cognitotest

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by [NewPool] to the zero fields of [Config].
const (
	// DefaultPoolID is the user pool ID of a Config without PoolID.
	DefaultPoolID = "us-east-1_cognitotest"
	// DefaultClientID is the only app client of a Config without ClientIDs.
	DefaultClientID = "cognitotest-client"
	// DefaultTokenTTL is the lifetime of access and ID tokens, as in Cognito.
	DefaultTokenTTL = time.Hour
	// DefaultRefreshTokenTTL is the lifetime of refresh tokens, as in Cognito.
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	// DefaultScope is the scope of access tokens issued by a sign-in with
	// the user pool API, as in Cognito.
	DefaultScope = "aws.cognito.signin.user.admin"
)

// Config configures a [Pool]. Its zero value is usable: every zero field
// takes the default documented on it.
type Config struct {
	// PoolID is the user pool ID, the last path element of the issuer.
	// If empty, DefaultPoolID ("us-east-1_cognitotest") is used.
	PoolID string

	// ClientIDs are app clients of the pool with the defaults of
	// [AppClient]. The first one is the default client of minted tokens
	// ([Pool.ClientID]). If ClientIDs and Clients are both empty, one
	// client DefaultClientID ("cognitotest-client") is used. NewPool
	// panics on an empty or duplicate ID.
	ClientIDs []string

	// Clients are further app clients, configured (see [AppClient]).
	Clients []AppClient

	// ClientSecrets gives app clients (by ID, among ClientIDs and Clients)
	// a client secret, as [AppClient.Secret] does. NewPool panics on a
	// secret of an unknown client, an empty one or one set twice.
	ClientSecrets map[string]string

	// AliasAttributes are the attributes a user may sign in with besides
	// the username, which the Admin* operations also accept for Username
	// (Cognito's AliasAttributes): "email", "phone_number" and
	// "preferred_username". An email or phone number serves only while
	// verified (the attribute email_verified or phone_number_verified is
	// "true"). If empty, as in a pool created without them, a user is
	// named by its username only (or, in Admin* operations, a local
	// user's sub). NewPool panics on another value or when both
	// AliasAttributes and UsernameAttributes are set.
	AliasAttributes []string

	// UsernameAttributes make "email" and/or "phone_number" what users sign
	// in with in place of a username, verified or not (Cognito's
	// UsernameAttributes). AddUser then defaults a local user's Username
	// to its sub, as Cognito generates one. NewPool panics on another value.
	UsernameAttributes []string

	// CaseInsensitive makes usernames, emails and preferred usernames
	// match whatever their case, as Cognito's UsernameConfiguration with
	// CaseSensitive false does. If false (the default, Cognito's
	// CaseSensitive true), they match exactly.
	CaseInsensitive bool

	// Now is the clock used to mint tokens (iat, auth_time, exp) and by
	// the API (expiry of access and refresh tokens, sign-out times).
	// If nil, time.Now is used. It MUST be safe for concurrent use (the
	// API calls it from the server's goroutines) and MUST NOT call methods
	// of the Pool (it runs under the pool's lock).
	Now func() time.Time

	// AccessTokenTTL and IDTokenTTL are the lifetimes of minted tokens
	// (exp - iat). If zero, DefaultTokenTTL (1 hour, as in Cognito) is used.
	AccessTokenTTL, IDTokenTTL time.Duration

	// RefreshTokenTTL is the lifetime of refresh tokens: the API refuses a
	// refresh token older than that with NotAuthorizedException
	// "Refresh Token has expired". If zero, DefaultRefreshTokenTTL
	// (30 days, as in Cognito) is used.
	RefreshTokenTTL time.Duration

	// Listener, if set, is where the pool serves (its address makes the
	// issuer and URL), instead of a new listener on 127.0.0.1 and a free
	// port. The Pool closes it with [Pool.Close].
	Listener net.Listener

	// ImplicitUsers makes the minting methods ([Pool.SignIn],
	// [Pool.AccessToken], [Pool.IDToken]) add a local user, with that
	// username and no password, for a name that matches no user. If false
	// (the default), they panic on such a name, so that a test cannot
	// verify tokens of a user the pool's API would not know.
	ImplicitUsers bool

	// LoopbackOnly makes the pool refuse (403) every request whose Host
	// is not a loopback name (localhost, a name under .localhost, or a
	// loopback IP address) or whose Origin header, when present, is not
	// such a name's (the opaque origin "null" included). A pool that
	// outlives a test, such as cmd/cognitotest's, SHOULD set it: the pool
	// authenticates no one, and a web page of another site could
	// otherwise reach it through DNS rebinding or a cross-site form. A
	// single-page app under test served from localhost is still answered.
	// If false (the default), any Host and Origin are answered.
	LoopbackOnly bool
}

// Pool is a fake Amazon Cognito user pool served by an [httptest.Server] on
// 127.0.0.1. It mints tokens shaped like Cognito's, serves its JWKS at
// [Pool.JWKSURL], and answers the subset of the Cognito user pool API (JSON
// 1.1 protocol) listed in the package documentation at [Pool.URL], so that
// the real aws-sdk-go-v2 client can be pointed at it, and the OAuth 2.0
// endpoints of Cognito's managed login (/oauth2/authorize, /login,
// /oauth2/token, /oauth2/revoke, /oauth2/userInfo, /logout) there too.
//
// All methods of Pool are safe for concurrent use, including from HTTP
// handlers under test. A Pool MUST be closed with [Pool.Close] (for example
// with t.Cleanup(p.Close)).
type Pool struct {
	poolID         string
	defaultClient  string
	now            func() time.Time
	accessTTL      time.Duration
	idTTL          time.Duration
	refreshTTL     time.Duration
	signInAttrs    []signInAttr
	usernameAttrs  bool
	foldCase       bool
	loopbackOnly   bool
	implicitUsers  bool
	srv            *httptest.Server
	url            string
	issuer         string
	jwksPath       string
	oidcConfigPath string
	done           chan struct{}
	closeOnce      sync.Once
	jwksHits       atomic.Int64
	trail          trail // CloudTrail records, under their own lock (cloudtrail.go)

	mu             sync.Mutex
	clients        []*AppClient
	accessKey      signingKey
	idKey          signingKey
	users          []*userRecord // in insertion order
	sessions       map[string]*session
	current        map[sessionKey]*session
	revokedOrigins map[string]struct{}
	signedOut      map[string]time.Time // by sub
	jwksHandler    http.Handler
	failures       map[string][]*injectedFailure
	calls          map[string]int
	apiDelay       time.Duration
	logins         map[string]*loginSession // managed-login sessions by cookie
	codes          map[string]*authCode     // authorization codes
}

// session is one sign-in: a refresh token and the origin_jti of every
// token minted from it.
type session struct {
	refreshToken string
	sub          string
	clientID     string
	originJTI    string
	eventID      string
	authTime     time.Time
	issued       time.Time // of the first refresh token of a rotated family
	revoked      bool
	rotatedOut   time.Time // when rotation retired this refresh token; zero if it did not
	oauth        bool      // started by the OAuth endpoints: scopes and version 2
	scopes       []string  // granted by the OAuth endpoints
}

type sessionKey struct{ sub, clientID string }

// NewPool starts a fake user pool on a new httptest server listening on
// 127.0.0.1 and generates its two RSA-2048 signing keys (one for access
// tokens, one for ID tokens). It panics if cfg is invalid (see [Config]) or
// the server cannot start. The caller MUST call [Pool.Close].
func NewPool(cfg Config) *Pool {
	p := &Pool{
		poolID:         cfg.PoolID,
		clients:        configClients(cfg),
		now:            cfg.Now,
		accessTTL:      cfg.AccessTokenTTL,
		idTTL:          cfg.IDTokenTTL,
		refreshTTL:     cfg.RefreshTokenTTL,
		done:           make(chan struct{}),
		sessions:       make(map[string]*session),
		current:        make(map[sessionKey]*session),
		revokedOrigins: make(map[string]struct{}),
		signedOut:      make(map[string]time.Time),
		failures:       make(map[string][]*injectedFailure),
		calls:          make(map[string]int),
		logins:         make(map[string]*loginSession),
		codes:          make(map[string]*authCode),
	}
	if p.poolID == "" {
		p.poolID = DefaultPoolID
	}
	if strings.ContainsAny(p.poolID, "/?#% ") {
		panic(fmt.Sprintf("cognitotest: invalid pool ID %q", p.poolID))
	}
	p.defaultClient = p.clients[0].ID
	p.signInAttrs, p.usernameAttrs = signInAttrs(cfg.AliasAttributes, cfg.UsernameAttributes)
	p.foldCase = cfg.CaseInsensitive
	p.loopbackOnly = cfg.LoopbackOnly
	p.implicitUsers = cfg.ImplicitUsers
	if p.now == nil {
		p.now = time.Now
	}
	if p.accessTTL <= 0 {
		p.accessTTL = DefaultTokenTTL
	}
	if p.idTTL <= 0 {
		p.idTTL = DefaultTokenTTL
	}
	if p.refreshTTL <= 0 {
		p.refreshTTL = DefaultRefreshTokenTTL
	}
	p.accessKey, p.idKey = newKeyPair()
	if cfg.Listener == nil {
		p.srv = httptest.NewServer(http.HandlerFunc(p.serveHTTP))
	} else {
		p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serveHTTP))
		p.srv.Listener.Close()
		p.srv.Listener = cfg.Listener
		p.srv.Start()
	}
	p.url = p.srv.URL
	p.issuer = p.url + "/" + p.poolID
	p.jwksPath = "/" + p.poolID + "/.well-known/jwks.json"
	p.oidcConfigPath = "/" + p.poolID + "/.well-known/openid-configuration"
	return p
}

// Close stops the server, first cutting short any delay set by
// [Pool.SetAPIDelay]. It blocks until outstanding requests have completed,
// so a handler set with [Pool.SetJWKSHandler] that never returns MUST watch
// its request's context. Close may be called more than once.
func (p *Pool) Close() {
	p.closeOnce.Do(func() {
		close(p.done)
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
}

// URL returns the server's base URL, such as "http://127.0.0.1:41234",
// without a trailing slash. It is also the Cognito API endpoint: pass it as
// the SDK's BaseEndpoint.
func (p *Pool) URL() string { return p.url }

// Issuer returns the pool's issuer, URL() + "/" + PoolID(), the iss claim
// of its tokens.
func (p *Pool) Issuer() string { return p.issuer }

// JWKSURL returns Issuer() + "/.well-known/jwks.json", where the pool
// serves its public keys.
func (p *Pool) JWKSURL() string { return p.issuer + "/.well-known/jwks.json" }

// PoolID returns the user pool ID.
func (p *Pool) PoolID() string { return p.poolID }

// newSessionLocked starts a sign-in session of r with clientID at now and
// makes it the user's current session for that client.
func (p *Pool) newSessionLocked(r *userRecord, clientID string, now time.Time) *session {
	s := &session{
		refreshToken: newRefreshToken(),
		sub:          r.Sub,
		clientID:     clientID,
		originJTI:    newUUID(),
		eventID:      newUUID(),
		authTime:     now,
		issued:       now,
	}
	p.sessions[s.refreshToken] = s
	p.current[sessionKey{r.Sub, clientID}] = s
	return s
}

// currentSessionLocked returns the latest unrevoked session of r with
// clientID, starting one when there is none.
func (p *Pool) currentSessionLocked(r *userRecord, clientID string, now time.Time) *session {
	if s := p.current[sessionKey{r.Sub, clientID}]; s != nil && !s.revoked {
		return s
	}
	return p.newSessionLocked(r, clientID, now)
}

// revokeSessionLocked revokes s and the tokens minted from it.
func (p *Pool) revokeSessionLocked(s *session) {
	s.revoked = true
	p.revokedOrigins[s.originJTI] = struct{}{}
}

// revokeAllLocked revokes every session of sub and records the time, as
// a global sign-out, AdminDisableUser or AdminDeleteUser does.
func (p *Pool) revokeAllLocked(sub string, now time.Time) {
	for _, s := range p.sessions {
		if s.sub == sub && !s.revoked {
			p.revokeSessionLocked(s)
		}
	}
	p.signedOut[sub] = now
}

// SignedOutAt reports the time of the latest revocation of every session
// of the user with that sub (GlobalSignOut, AdminUserGlobalSignOut,
// AdminDisableUser or AdminDeleteUser through the API, or
// [Pool.AdminUserGlobalSignOut]), read from the pool's clock. It is an oracle for tests
// of revocation: real Cognito offers no such query.
func (p *Pool) SignedOutAt(sub string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.signedOut[sub]
	return t, ok
}

// OriginRevoked reports whether the session with that origin_jti was
// revoked, by RevokeToken or by a global sign-out of its user.
func (p *Pool) OriginRevoked(originJTI string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.revokedOrigins[originJTI]
	return ok
}

// newUUID returns a random UUID in version 4 format.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

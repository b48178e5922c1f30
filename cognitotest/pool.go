package cognitotest

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
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

	// ClientIDs are the app clients of the pool. The first one is the
	// default client of minted tokens ([Pool.ClientID]). If empty, one
	// client DefaultClientID ("cognitotest-client") is used. NewPool
	// panics on an empty or duplicate ID.
	ClientIDs []string

	// ClientSecrets gives app clients (by ID, among ClientIDs) a client
	// secret, as confidential clients have. The API then requires it as
	// Cognito does: RevokeToken's ClientSecret (else UnauthorizedException
	// "Invalid client or secret"), and InitiateAuth's SECRET_HASH,
	// Base64(HMAC-SHA256(secret, username + client ID)), where for
	// REFRESH_TOKEN_AUTH the username may also be the sub (else
	// NotAuthorizedException). NewPool panics on a secret of an unknown
	// client or an empty one.
	ClientSecrets map[string]string

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
}

// Pool is a fake Amazon Cognito user pool served by an [httptest.Server] on
// 127.0.0.1. It mints tokens shaped like Cognito's, serves its JWKS at
// [Pool.JWKSURL], and answers the subset of the Cognito user pool API (JSON
// 1.1 protocol) listed in the package documentation at [Pool.URL], so that
// the real aws-sdk-go-v2 client can be pointed at it.
//
// All methods of Pool are safe for concurrent use, including from HTTP
// handlers under test. A Pool MUST be closed with [Pool.Close] (for example
// with t.Cleanup(p.Close)).
type Pool struct {
	poolID         string
	clientIDs      []string
	secrets        map[string]string // by client ID
	now            func() time.Time
	accessTTL      time.Duration
	idTTL          time.Duration
	refreshTTL     time.Duration
	srv            *httptest.Server
	url            string
	issuer         string
	jwksPath       string
	oidcConfigPath string
	done           chan struct{}
	closeOnce      sync.Once
	jwksHits       atomic.Int64

	mu             sync.Mutex
	accessKey      signingKey
	idKey          signingKey
	users          []*userRecord // in insertion order
	sessions       map[string]*session
	current        map[sessionKey]*session
	revokedOrigins map[string]struct{}
	signedOut      map[string]time.Time // by sub
	jwksStatus     int
	jwksHandler    http.Handler
	failures       map[string][]*injectedFailure
	calls          map[string]int
	apiDelay       time.Duration
}

// User is a user of a [Pool].
type User struct {
	// Username is the user name (cognito:username, username). Required.
	Username string
	// Sub is the user's immutable ID. If empty, AddUser generates one in
	// UUID version 4 format, as Cognito does.
	Sub string
	// Email is the email attribute, also usable as a sign-in alias by the
	// API. Emails SHOULD be unique within a pool; on a clash the earliest
	// added user wins. If empty, the email claims are left out.
	Email string
	// Password is what the API's password flows accept. A user with an
	// empty Password cannot sign in through the API (SignIn still works).
	Password string
	// Groups are the user's groups (cognito:groups), in order. If empty,
	// the claim is left out, as Cognito does.
	Groups []string
	// Attributes are further user attributes, such as "custom:tenant",
	// "name" or "phone_number". They appear as string claims of ID tokens
	// (except "email_verified" and "phone_number_verified", which are
	// booleans) and in AdminGetUser and GetUser. "email_verified" defaults
	// to "true" when Email is set.
	Attributes map[string]string
}

type userRecord struct {
	User
	created time.Time
}

func (u User) clone() User {
	u.Groups = slices.Clone(u.Groups)
	u.Attributes = maps.Clone(u.Attributes)
	return u
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
	issued       time.Time
	revoked      bool
}

type sessionKey struct{ sub, clientID string }

// NewPool starts a fake user pool on a new httptest server listening on
// 127.0.0.1 and generates its two RSA-2048 signing keys (one for access
// tokens, one for ID tokens). It panics if cfg is invalid (see [Config]) or
// the server cannot start. The caller MUST call [Pool.Close].
func NewPool(cfg Config) *Pool {
	p := &Pool{
		poolID:         cfg.PoolID,
		clientIDs:      slices.Clone(cfg.ClientIDs),
		secrets:        maps.Clone(cfg.ClientSecrets),
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
	}
	if p.poolID == "" {
		p.poolID = DefaultPoolID
	}
	if strings.ContainsAny(p.poolID, "/?#% ") {
		panic(fmt.Sprintf("cognitotest: invalid pool ID %q", p.poolID))
	}
	if len(p.clientIDs) == 0 {
		p.clientIDs = []string{DefaultClientID}
	}
	seen := make(map[string]bool)
	for _, c := range p.clientIDs {
		if c == "" || seen[c] {
			panic(fmt.Sprintf("cognitotest: empty or duplicate client ID %q", c))
		}
		seen[c] = true
	}
	for c, secret := range p.secrets {
		if !seen[c] || secret == "" {
			panic(fmt.Sprintf("cognitotest: client secret for unknown client %q, or empty", c))
		}
	}
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

// ClientID returns the default app client ID, the first of
// [Config.ClientIDs].
func (p *Pool) ClientID() string { return p.clientIDs[0] }

// ClientIDs returns a copy of all the app client IDs of the pool.
func (p *Pool) ClientIDs() []string { return slices.Clone(p.clientIDs) }

func (p *Pool) isClient(id string) bool { return slices.Contains(p.clientIDs, id) }

// AddUser adds u to the pool and returns the stored user. If u.Sub is
// empty a new one is generated (UUID version 4 format). If a user with the
// same Username exists it is replaced, keeping its Sub unless u.Sub is set.
// AddUser panics if u.Username is empty or u.Sub is another user's.
func (p *Pool) AddUser(u User) User {
	if u.Username == "" {
		panic("cognitotest: AddUser: empty Username")
	}
	u = u.clone()
	p.mu.Lock()
	defer p.mu.Unlock()
	var existing *userRecord
	for _, r := range p.users {
		if r.Username == u.Username {
			existing = r
		}
	}
	if u.Sub == "" {
		if existing != nil {
			u.Sub = existing.Sub
		} else {
			u.Sub = newUUID()
		}
	}
	for _, r := range p.users {
		if r.Sub == u.Sub && r != existing {
			panic(fmt.Sprintf("cognitotest: AddUser: sub %q already belongs to %q", u.Sub, r.Username))
		}
	}
	if existing != nil {
		existing.User = u
		return u.clone()
	}
	p.users = append(p.users, &userRecord{User: u, created: p.now()})
	return u.clone()
}

// User returns the user whose username, sub or email (compared
// case-insensitively), tried in that order, is usernameOrSub.
func (p *Pool) User(usernameOrSub string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.lookupLocked(usernameOrSub)
	if r == nil {
		return User{}, false
	}
	return r.User.clone(), true
}

func (p *Pool) lookupLocked(name string) *userRecord {
	if name == "" {
		return nil
	}
	for _, r := range p.users {
		if r.Username == name {
			return r
		}
	}
	for _, r := range p.users {
		if r.Sub == name {
			return r
		}
	}
	for _, r := range p.users {
		if r.Email != "" && strings.EqualFold(r.Email, name) {
			return r
		}
	}
	return nil
}

func (p *Pool) userBySubLocked(sub string) *userRecord {
	for _, r := range p.users {
		if r.Sub == sub {
			return r
		}
	}
	return nil
}

// userForMintLocked resolves name like User does and adds a user with
// that username when there is none.
func (p *Pool) userForMintLocked(name string) *userRecord {
	if r := p.lookupLocked(name); r != nil {
		return r
	}
	if name == "" {
		panic("cognitotest: empty username")
	}
	r := &userRecord{User: User{Username: name, Sub: newUUID()}, created: p.now()}
	p.users = append(p.users, r)
	return r
}

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

// globalSignOutLocked revokes every session of sub and records the time.
func (p *Pool) globalSignOutLocked(sub string, now time.Time) {
	for _, s := range p.sessions {
		if s.sub == sub && !s.revoked {
			p.revokeSessionLocked(s)
		}
	}
	p.signedOut[sub] = now
}

// SignedOutAt reports the time of the latest global sign-out (GlobalSignOut
// or AdminUserGlobalSignOut through the API, or [Pool.GlobalSignOut]) of the
// user with that sub, read from the pool's clock. It is an oracle for tests
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

// GlobalSignOut signs the user out as the API's AdminUserGlobalSignOut
// does, without an HTTP round trip: every refresh token of the user is
// revoked, and so are the access tokens of those sessions as far as the
// pool's own API is concerned. usernameOrSub is resolved as by [Pool.User].
// It reports whether the user exists.
func (p *Pool) GlobalSignOut(usernameOrSub string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.lookupLocked(usernameOrSub)
	if r == nil {
		return false
	}
	p.globalSignOutLocked(r.Sub, p.now())
	return true
}

// newUUID returns a random UUID in version 4 format.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

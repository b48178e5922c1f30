package cognitoguard

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cognitoguard/cognitoguard/jwks"
)

// Verifier checks Cognito access and ID tokens. It is safe for concurrent
// use. Close releases the key fetchers it created.
type Verifier struct {
	pools    map[string]*pool // by issuer
	tokenUse TokenUse
	leeway   time.Duration
	maxSize  int
	scopes   []string
	groups   []string
	check    func(context.Context, *Claims) error
	rev      RevocationChecker
	failOpen bool
	now      func() time.Time
	log      *slog.Logger
	cache    *tokenCache
	owned    []*jwks.Set
}

type pool struct {
	issuer  string
	id      string // user pool ID, the revocation records' key
	keys    KeySource
	clients map[string]struct{} // nil: any client
}

var (
	poolIDRe = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$`)
	// loosePoolIDRe accepts emulator pool ids such as local_AbC123 when the
	// issuer is explicit.
	loosePoolIDRe = regexp.MustCompile(`^[\w-]+_[0-9A-Za-z]+$`)
)

// NewVerifier returns a Verifier for one user pool and its allowed app
// clients. userPoolID looks like "us-east-1_AbCdEf123"; cfg.Issuer
// overrides the issuer derived from it. clientIDs must not be empty: use
// [New] with [Pool.AnyClient] to accept every client of the pool.
func NewVerifier(userPoolID string, clientIDs []string, cfg Config) (*Verifier, error) {
	p := Pool{UserPoolID: userPoolID, Issuer: cfg.Issuer, JWKSURL: cfg.JWKSURL, ClientIDs: clientIDs}
	cfg.Issuer, cfg.JWKSURL = "", ""
	return New([]Pool{p}, cfg)
}

// New returns a Verifier accepting tokens of any of pools. A token's
// unverified iss selects the pool; its keys then verify the signature.
func New(pools []Pool, cfg Config) (*Verifier, error) {
	if len(pools) == 0 {
		return nil, errors.New("cognitoguard: no user pool configured")
	}
	if cfg.Issuer != "" || cfg.JWKSURL != "" {
		return nil, errors.New("cognitoguard: Config.Issuer and Config.JWKSURL are for NewVerifier; set Pool.Issuer and Pool.JWKSURL")
	}
	v := &Verifier{
		pools:    make(map[string]*pool, len(pools)),
		tokenUse: cfg.TokenUse,
		leeway:   cfg.Leeway,
		maxSize:  cfg.MaxTokenSize,
		scopes:   append([]string(nil), cfg.RequiredScopes...),
		groups:   append([]string(nil), cfg.RequiredGroups...),
		check:    cfg.Check,
		rev:      cfg.Revocation,
		failOpen: cfg.RevocationFailOpen,
		now:      cfg.Now,
		log:      cfg.Logger,
	}
	switch v.tokenUse {
	case "":
		v.tokenUse = TokenUseAccess
	case TokenUseAccess, TokenUseID, TokenUseAny:
	default:
		return nil, fmt.Errorf("cognitoguard: TokenUse %q is not access, id or any", cfg.TokenUse)
	}
	if v.leeway < 0 || v.leeway > 5*time.Minute {
		return nil, fmt.Errorf("cognitoguard: Leeway %v is outside [0, 5m]", v.leeway)
	}
	if v.maxSize == 0 {
		v.maxSize = DefaultMaxTokenSize
	}
	if v.maxSize < 0 {
		return nil, errors.New("cognitoguard: MaxTokenSize is negative")
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.CacheSize == 0:
		v.cache = newTokenCache(DefaultCacheSize)
	case cfg.CacheSize > 0:
		v.cache = newTokenCache(cfg.CacheSize)
	}
	jc := cfg.JWKS
	if jc.HTTPClient == nil {
		jc.HTTPClient = cfg.HTTPClient
	}
	if jc.Now == nil {
		jc.Now = cfg.Now
	}
	if jc.Logger == nil {
		jc.Logger = cfg.Logger
	}
	for i, pc := range pools {
		p, err := v.newPool(pc, jc)
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("cognitoguard: pool %d: %w", i, err)
		}
		if _, dup := v.pools[p.issuer]; dup {
			v.Close()
			return nil, fmt.Errorf("cognitoguard: pool %d: issuer %q configured twice", i, p.issuer)
		}
		v.pools[p.issuer] = p
	}
	return v, nil
}

func (v *Verifier) newPool(pc Pool, jc jwks.Config) (*pool, error) {
	iss := pc.Issuer
	if iss == "" {
		m := poolIDRe.FindStringSubmatch(pc.UserPoolID)
		if m == nil {
			return nil, fmt.Errorf("user pool id %q is not of the form region_id (set Issuer for emulators)", pc.UserPoolID)
		}
		iss = "https://cognito-idp." + m[1] + ".amazonaws.com/" + pc.UserPoolID
	} else if pc.UserPoolID != "" && !loosePoolIDRe.MatchString(pc.UserPoolID) {
		return nil, fmt.Errorf("user pool id %q is malformed", pc.UserPoolID)
	}
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("issuer %q is not an absolute http(s) URL", iss)
	}
	if strings.HasSuffix(iss, "/") {
		return nil, fmt.Errorf("issuer %q ends with a slash; Cognito issuers never do", iss)
	}
	p := &pool{issuer: iss, id: pc.UserPoolID, keys: pc.Keys}
	if p.id == "" { // an emulator pool named by its issuer alone
		p.id = iss[strings.LastIndexByte(iss, '/')+1:]
	}
	if !pc.AnyClient {
		if len(pc.ClientIDs) == 0 {
			return nil, errors.New("no client ids (set AnyClient to accept every app client)")
		}
		p.clients = make(map[string]struct{}, len(pc.ClientIDs))
		for _, c := range pc.ClientIDs {
			if c == "" {
				return nil, errors.New("empty client id")
			}
			p.clients[c] = struct{}{}
		}
	}
	if p.keys == nil {
		ju := pc.JWKSURL
		if ju == "" {
			ju = iss + "/.well-known/jwks.json"
		}
		if err := checkKeyURL(ju); err != nil {
			return nil, err
		}
		set, err := jwks.New(ju, jc)
		if err != nil {
			return nil, err
		}
		v.owned = append(v.owned, set)
		p.keys = set
	}
	return p, nil
}

// checkKeyURL requires https, or http to a loopback host: keys fetched in
// clear text over a network could be replaced by anyone on the path.
func checkKeyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("JWKS URL %q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("JWKS URL %q must be https (http only to a loopback host)", s)
}

// Refresh fetches every pool's key set now (for an eager start). It is
// optional: keys are fetched on first use otherwise.
func (v *Verifier) Refresh(ctx context.Context) error {
	var errs []error
	for _, s := range v.owned {
		if err := s.Refresh(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close releases the key fetchers the Verifier created. It is idempotent.
func (v *Verifier) Close() error {
	var errs []error
	for _, s := range v.owned {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Issuers returns the configured issuers.
func (v *Verifier) Issuers() []string {
	out := make([]string, 0, len(v.pools))
	for iss := range v.pools {
		out = append(out, iss)
	}
	return out
}

// Verify checks token and returns its claims. It enforces, in order: size
// and shape (compact JWS, alg RS256, kid), issuer, signature by a key of
// that issuer, token_use, client, exp/nbf/iat, required scopes and groups,
// Check, and revocation. Every failure is an [*Error] matching one of the
// sentinels of this package; a token is never accepted unless every check
// ran and passed.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, err := v.authenticate(ctx, token, true)
	if err != nil {
		return nil, err
	}
	if err := v.revoked(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Authenticate checks token like [Verifier.Verify] except the
// authorization rules (RequiredScopes, RequiredGroups, Check) and
// revocation: it proves whose token it is, not that it may be used. It
// serves sign-out flows, which must identify the user of a token even when
// that user already signed out or the revocation store is down. It MUST
// NOT be used to let requests in.
func (v *Verifier) Authenticate(ctx context.Context, token string) (*Claims, error) {
	return v.authenticate(ctx, token, false)
}

func (v *Verifier) revoked(ctx context.Context, c *Claims) error {
	if v.rev == nil {
		return nil
	}
	r, err := v.rev.Revoked(ctx, c)
	switch {
	case err != nil && v.failOpen:
		v.log.LogAttrs(ctx, slog.LevelWarn, "cognitoguard: revocation store failed; token accepted (RevocationFailOpen)",
			slog.String("sub", c.Subject), slog.String("error", err.Error()))
		return nil
	case err != nil:
		return newError(ErrUnavailable, "revocation store", err)
	case r:
		return newError(ErrRevoked, "user signed out or session revoked", nil)
	}
	return nil
}

func (v *Verifier) authenticate(ctx context.Context, token string, authorize bool) (*Claims, error) {
	if token == "" {
		return nil, newError(ErrNoToken, "", nil)
	}
	if len(token) > v.maxSize {
		return nil, newError(ErrMalformed, "token larger than the limit", nil)
	}
	now := v.now()
	if v.cache != nil {
		if cached := v.cache.get(token); cached != nil {
			if !now.Before(cached.Expiry.Add(v.leeway)) {
				v.cache.remove(token)
				return nil, newError(ErrExpired, "exp "+cached.Expiry.UTC().Format(time.RFC3339), nil)
			}
			c := *cached
			if authorize {
				if err := v.authorize(ctx, &c); err != nil {
					return nil, err
				}
			}
			return &c, nil
		}
	}
	c, err := v.parseAndCheck(ctx, token, now)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		// The cache holds authentic tokens; authorization and revocation
		// run on every call, hit or miss.
		cc := *c
		v.cache.put(token, &cc, now)
	}
	if authorize {
		if err := v.authorize(ctx, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// authorize applies the scope and group rules and the Check hook.
func (v *Verifier) authorize(ctx context.Context, c *Claims) error {
	if err := v.authorizeStatic(c); err != nil {
		return err
	}
	if v.check != nil {
		if err := v.check(ctx, c); err != nil {
			var e *Error
			if errors.As(err, &e) || errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrInsufficientScope) ||
				errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNoToken) {
				return err
			}
			return newError(ErrInsufficientScope, "check refused the token", err)
		}
	}
	return nil
}

func (v *Verifier) authorizeStatic(c *Claims) error {
	for _, s := range v.scopes {
		if !c.HasScope(s) {
			return newError(ErrInsufficientScope, "missing scope "+s, nil)
		}
	}
	if len(v.groups) > 0 {
		for _, g := range v.groups {
			if c.InGroup(g) {
				return nil
			}
		}
		return newError(ErrInsufficientScope, "not in any required group", nil)
	}
	return nil
}

// parseAndCheck does the full verification of a token not in the cache.
func (v *Verifier) parseAndCheck(ctx context.Context, token string, now time.Time) (*Claims, error) {
	p, err := parseToken(token)
	if err != nil {
		return nil, err
	}
	pl, ok := v.pools[p.claims.Issuer]
	if !ok {
		return nil, newError(ErrIssuer, "issuer not configured", nil)
	}
	p.claims.UserPoolID = pl.id
	key, err := pl.keys.Key(ctx, p.kid)
	if err != nil {
		if errors.Is(err, jwks.ErrKeyNotFound) {
			return nil, newError(ErrUnknownKey, "kid not in the issuer's key set", err)
		}
		return nil, newError(ErrUnavailable, "keys", err)
	}
	if key == nil {
		return nil, newError(ErrUnknownKey, "key source returned no key", nil)
	}
	var sigBuf [maxSigLen]byte // on the stack; parseToken bounded the length
	n, err := b64.Decode(sigBuf[:], []byte(p.sig))
	if err != nil {
		return nil, newError(ErrMalformed, "signature is not base64url", nil)
	}
	if n != key.Size() {
		return nil, newError(ErrSignature, "signature length does not match the key", nil)
	}
	sum := sha256.Sum256([]byte(token[:p.signedLen]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sigBuf[:n]); err != nil {
		return nil, newError(ErrSignature, "", nil)
	}
	c := &p.claims
	switch {
	case c.TokenUse != TokenUseAccess && c.TokenUse != TokenUseID:
		return nil, newError(ErrTokenUse, "token_use missing or unknown", nil)
	case v.tokenUse != TokenUseAny && c.TokenUse != v.tokenUse:
		return nil, newError(ErrTokenUse, "token_use is "+string(c.TokenUse)+", want "+string(v.tokenUse), nil)
	}
	if c.TokenUse == TokenUseAccess {
		c.ClientID = p.clientID
	} else {
		c.ClientID = p.aud
	}
	if pl.clients != nil {
		if _, ok := pl.clients[c.ClientID]; !ok {
			return nil, newError(ErrClient, "client not allowed", nil)
		}
	}
	if !p.hasExp {
		return nil, newError(ErrExpired, "exp missing", nil)
	}
	if !now.Before(c.Expiry.Add(v.leeway)) {
		return nil, newError(ErrExpired, "exp "+c.Expiry.UTC().Format(time.RFC3339), nil)
	}
	limit := now.Add(v.leeway)
	if !c.NotBefore.IsZero() && c.NotBefore.After(limit) {
		return nil, newError(ErrNotYetValid, "nbf in the future", nil)
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(limit) {
		return nil, newError(ErrNotYetValid, "iat in the future", nil)
	}
	if c.Subject == "" {
		return nil, newError(ErrMalformed, "sub missing", nil)
	}
	return c, nil
}

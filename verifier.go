package cognitoguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/logs"
	"github.com/cognitoguard/cognitoguard/internal/signature"
	"github.com/cognitoguard/cognitoguard/jwks"
)

// Verifier checks Cognito access and ID tokens. It is safe for concurrent
// use. Close releases the key fetchers it created.
type Verifier struct {
	issuers  map[string]*issuer // by iss
	tokenUse TokenUse
	leeway   time.Duration
	maxSize  int
	scopes   []string
	groups   []string
	check    func(context.Context, *Claims) error
	rev      RevocationChecker
	revAt    RevocationCheckerAt // rev, when it takes the time and the clock is time.Now
	failOpen bool
	now      func() time.Time
	realNow  bool // now is time.Now (Config.Now nil)
	log      *slog.Logger
	onVerify func(context.Context, VerifyEvent)
	cache    *tokenCache
	owned    []*jwks.Set
	poolIDs  []string
	home     []KeySource // each pool's home issuer's keys, for Refresh
}

// NewVerifier returns a Verifier for one Amazon Cognito user pool and its
// allowed app clients, accepting the pool's default issuers
// ([DefaultIssuers]). userPoolID looks like "us-east-1_AbCdEf123".
// clientIDs must not be empty. Use [New] for several pools, replica
// regions, explicit issuers (emulators, tests) or [Pool.AnyClient].
func NewVerifier(userPoolID string, clientIDs []string, cfg Config) (*Verifier, error) {
	return New([]Pool{{UserPoolID: userPoolID, ClientIDs: clientIDs}}, cfg)
}

// New returns a Verifier accepting tokens of any of pools. A token's
// unverified iss selects the pool; its keys then verify the signature.
func New(pools []Pool, cfg Config) (*Verifier, error) {
	if len(pools) == 0 {
		return nil, errors.New("cognitoguard: no user pool configured")
	}
	v := &Verifier{
		issuers:  make(map[string]*issuer),
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
		onVerify: cfg.OnVerify,
	}
	if err := v.applyDefaults(cfg); err != nil {
		return nil, err
	}
	jc := cfg.JWKS
	if jc.Now == nil {
		jc.Now = cfg.Now
	}
	if jc.Logger == nil {
		jc.Logger = v.log
	}
	ids := make(map[string]int, len(pools))
	for i, pc := range pools {
		err := v.addPool(pc, jc)
		if err == nil {
			if j, dup := ids[v.lastPoolID()]; dup {
				err = fmt.Errorf("user pool ID %q is also pool %d's", v.lastPoolID(), j)
			}
			ids[v.lastPoolID()] = i
		}
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("cognitoguard: pool %d: %w", i, err)
		}
	}
	return v, nil
}

func (v *Verifier) applyDefaults(cfg Config) error {
	switch v.tokenUse {
	case "":
		v.tokenUse = TokenUseAccess
	case TokenUseAccess, TokenUseID, TokenUseAny:
	default:
		return fmt.Errorf("cognitoguard: TokenUse %q is not access, id or any", cfg.TokenUse)
	}
	if v.leeway < 0 || v.leeway > 5*time.Minute {
		return fmt.Errorf("cognitoguard: Leeway %v is outside [0, 5m]", v.leeway)
	}
	if v.maxSize == 0 {
		v.maxSize = DefaultMaxTokenSize
	}
	if v.maxSize < 0 {
		return errors.New("cognitoguard: MaxTokenSize is negative")
	}
	if v.now == nil {
		// The real clock is shared with the revocation store, so a request
		// reads it once. A custom clock is not: it never decides whether a
		// store's view is fresh.
		v.now, v.realNow = time.Now, true
		v.revAt, _ = v.rev.(RevocationCheckerAt)
	}
	// The store is built first: its logger is the service's.
	v.log = logs.Of(v.log, v.rev)
	switch {
	case cfg.CacheSize == 0:
		v.cache = newTokenCache(DefaultCacheSize)
	case cfg.CacheSize > 0:
		v.cache = newTokenCache(cfg.CacheSize)
	}
	return nil
}

// Refresh fetches the key set of each pool's home issuer now (for an eager
// start or a readiness check), through [KeyRefresher] (key sources without
// it are skipped); other issuers' keys are fetched on first use. It is
// optional: keys are fetched on first use otherwise.
func (v *Verifier) Refresh(ctx context.Context) error {
	var errs []error
	for _, k := range v.home {
		if s, ok := k.(KeyRefresher); ok {
			if err := s.Refresh(ctx); err != nil {
				errs = append(errs, err)
			}
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

// Verify checks token and returns its claims. It enforces, in order: size
// and shape (compact JWS, alg RS256, kid), issuer, signature by a key of
// that issuer, token_use, client, exp/nbf/iat, required scopes and groups,
// Check, and revocation. Every failure is an [*Error] matching one of the
// sentinels of this package; a token is never accepted unless every check
// ran and passed.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if v.onVerify != nil {
		return v.observe(ctx, token, false)
	}
	c, _, err := v.verify(ctx, token, v.now())
	return c, err
}

// verify authenticates token, then authorizes its claims: the scope and
// group rules, Check, and revocation, all as of now (the request's one
// clock read). cached tells whether the token came from the cache.
func (v *Verifier) verify(ctx context.Context, token string, now time.Time) (c *Claims, cached bool, err error) {
	c, cached, err = v.authenticate(ctx, token, now)
	if err != nil {
		return nil, cached, err
	}
	if err := v.authorize(ctx, c); err != nil {
		return nil, cached, err
	}
	if !cached {
		// A miss may have waited for a key fetch: the store reads its
		// own clock rather than judge its freshness as of before it.
		now = time.Time{}
	}
	if err := v.revoked(ctx, c, now); err != nil {
		err.Subject = c.Subject
		return nil, cached, err
	}
	return c, cached, nil
}

// observe runs verify (or authenticate alone) and reports it to
// Config.OnVerify.
func (v *Verifier) observe(ctx context.Context, token string, authenticateOnly bool) (c *Claims, err error) {
	start := time.Now()
	now := start
	if !v.realNow {
		now = v.now()
	}
	var cached bool
	if authenticateOnly {
		c, cached, err = v.authenticate(ctx, token, now)
	} else {
		c, cached, err = v.verify(ctx, token, now)
	}
	v.onVerify(ctx, VerifyEvent{Claims: c, Err: err, Cached: cached, Duration: time.Since(start), Authenticate: authenticateOnly})
	return c, err
}

// Authenticate checks token like [Verifier.Verify] except the
// authorization rules (RequiredScopes, RequiredGroups, Check) and
// revocation: it proves whose token it is, not that it may be used. It
// serves sign-out flows, which must identify the user of a token even when
// that user already signed out or the revocation store is down. It MUST
// NOT be used to let requests in.
func (v *Verifier) Authenticate(ctx context.Context, token string) (*Claims, error) {
	if v.onVerify != nil {
		return v.observe(ctx, token, true)
	}
	c, _, err := v.authenticate(ctx, token, v.now())
	return c, err
}

// revoked asks the revocation checker about c: as of now through
// [RevocationCheckerAt] when the checker has it, the clock is the real one
// and now is not zero, else through Revoked (the checker reads its own
// clock).
func (v *Verifier) revoked(ctx context.Context, c *Claims, now time.Time) *Error {
	var (
		r   bool
		err error
	)
	switch {
	case v.revAt != nil && !now.IsZero():
		r, err = v.revAt.RevokedAt(ctx, c, now)
	case v.rev != nil:
		r, err = v.rev.Revoked(ctx, c)
	default:
		return nil
	}
	switch {
	case err != nil && v.failOpen:
		v.log.LogAttrs(ctx, slog.LevelWarn, "cognitoguard: revocation store failed; token accepted (RevocationFailOpen)",
			slog.String("sub", c.Subject), slog.String("error", err.Error()))
		return nil
	case err != nil:
		return newError(ErrUnavailable, "revocation store", err)
	case r:
		e := newError(ErrRevoked, revokedReason(c), nil)
		e.TokenUse = c.TokenUse
		return e
	}
	return nil
}

// revokedReason says why a checker may have revoked c: the checker says
// only that it did. A client-credentials token (an access token without
// a user: its sub is its client ID) has no user to sign out.
func revokedReason(c *Claims) string {
	if c.TokenUse == TokenUseAccess && c.Username == "" && c.Subject == c.ClientID {
		return "app client revoked"
	}
	return "user signed out, or session or app client revoked"
}

// authenticate proves whose token it is: size, then the cache (whose
// entries are authentic tokens, still checked for expiry and for their
// key), else the full parse and check, as of now. It returns a copy the caller owns;
// cached tells whether it came from the cache. Authorization and
// revocation are the caller's (verify's), on every call, hit or miss.
func (v *Verifier) authenticate(ctx context.Context, token string, now time.Time) (c *Claims, cached bool, err error) {
	if token == "" {
		return nil, false, newError(ErrNoToken, "", nil)
	}
	if len(token) > v.maxSize {
		return nil, false, newError(ErrMalformed, "token larger than the limit", nil)
	}
	if v.cache != nil {
		if hit := v.cache.get(token); hit != nil && v.keyStillServed(ctx, token, hit) {
			if !now.Before(hit.Expiry.Add(v.leeway)) {
				v.cache.remove(token)
				e := newError(ErrExpired, "exp "+hit.Expiry.UTC().Format(time.RFC3339), nil)
				e.Subject = hit.Subject
				return nil, true, e
			}
			c := *hit
			return &c, true, nil
		}
	}
	c, err = v.parseAndCheck(ctx, token, now)
	if err != nil {
		return nil, false, err
	}
	if v.cache != nil {
		cc := *c
		v.cache.put(token, &cc, now)
	}
	return c, false, nil
}

// keysVersion returns the version of keys, read before a lookup, and keys
// as a KeyVersioner, or nil.
func keysVersion(keys KeySource) (uint64, KeyVersioner) {
	kv, ok := keys.(KeyVersioner)
	if !ok {
		return 0, nil
	}
	return kv.KeysVersion(), kv
}

// keyStillServed reports whether the key that verified a cached token is
// still the one its key source serves for that kid (no RSA operation).
// When it is not (the key left the set, or the source fails), the token
// is dropped from the cache and verified again from scratch.
func (v *Verifier) keyStillServed(ctx context.Context, token string, c *Claims) bool {
	if f := c.from; f != nil { // always, for claims the cache holds
		var ver uint64
		if f.versions != nil {
			if ver = f.versions.KeysVersion(); ver == f.version.Load() {
				return true // no key changed since f.key was found served
			}
		}
		if k, err := f.keys.Key(ctx, f.kid); err == nil && k == f.key {
			f.version.Store(ver) // read before the lookup: never newer than it
			return true
		}
	}
	v.cache.remove(token)
	return false
}

// authorize applies the scope and group rules and the Check hook.
func (v *Verifier) authorize(ctx context.Context, c *Claims) error {
	if err := v.authorizeStatic(c); err != nil {
		err.Subject = c.Subject
		return err
	}
	if v.check != nil {
		if err := v.check(ctx, c); err != nil {
			var e *Error
			if errors.As(err, &e) || errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrInsufficientScope) ||
				errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNoToken) {
				return err
			}
			e = newError(ErrInsufficientScope, "check refused the token", err)
			e.Subject = c.Subject
			return e
		}
	}
	return nil
}

func (v *Verifier) authorizeStatic(c *Claims) *Error {
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
	is, ok := v.issuers[p.claims.Issuer]
	if !ok {
		return nil, newError(ErrIssuer, "issuer not configured", nil)
	}
	pl := is.pool
	ver, versions := keysVersion(is.keys)
	key, err := is.keys.Key(ctx, p.kid)
	if err != nil {
		var se *jwks.StatusError
		switch {
		case errors.Is(err, jwks.ErrKeyNotFound):
			return nil, newError(ErrUnknownKey, "kid not in the issuer's key set", err)
		case is.optional && errors.As(err, &se) && se.Code >= 400 && se.Code < 500:
			return nil, newError(ErrUnknownKey, "issuer's key endpoint refused (pool not reachable through this issuer)", err)
		}
		return nil, newError(ErrUnavailable, "keys", err)
	}
	if key == nil {
		return nil, newError(ErrUnknownKey, "key source returned no key", nil)
	}
	switch signature.RS256(key, token[:p.signedLen], p.sig) {
	case nil:
	case signature.ErrTooLarge: // parseToken bounded the length
		return nil, malformed("signature too large")
	case signature.ErrEncoding:
		return nil, newError(ErrMalformed, "signature is not base64url", nil)
	case signature.ErrLength:
		return nil, newError(ErrSignature, "signature length does not match the key", nil)
	default:
		return nil, newError(ErrSignature, "", nil)
	}
	c := &p.claims
	c.UserPoolID = pl.id
	c.from = &origin{raw: p.raw, kid: p.kid, key: key, keys: is.keys, versions: versions}
	c.from.version.Store(ver)
	if err := v.checkClaims(c, p, pl, now); err != nil {
		err.Subject = c.Subject // the signature verified: the sub is authentic
		return nil, err
	}
	return c, nil
}

// checkClaims applies the claim rules to a token whose signature verified.
func (v *Verifier) checkClaims(c *Claims, p *parsed, pl *pool, now time.Time) *Error {
	switch {
	case c.TokenUse != TokenUseAccess && c.TokenUse != TokenUseID:
		return newError(ErrTokenUse, "token_use missing or unknown", nil)
	case v.tokenUse != TokenUseAny && c.TokenUse != v.tokenUse:
		return newError(ErrTokenUse, "token_use is "+string(c.TokenUse)+", want "+string(v.tokenUse), nil)
	}
	if c.TokenUse == TokenUseAccess {
		c.ClientID = p.clientID
	} else {
		c.ClientID = p.aud
	}
	if pl.clients != nil {
		if _, ok := pl.clients[c.ClientID]; !ok {
			return newError(ErrClient, "client not allowed", nil)
		}
	}
	if !p.hasExp {
		return newError(ErrExpired, "exp missing", nil)
	}
	if !now.Before(c.Expiry.Add(v.leeway)) {
		return newError(ErrExpired, "exp "+c.Expiry.UTC().Format(time.RFC3339), nil)
	}
	limit := now.Add(v.leeway)
	if !c.NotBefore.IsZero() && c.NotBefore.After(limit) {
		return newError(ErrNotYetValid, "nbf in the future", nil)
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(limit) {
		return newError(ErrNotYetValid, "iat in the future", nil)
	}
	// A sign-out rejects tokens authenticated at or before it: an auth_time
	// in the future, or after the token was issued, would let a token
	// outlive its user's sign-out.
	if c.AuthTime.After(limit) {
		return newError(ErrNotYetValid, "auth_time in the future", nil)
	}
	if !c.IssuedAt.IsZero() && c.AuthTime.After(c.IssuedAt) {
		return newError(ErrMalformed, "auth_time after iat", nil)
	}
	if c.Subject == "" {
		return newError(ErrMalformed, "sub missing", nil)
	}
	return nil
}

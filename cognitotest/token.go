package cognitotest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Tokens are the tokens of one sign-in, as Cognito's AuthenticationResult
// carries them.
type Tokens struct {
	AccessToken  string
	IDToken      string
	RefreshToken string
}

// TokenOption changes a token minted by [Pool.SignIn], [Pool.AccessToken]
// or [Pool.IDToken]. Options apply in order; a later option overrides an
// earlier one on the same claim, and [WithClaims] and [WithHeader] apply
// last, over everything else.
type TokenOption func(*tokenOptions)

type tokenOptions struct {
	claims    map[string]any
	header    map[string]any
	clientID  string
	scopes    []string
	scopesSet bool
	groups    []string
	groupsSet bool
	exp       time.Time
	authTime  time.Time
	iat       time.Time
	key       *rsa.PrivateKey
	atHash    string // of an ID token minted with an access token
}

func buildOptions(opts []TokenOption) *tokenOptions {
	o := new(tokenOptions)
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// WithClaims adds claims to the token or overrides them; a claim whose
// value is nil is deleted. A claim keeps its place in the payload when
// overridden; new claims follow the standard ones, sorted by name. Values
// are encoded with encoding/json (a json.RawMessage is copied, compacted);
// a time.Time becomes integer seconds since the epoch. Several WithClaims
// merge, the later winning. WithClaims applies after every other option.
func WithClaims(m map[string]any) TokenOption {
	m = maps.Clone(m)
	return func(o *tokenOptions) {
		if o.claims == nil {
			o.claims = make(map[string]any, len(m))
		}
		maps.Copy(o.claims, m)
	}
}

// WithHeader adds JOSE header fields (such as "alg", "kid", "typ") or
// overrides them; a field whose value is nil is deleted. The signature is
// always RS256 over the exact bytes produced, whatever "alg" says, so
// WithHeader can mint hostile tokens such as {"alg":"none"} or
// {"alg":"HS256"} with a valid RSA signature, or a token without "kid".
func WithHeader(m map[string]any) TokenOption {
	m = maps.Clone(m)
	return func(o *tokenOptions) {
		if o.header == nil {
			o.header = make(map[string]any, len(m))
		}
		maps.Copy(o.header, m)
	}
}

// WithClient mints the token for app client clientID (client_id of access
// tokens, aud of ID tokens) instead of the pool's default [Pool.ClientID].
// clientID need not be a client of the pool, for tests of foreign clients.
func WithClient(clientID string) TokenOption {
	return func(o *tokenOptions) { o.clientID = clientID }
}

// WithScopes sets the scope claim of access tokens to the space-separated
// s, in order (default DefaultScope, "aws.cognito.signin.user.admin"). With
// no argument the claim is left out. ID tokens have no scope claim.
func WithScopes(s ...string) TokenOption {
	s = slices.Clone(s)
	return func(o *tokenOptions) { o.scopes, o.scopesSet = s, true }
}

// WithGroups sets cognito:groups to g instead of the user's groups. With
// no argument the claim is left out.
func WithGroups(g ...string) TokenOption {
	g = slices.Clone(g)
	return func(o *tokenOptions) { o.groups, o.groupsSet = g, true }
}

// WithExpiry sets exp (default iat plus the token type's TTL).
func WithExpiry(t time.Time) TokenOption {
	return func(o *tokenOptions) { o.exp = t }
}

// WithAuthTime sets auth_time (default the time of the session's sign-in).
func WithAuthTime(t time.Time) TokenOption {
	return func(o *tokenOptions) { o.authTime = t }
}

// WithIssuedAt sets iat (default the pool's clock); exp then defaults to
// t plus the token type's TTL.
func WithIssuedAt(t time.Time) TokenOption {
	return func(o *tokenOptions) { o.iat = t }
}

// WithSigningKey signs the token with k instead of the pool's key. The
// header keeps the pool's kid unless [WithHeader] overrides it, so the
// token names a known key but does not verify against the JWKS.
func WithSigningKey(k *rsa.PrivateKey) TokenOption {
	return func(o *tokenOptions) { o.key = k }
}

// SignIn starts a new session of the user, as a sign-in through the API
// does: auth_time is now, the session gets a fresh origin_jti and event_id,
// and its refresh token is registered, so the API accepts it for
// REFRESH_TOKEN_AUTH and RevokeToken. The session becomes the user's
// current one for its client. The options apply to both tokens (use
// [WithClient] to sign in with another client).
//
// usernameOrSub is a username, else the sub of any user (federated ones
// too: minting is no API call), else an alias as [Pool.User] resolves it.
// If no user matches, SignIn panics, unless the pool has
// [Config.ImplicitUsers]: then a local user with that username and no
// password is added first. A disabled or unconfirmed user's tokens are minted all the
// same (the API refuses them).
func (p *Pool) SignIn(usernameOrSub string, opts ...TokenOption) Tokens {
	o := buildOptions(opts)
	in, refreshToken := p.mintNew(usernameOrSub, o)
	return Tokens{
		AccessToken:  in.access(o),
		IDToken:      in.id(o),
		RefreshToken: refreshToken,
	}
}

// mintNew starts a new session of the user that name resolves to and
// returns what minting its tokens needs, and its refresh token.
func (p *Pool) mintNew(name string, o *tokenOptions) (mintInput, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	u := p.userForMintLocked(name)
	s := p.newSessionLocked(u, p.clientFor(o), now)
	return p.mintInputLocked(u, s, now), s.refreshToken
}

// AccessToken mints an access token of the user's current session for the
// token's client, starting a session as [Pool.SignIn] does when the user
// has none (or it was revoked). usernameOrSub is resolved as by SignIn.
//
// The claims are Cognito's, in Cognito's order: sub, cognito:groups (left
// out when empty), iss, client_id, origin_jti, event_id,
// token_use ("access"), scope, auth_time, exp, iat, jti, username. The
// header is {"kid":…,"alg":"RS256"}; the key is the access-token key, not
// the ID-token key.
func (p *Pool) AccessToken(usernameOrSub string, opts ...TokenOption) string {
	o := buildOptions(opts)
	return p.mintCurrent(usernameOrSub, o).access(o)
}

// IDToken mints an ID token of the user's current session, as
// [Pool.AccessToken] does. The claims are sub, cognito:groups (left out
// when empty), email_verified (when the attribute is set),
// iss, cognito:username, the user's other attributes (sorted by name),
// origin_jti, aud, event_id, token_use ("id"), auth_time, exp, iat, jti,
// email (when set). The key is the ID-token key.
func (p *Pool) IDToken(usernameOrSub string, opts ...TokenOption) string {
	o := buildOptions(opts)
	return p.mintCurrent(usernameOrSub, o).id(o)
}

func (p *Pool) mintCurrent(name string, o *tokenOptions) mintInput {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	u := p.userForMintLocked(name)
	s := p.currentSessionLocked(u, p.clientFor(o), now)
	return p.mintInputLocked(u, s, now)
}

func (p *Pool) clientFor(o *tokenOptions) string {
	if o.clientID != "" {
		return o.clientID
	}
	return p.ClientID()
}

// mintInput is a snapshot of what minting needs, taken under p.mu so that
// signing runs unlocked.
type mintInput struct {
	user      User
	created   time.Time // the user's
	poolID    string
	noRevoke  bool // the client has token revocation off
	s         session
	now       time.Time
	issuer    string
	accessTTL time.Duration
	idTTL     time.Duration
	accessKey signingKey
	idKey     signingKey
}

func (p *Pool) mintInputLocked(u *userRecord, s *session, now time.Time) mintInput {
	c := p.clientLocked(s.clientID)
	return mintInput{
		user:      u.User.clone(),
		created:   u.created,
		poolID:    p.poolID,
		noRevoke:  c != nil && c.DisableTokenRevocation && !c.RefreshTokenRotation,
		s:         *s,
		now:       now,
		issuer:    p.issuer,
		accessTTL: p.accessTTL,
		idTTL:     p.idTTL,
		accessKey: p.accessKey,
		idKey:     p.idKey,
	}
}

func (in mintInput) times(o *tokenOptions, ttl time.Duration) (authTime, iat, exp int64) {
	a, i, e := in.s.authTime, in.now, o.exp
	if !o.authTime.IsZero() {
		a = o.authTime
	}
	if !o.iat.IsZero() {
		i = o.iat
	}
	if e.IsZero() {
		e = i.Add(ttl)
	}
	return a.Unix(), i.Unix(), e.Unix()
}

// groups is cognito:groups: the option's, or the user's and, for a
// federated user, the group Cognito adds for its identity provider.
func (in mintInput) groups(o *tokenOptions) []string {
	if o.groupsSet {
		return o.groups
	}
	g := in.user.Groups
	if id := in.user.Identity; id != nil {
		g = append(slices.Clip(g), in.poolID+"_"+id.ProviderName)
	}
	return g
}

func (in mintInput) access(o *tokenOptions) string {
	authTime, iat, exp := in.times(o, in.accessTTL)
	scope := DefaultScope
	if in.s.oauth {
		scope = strings.Join(in.s.scopes, " ")
	}
	if o.scopesSet {
		scope = strings.Join(o.scopes, " ")
	}
	var c object
	c.set("sub", in.user.Sub)
	if g := in.groups(o); len(g) > 0 {
		c.set("cognito:groups", g)
	}
	c.set("iss", in.issuer)
	if in.s.oauth {
		c.set("version", 2)
	}
	c.set("client_id", in.s.clientID)
	if !in.noRevoke {
		c.set("origin_jti", in.s.originJTI)
	}
	c.set("event_id", in.s.eventID)
	c.set("token_use", "access")
	if !o.scopesSet || len(o.scopes) > 0 {
		c.set("scope", scope)
	}
	c.set("auth_time", authTime)
	c.set("exp", exp)
	c.set("iat", iat)
	c.set("jti", newUUID())
	c.set("username", in.user.Username)
	return sign(in.accessKey, c, o)
}

func (in mintInput) id(o *tokenOptions) string {
	authTime, iat, exp := in.times(o, in.idTTL)
	attrs := in.user.Attributes
	var c object
	if o.atHash != "" {
		c.set("at_hash", o.atHash)
	}
	c.set("sub", in.user.Sub)
	if g := in.groups(o); len(g) > 0 {
		c.set("cognito:groups", g)
	}
	if v, ok := attrs["email_verified"]; ok {
		c.set("email_verified", attrValue("email_verified", v))
	}
	c.set("iss", in.issuer)
	c.set("cognito:username", in.user.Username)
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		switch k {
		case "sub", "email", "email_verified", "identities":
			continue
		}
		c.set(k, attrValue(k, attrs[k]))
	}
	if !in.noRevoke {
		c.set("origin_jti", in.s.originJTI)
	}
	c.set("aud", in.s.clientID)
	if id := in.user.Identity; id != nil {
		c.set("identities", identitiesClaim(id, in.created))
	}
	c.set("event_id", in.s.eventID)
	c.set("token_use", "id")
	c.set("auth_time", authTime)
	c.set("exp", exp)
	c.set("iat", iat)
	if !in.noRevoke {
		c.set("jti", newUUID())
	}
	if in.user.Email != "" {
		c.set("email", in.user.Email)
	}
	return sign(in.idKey, c, o)
}

// attrValue is the claim value of a user attribute: Cognito's *_verified
// attributes are booleans in ID tokens, everything else is a string.
func attrValue(name, v string) any {
	if strings.HasSuffix(name, "_verified") && (v == "true" || v == "false") {
		return v == "true"
	}
	return v
}

// sign builds the compact JWS of claims c with the options' overrides,
// signed RS256 by the option's key or else by k.
func sign(k signingKey, c object, o *tokenOptions) string {
	c.apply(o.claims)
	var h object
	h.set("kid", k.kid)
	h.set("alg", "RS256")
	h.apply(o.header)
	key := k.key
	if o.key != nil {
		key = o.key
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h.encode()) + "." + enc.EncodeToString(c.encode())
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic("cognitotest: signing token: " + err.Error())
	}
	return input + "." + enc.EncodeToString(sig)
}

// object is a JSON object that keeps its members in order.
type object []member

type member struct {
	name  string
	value any
}

func (o *object) set(name string, v any) {
	for i := range *o {
		if (*o)[i].name == name {
			(*o)[i].value = v
			return
		}
	}
	*o = append(*o, member{name, v})
}

func (o *object) del(name string) {
	*o = slices.DeleteFunc(*o, func(m member) bool { return m.name == name })
}

// apply overrides members with m (in place), deletes those whose value is
// nil, and appends new members sorted by name.
func (o *object) apply(m map[string]any) {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		v := m[name]
		if v == nil {
			o.del(name)
			continue
		}
		if t, ok := v.(time.Time); ok {
			v = t.Unix()
		}
		o.set(name, v)
	}
}

func (o object) encode() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	out := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			out = append(out, ',')
		}
		buf.Reset()
		if err := enc.Encode(m.name); err != nil {
			panic(fmt.Sprintf("cognitotest: encoding claim name %q: %v", m.name, err))
		}
		out = append(out, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
		out = append(out, ':')
		buf.Reset()
		if err := enc.Encode(m.value); err != nil {
			panic(fmt.Sprintf("cognitotest: encoding claim %q: %v", m.name, err))
		}
		out = append(out, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
	}
	return append(out, '}')
}

// newRefreshToken returns an opaque refresh token shaped like Cognito's
// (a five-part JWE compact serialization), unique and unguessable.
func newRefreshToken() string {
	enc := base64.RawURLEncoding
	part := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		return enc.EncodeToString(b)
	}
	header := enc.EncodeToString([]byte(`{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}`))
	return header + "." + part(256) + "." + part(12) + "." + part(96) + "." + part(16)
}

package cognitotest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewPoolDefaults(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want http://127.0.0.1:port", p.URL())
	}
	checks := []struct{ name, got, want string }{
		{"PoolID", p.PoolID(), "us-east-1_cognitotest"},
		{"ClientID", p.ClientID(), "cognitotest-client"},
		{"Issuer", p.Issuer(), p.URL() + "/us-east-1_cognitotest"},
		{"JWKSURL", p.JWKSURL(), p.URL() + "/us-east-1_cognitotest/.well-known/jwks.json"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s() = %q, want %q", c.name, c.got, c.want)
		}
	}
	if p.AccessKeyID() == p.IDKeyID() || p.AccessSigningKey().Equal(p.IDSigningKey()) {
		t.Error("access and ID tokens share a key")
	}
	if n := p.AccessSigningKey().N.BitLen(); n != 2048 {
		t.Errorf("key size %d, want 2048", n)
	}
	p.Close() // a second Close (from Cleanup) must be harmless
}

func TestNewPoolInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  cognitotest.Config
	}{
		{"empty client ID", cognitotest.Config{ClientIDs: []string{"a", ""}}},
		{"duplicate client ID", cognitotest.Config{ClientIDs: []string{"a", "a"}}},
		{"slash in pool ID", cognitotest.Config{PoolID: "us-east-1/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewPool did not panic")
				}
			}()
			p := cognitotest.NewPool(tt.cfg)
			p.Close()
		})
	}
}

func TestUsers(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{AliasAttributes: []string{"email"}, CaseInsensitive: true})
	alice := p.AddUser(cognitotest.User{Username: "alice", Email: "Alice@example.com", Groups: []string{"admin"},
		Attributes: map[string]string{"email_verified": "true"}})
	if !uuidV4.MatchString(alice.Sub) {
		t.Errorf("generated sub %q is not a UUID v4", alice.Sub)
	}
	bob := p.AddUser(cognitotest.User{Username: "bob", Sub: "11111111-2222-4333-8444-555555555555"})
	if bob.Sub != "11111111-2222-4333-8444-555555555555" {
		t.Errorf("explicit sub replaced: %q", bob.Sub)
	}

	tests := []struct {
		name   string
		lookup string
		want   string
		ok     bool
	}{
		{"username", "alice", "alice", true},
		{"sub", alice.Sub, "alice", true},
		{"email, other case", "alice@EXAMPLE.com", "alice", true},
		{"explicit sub", bob.Sub, "bob", true},
		{"unknown", "carol", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok := p.User(tt.lookup)
			if ok != tt.ok || u.Username != tt.want {
				t.Errorf("User(%q) = %q, %v; want %q, %v", tt.lookup, u.Username, ok, tt.want, tt.ok)
			}
		})
	}

	t.Run("stored copy is isolated", func(t *testing.T) {
		u, _ := p.User("alice")
		u.Groups[0] = "mutated"
		if again, _ := p.User("alice"); again.Groups[0] != "admin" {
			t.Errorf("mutating a returned user changed the pool: %v", again.Groups)
		}
	})
	t.Run("replace keeps sub", func(t *testing.T) {
		u := p.AddUser(cognitotest.User{Username: "alice", Email: "new@example.com"})
		if u.Sub != alice.Sub || u.Email != "new@example.com" {
			t.Errorf("replaced user = %+v, want sub %q and new email", u, alice.Sub)
		}
	})
	t.Run("sub clash panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("AddUser with another user's sub did not panic")
			}
		}()
		p.AddUser(cognitotest.User{Username: "mallory", Sub: bob.Sub})
	})
}

func TestAccessTokenClaims(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{AccessTokenTTL: 30 * time.Minute})
	u := p.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Groups: []string{"admin", "staff"}})
	tok := p.AccessToken("alice")

	wantOrder := []string{"sub", "cognito:groups", "iss", "client_id", "origin_jti", "event_id",
		"token_use", "scope", "auth_time", "exp", "iat", "jti", "username"}
	if got := keyOrder(t, segment(t, tok, 1)); !slices.Equal(got, wantOrder) {
		t.Errorf("claims order = %v, want %v", got, wantOrder)
	}
	if got := keyOrder(t, segment(t, tok, 0)); !slices.Equal(got, []string{"kid", "alg"}) {
		t.Errorf("header order = %v, want [kid alg]", got)
	}
	if h := header(t, tok); h["alg"] != "RS256" || h["kid"] != p.AccessKeyID() {
		t.Errorf("header = %v, want RS256 with the access key's kid", h)
	}

	c := claims(t, tok)
	want := map[string]any{
		"sub":            u.Sub,
		"cognito:groups": []any{"admin", "staff"},
		"iss":            p.Issuer(),
		"client_id":      p.ClientID(),
		"token_use":      "access",
		"scope":          "aws.cognito.signin.user.admin",
		"auth_time":      num(t0.Unix()),
		"exp":            num(t0.Add(30 * time.Minute).Unix()),
		"iat":            num(t0.Unix()),
		"username":       "alice",
	}
	for k, v := range want {
		if !reflect.DeepEqual(c[k], v) {
			t.Errorf("claim %s = %#v, want %#v", k, c[k], v)
		}
	}
	for _, k := range []string{"origin_jti", "event_id", "jti"} {
		if s, _ := c[k].(string); !uuidV4.MatchString(s) {
			t.Errorf("claim %s = %v, want a UUID", k, c[k])
		}
	}
	if _, ok := c["aud"]; ok {
		t.Error("access token has aud")
	}
	if err := verifyWithJWKS(t, tok, fetchJWKS(t, p.JWKSURL())); err != nil {
		t.Errorf("access token does not verify with the JWKS: %v", err)
	}

	t.Run("no groups omits the claim", func(t *testing.T) {
		p.AddUser(cognitotest.User{Username: "bob"})
		if _, ok := claims(t, p.AccessToken("bob"))["cognito:groups"]; ok {
			t.Error("cognito:groups present for a user without groups")
		}
	})
}

func TestIDTokenClaims(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{IDTokenTTL: 2 * time.Hour})
	u := p.AddUser(cognitotest.User{
		Username:   "alice",
		Email:      "alice@example.com",
		Groups:     []string{"admin"},
		Attributes: map[string]string{"custom:tenant": "acme", "name": "Alice", "phone_number_verified": "false", "email_verified": "true"},
	})
	tok := p.IDToken("alice")

	wantOrder := []string{"sub", "cognito:groups", "email_verified", "iss", "cognito:username",
		"custom:tenant", "name", "phone_number_verified",
		"origin_jti", "aud", "event_id", "token_use", "auth_time", "exp", "iat", "jti", "email"}
	if got := keyOrder(t, segment(t, tok, 1)); !slices.Equal(got, wantOrder) {
		t.Errorf("claims order = %v, want %v", got, wantOrder)
	}
	c := claims(t, tok)
	want := map[string]any{
		"sub":                   u.Sub,
		"cognito:groups":        []any{"admin"},
		"email_verified":        true,
		"iss":                   p.Issuer(),
		"cognito:username":      "alice",
		"custom:tenant":         "acme",
		"name":                  "Alice",
		"phone_number_verified": false,
		"aud":                   p.ClientID(),
		"token_use":             "id",
		"auth_time":             num(t0.Unix()),
		"exp":                   num(t0.Add(2 * time.Hour).Unix()),
		"iat":                   num(t0.Unix()),
		"email":                 "alice@example.com",
	}
	for k, v := range want {
		if !reflect.DeepEqual(c[k], v) {
			t.Errorf("claim %s = %#v, want %#v", k, c[k], v)
		}
	}
	for _, k := range []string{"client_id", "scope", "username", "version"} {
		if _, ok := c[k]; ok {
			t.Errorf("ID token has %s", k)
		}
	}
	if kid := header(t, tok)["kid"]; kid != p.IDKeyID() || kid == p.AccessKeyID() {
		t.Errorf("ID token kid = %v, want the ID key %q", kid, p.IDKeyID())
	}
	if err := verifyWithJWKS(t, tok, fetchJWKS(t, p.JWKSURL())); err != nil {
		t.Errorf("ID token does not verify with the JWKS: %v", err)
	}
	// Access and ID tokens of one session share origin_jti and event_id.
	a := claims(t, p.AccessToken("alice"))
	if a["origin_jti"] != c["origin_jti"] || a["event_id"] != c["event_id"] || a["jti"] == c["jti"] {
		t.Errorf("access %v / id %v: want same origin_jti and event_id, different jti", a, c)
	}
}

func TestTokenOptions(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{ClientIDs: []string{"web", "mobile"}})
	p.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin"}})
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	later := t0.Add(10 * time.Minute)

	tests := []struct {
		name       string
		opts       []cognitotest.TokenOption
		wantClaims map[string]any // nil value: claim must be absent
		wantHeader map[string]any
		jwksOK     bool            // verifies against the pool's JWKS
		signer     *rsa.PrivateKey // signing key, if not the pool's
	}{
		{
			name:       "override and add claims",
			opts:       []cognitotest.TokenOption{cognitotest.WithClaims(map[string]any{"username": "eve", "custom:x": 7, "exp": later})},
			wantClaims: map[string]any{"username": "eve", "custom:x": json.Number("7"), "exp": num(later.Unix())},
			jwksOK:     true,
		},
		{
			name:       "delete claims",
			opts:       []cognitotest.TokenOption{cognitotest.WithClaims(map[string]any{"exp": nil, "origin_jti": nil, "jti": nil})},
			wantClaims: map[string]any{"exp": nil, "origin_jti": nil, "jti": nil, "sub": "present"},
			jwksOK:     true,
		},
		{
			name:       "alg none keeps an RS256 signature",
			opts:       []cognitotest.TokenOption{cognitotest.WithHeader(map[string]any{"alg": "none"})},
			wantHeader: map[string]any{"alg": "none"},
			jwksOK:     true,
		},
		{
			name:       "HS256 and typ",
			opts:       []cognitotest.TokenOption{cognitotest.WithHeader(map[string]any{"alg": "HS256", "typ": "JWT"})},
			wantHeader: map[string]any{"alg": "HS256", "typ": "JWT"},
			jwksOK:     true,
		},
		{
			name:       "missing kid",
			opts:       []cognitotest.TokenOption{cognitotest.WithHeader(map[string]any{"kid": nil})},
			wantHeader: map[string]any{"kid": nil, "alg": "RS256"},
			jwksOK:     false,
		},
		{
			name:       "client",
			opts:       []cognitotest.TokenOption{cognitotest.WithClient("mobile")},
			wantClaims: map[string]any{"client_id": "mobile"},
			jwksOK:     true,
		},
		{
			name:       "scopes",
			opts:       []cognitotest.TokenOption{cognitotest.WithScopes("openid", "orders/read")},
			wantClaims: map[string]any{"scope": "openid orders/read"},
			jwksOK:     true,
		},
		{
			name:       "no scopes",
			opts:       []cognitotest.TokenOption{cognitotest.WithScopes()},
			wantClaims: map[string]any{"scope": nil},
			jwksOK:     true,
		},
		{
			name:       "groups replaced",
			opts:       []cognitotest.TokenOption{cognitotest.WithGroups("a", "b")},
			wantClaims: map[string]any{"cognito:groups": []any{"a", "b"}},
			jwksOK:     true,
		},
		{
			name:       "groups removed",
			opts:       []cognitotest.TokenOption{cognitotest.WithGroups()},
			wantClaims: map[string]any{"cognito:groups": nil},
			jwksOK:     true,
		},
		{
			name: "times",
			opts: []cognitotest.TokenOption{
				cognitotest.WithIssuedAt(later), cognitotest.WithAuthTime(t0.Add(-time.Hour)),
			},
			wantClaims: map[string]any{
				"iat": num(later.Unix()), "exp": num(later.Add(time.Hour).Unix()),
				"auth_time": num(t0.Add(-time.Hour).Unix()),
			},
			jwksOK: true,
		},
		{
			name:       "expiry",
			opts:       []cognitotest.TokenOption{cognitotest.WithExpiry(t0.Add(-time.Second))},
			wantClaims: map[string]any{"exp": num(t0.Add(-time.Second).Unix()), "iat": num(t0.Unix())},
			jwksOK:     true,
		},
		{
			name:       "WithClaims wins over typed options",
			opts:       []cognitotest.TokenOption{cognitotest.WithClaims(map[string]any{"scope": "x"}), cognitotest.WithScopes("y")},
			wantClaims: map[string]any{"scope": "x"},
			jwksOK:     true,
		},
		{
			name:       "foreign key keeps the pool's kid",
			opts:       []cognitotest.TokenOption{cognitotest.WithSigningKey(foreign)},
			wantHeader: map[string]any{"kid": p.AccessKeyID()},
			jwksOK:     false,
			signer:     foreign,
		},
	}
	keys := fetchJWKS(t, p.JWKSURL())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := p.AccessToken("alice", tt.opts...)
			c, h := claims(t, tok), header(t, tok)
			for k, v := range tt.wantClaims {
				got, ok := c[k]
				switch {
				case v == nil && ok:
					t.Errorf("claim %s = %#v, want absent", k, got)
				case v == "present" && !ok:
					t.Errorf("claim %s absent", k)
				case v != nil && v != "present" && !reflect.DeepEqual(got, v):
					t.Errorf("claim %s = %#v, want %#v", k, got, v)
				}
			}
			for k, v := range tt.wantHeader {
				got, ok := h[k]
				if v == nil && ok || v != nil && got != v {
					t.Errorf("header %s = %#v, want %#v", k, got, v)
				}
			}
			// Whatever the header says, the signature is RS256 over the bytes.
			key := p.AccessSigningKey()
			if tt.signer != nil {
				key = tt.signer
			}
			if err := verifyRS256(tok, &key.PublicKey); err != nil {
				t.Errorf("RS256 signature does not verify: %v", err)
			}
			if err := verifyWithJWKS(t, tok, keys); (err == nil) != tt.jwksOK {
				t.Errorf("JWKS verification error = %v, want success %v", err, tt.jwksOK)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{})
	p.AddUser(cognitotest.User{Username: "alice"})

	first := p.SignIn("alice")
	clock.Advance(time.Minute)
	a := claims(t, p.AccessToken("alice"))
	f := claims(t, first.AccessToken)
	if a["origin_jti"] != f["origin_jti"] || a["auth_time"] != f["auth_time"] || a["jti"] == f["jti"] {
		t.Errorf("AccessToken after SignIn: %v, want the session's origin_jti and auth_time, new jti (first %v)", a, f)
	}
	if a["iat"] != num(t0.Add(time.Minute).Unix()) {
		t.Errorf("iat = %v, want the current time", a["iat"])
	}

	second := p.SignIn("alice")
	s := claims(t, second.IDToken)
	if s["origin_jti"] == f["origin_jti"] || s["auth_time"] != num(t0.Add(time.Minute).Unix()) {
		t.Errorf("second SignIn: %v, want a new origin_jti and auth_time now", s)
	}
	if second.RefreshToken == first.RefreshToken || strings.Count(second.RefreshToken, ".") != 4 {
		t.Errorf("refresh tokens %q, %q: want distinct five-part tokens", first.RefreshToken, second.RefreshToken)
	}

	t.Run("unknown user is added with ImplicitUsers", func(t *testing.T) {
		p, _ := newPool(t, cognitotest.Config{ImplicitUsers: true})
		tok := p.AccessToken("zed")
		u, ok := p.User("zed")
		if !ok || claims(t, tok)["sub"] != u.Sub {
			t.Errorf("AccessToken of an unknown user: user %+v, %v", u, ok)
		}
	})
	t.Run("a revoked session is replaced", func(t *testing.T) {
		p.AdminUserGlobalSignOut("alice")
		if !p.OriginRevoked(s["origin_jti"].(string)) {
			t.Fatal("origin_jti not revoked by GlobalSignOut")
		}
		if c := claims(t, p.AccessToken("alice")); c["origin_jti"] == s["origin_jti"] {
			t.Error("AccessToken reused a revoked session")
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{})
	client := sdkClient(p)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := []string{"alice", "bob"}[i%2]
			p.AddUser(cognitotest.User{Username: name, Password: "pw"})
			tok := p.SignIn(name)
			_ = p.AccessToken(name, cognitotest.WithGroups("g"))
			_ = p.IDToken(name)
			_, _ = getUser(t, client, tok.AccessToken)
			_ = p.JWKS()
			_, _ = p.SignedOutAt(tok.AccessToken)
			p.FailNext("GetUser", "TooManyRequestsException", 400, 1)
			_ = p.Calls("GetUser")
			clock.Advance(time.Second)
			if i == 0 {
				p.RotateKeys()
			}
		})
	}
	wg.Wait()
}

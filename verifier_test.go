package cognitoguard_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/clocktest"
)

// newClock returns the settable clock shared by the fake pool and the
// verifier.
func newClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
}

var (
	otherKeyOnce sync.Once
	otherKey     *rsa.PrivateKey
)

func foreignKey(t testing.TB) *rsa.PrivateKey {
	otherKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		otherKey = k
	})
	return otherKey
}

type fixture struct {
	pool  *cognitotest.Pool
	clock *clocktest.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := newClock()
	p := cognitotest.NewPool(cognitotest.Config{Now: c.Now, ClientIDs: []string{"client-a", "client-b"}})
	t.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Password: "pw-alice-1", Groups: []string{"admin", "staff"}})
	p.AddUser(cognitotest.User{Username: "bob", Email: "bob@example.com", Password: "pw-bob-1"})
	return &fixture{pool: p, clock: c}
}

func (f *fixture) verifier(t *testing.T, cfg cognitoguard.Config) *cognitoguard.Verifier {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = f.clock.Now
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: f.pool.PoolID(), Issuers: []string{f.pool.Issuer()}, ClientIDs: []string{"client-a"}}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// resign replaces the signature of token by one made with key over the
// (possibly edited) header and payload.
func resign(t *testing.T, header, payload string, key *rsa.PrivateKey) string {
	t.Helper()
	sum := sha256.Sum256([]byte(header + "." + payload))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func segments(tok string) (h, p, s string) {
	parts := strings.Split(tok, ".")
	return parts[0], parts[1], parts[2]
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

type fakeRevocation struct {
	revoked bool
	err     error
	calls   atomic.Int64
}

func (f *fakeRevocation) Revoked(ctx context.Context, c *cognitoguard.Claims) (bool, error) {
	f.calls.Add(1)
	return f.revoked, f.err
}

func TestVerifyContract(t *testing.T) {
	f := newFixture(t)
	p := f.pool
	now := f.clock.Now()
	other := foreignKey(t)

	tests := []struct {
		name  string
		cfg   cognitoguard.Config
		token func(t *testing.T) string
		want  error // nil: accepted
		class error
	}{
		{"valid access token", cognitoguard.Config{}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) }, nil, nil},
		{"valid id token", cognitoguard.Config{TokenUse: cognitoguard.TokenUseID}, func(*testing.T) string { return p.IDToken("alice", cognitotest.WithClient("client-a")) }, nil, nil},
		{"either accepts id", cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny}, func(*testing.T) string { return p.IDToken("alice", cognitotest.WithClient("client-a")) }, nil, nil},
		{"either accepts access", cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) }, nil, nil},
		{"no token", cognitoguard.Config{}, func(*testing.T) string { return "" }, cognitoguard.ErrNoToken, cognitoguard.ErrNoToken},
		{"oversized", cognitoguard.Config{MaxTokenSize: 512}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) }, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"two segments", cognitoguard.Config{}, func(*testing.T) string {
			h, pl, _ := segments(p.AccessToken("alice", cognitotest.WithClient("client-a")))
			return h + "." + pl
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"four segments", cognitoguard.Config{}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) + ".x" }, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"alg none", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithHeader(map[string]any{"alg": "none"}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"alg HS256", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithHeader(map[string]any{"alg": "HS256"}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"alg RS512", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithHeader(map[string]any{"alg": "RS512"}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"kid missing", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithHeader(map[string]any{"kid": nil}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"crit header", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithHeader(map[string]any{"crit": []string{"exp"}}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"kid unknown", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithHeader(map[string]any{"kid": "no-such-kid"}))
		}, cognitoguard.ErrUnknownKey, cognitoguard.ErrInvalidToken},
		{"signed by a foreign key with a known kid", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithSigningKey(other))
		}, cognitoguard.ErrSignature, cognitoguard.ErrInvalidToken},
		{"tampered payload", cognitoguard.Config{}, func(*testing.T) string {
			h, _, s := segments(p.AccessToken("alice", cognitotest.WithClient("client-a")))
			_, pl, _ := segments(p.AccessToken("bob", cognitotest.WithClient("client-a")))
			return h + "." + pl + "." + s
		}, cognitoguard.ErrSignature, cognitoguard.ErrInvalidToken},
		{"truncated signature", cognitoguard.Config{}, func(*testing.T) string {
			tok := p.AccessToken("alice", cognitotest.WithClient("client-a"))
			return tok[:len(tok)-6] // whole base64 quanta: decodes, too short
		}, cognitoguard.ErrSignature, cognitoguard.ErrInvalidToken},
		{"wrong issuer", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}))
		}, cognitoguard.ErrIssuer, cognitoguard.ErrInvalidToken},
		{"issuer with trailing slash", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"iss": p.Issuer() + "/"}))
		}, cognitoguard.ErrIssuer, cognitoguard.ErrInvalidToken},
		{"id token where access expected", cognitoguard.Config{}, func(*testing.T) string { return p.IDToken("alice", cognitotest.WithClient("client-a")) }, cognitoguard.ErrTokenUse, cognitoguard.ErrInvalidToken},
		{"access token where id expected", cognitoguard.Config{TokenUse: cognitoguard.TokenUseID}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) }, cognitoguard.ErrTokenUse, cognitoguard.ErrInvalidToken},
		{"token_use missing", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"token_use": nil}))
		}, cognitoguard.ErrTokenUse, cognitoguard.ErrInvalidToken},
		{"access token of another client", cognitoguard.Config{}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-b")) }, cognitoguard.ErrClient, cognitoguard.ErrInvalidToken},
		{"access token without client_id", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"client_id": nil}))
		}, cognitoguard.ErrClient, cognitoguard.ErrInvalidToken},
		{"access token with aud but no client_id", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"client_id": nil, "aud": "client-a"}))
		}, cognitoguard.ErrClient, cognitoguard.ErrInvalidToken},
		{"id token of another client", cognitoguard.Config{TokenUse: cognitoguard.TokenUseID}, func(*testing.T) string { return p.IDToken("alice", cognitotest.WithClient("client-b")) }, cognitoguard.ErrClient, cognitoguard.ErrInvalidToken},
		{"id token with aud array", cognitoguard.Config{TokenUse: cognitoguard.TokenUseID}, func(*testing.T) string {
			return p.IDToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"aud": []string{"client-a"}}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"expired", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithExpiry(now.Add(-time.Second)))
		}, cognitoguard.ErrExpired, cognitoguard.ErrInvalidToken},
		{"expires now", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithExpiry(now))
		}, cognitoguard.ErrExpired, cognitoguard.ErrInvalidToken},
		{"expired 1s, leeway 2s", cognitoguard.Config{Leeway: 2 * time.Second}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithExpiry(now.Add(-time.Second)))
		}, nil, nil},
		{"exp missing", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"exp": nil}))
		}, cognitoguard.ErrExpired, cognitoguard.ErrInvalidToken},
		{"exp as string", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"exp": "99999999999"}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"exp as float far in the future", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"exp": 1e300}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"exp fractional", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"exp": float64(now.Unix()) + 3600.5}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"iat in the future", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithIssuedAt(now.Add(time.Minute)))
		}, cognitoguard.ErrNotYetValid, cognitoguard.ErrInvalidToken},
		{"iat 1s in the future, leeway 2s", cognitoguard.Config{Leeway: 2 * time.Second}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithIssuedAt(now.Add(time.Second)))
		}, nil, nil},
		{"auth_time in the future", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithAuthTime(now.Add(time.Hour)), cognitotest.WithIssuedAt(now.Add(time.Hour)))
		}, cognitoguard.ErrNotYetValid, cognitoguard.ErrInvalidToken},
		{"auth_time in the future, iat now", cognitoguard.Config{Leeway: time.Minute}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithAuthTime(now.Add(24*time.Hour)))
		}, cognitoguard.ErrNotYetValid, cognitoguard.ErrInvalidToken},
		{"auth_time after iat", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithAuthTime(now), cognitotest.WithIssuedAt(now.Add(-time.Second)))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"auth_time = iat 1s in the future, leeway 2s", cognitoguard.Config{Leeway: 2 * time.Second}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithAuthTime(now.Add(time.Second)), cognitotest.WithIssuedAt(now.Add(time.Second)))
		}, nil, nil},
		{"nbf in the future", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"nbf": now.Add(time.Minute).Unix()}))
		}, cognitoguard.ErrNotYetValid, cognitoguard.ErrInvalidToken},
		{"sub missing", cognitoguard.Config{}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"sub": nil}))
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"required scope present", cognitoguard.Config{RequiredScopes: []string{"orders/read"}}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithScopes("openid", "orders/read"))
		}, nil, nil},
		{"required scope missing", cognitoguard.Config{RequiredScopes: []string{"orders/write"}}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithScopes("orders/read"))
		}, cognitoguard.ErrInsufficientScope, cognitoguard.ErrInsufficientScope},
		{"required group, any of", cognitoguard.Config{RequiredGroups: []string{"ops", "admin"}}, func(*testing.T) string {
			return p.AccessToken("alice", cognitotest.WithClient("client-a"))
		}, nil, nil},
		{"required group missing", cognitoguard.Config{RequiredGroups: []string{"admin"}}, func(*testing.T) string {
			return p.AccessToken("bob", cognitotest.WithClient("client-a"))
		}, cognitoguard.ErrInsufficientScope, cognitoguard.ErrInsufficientScope},
		{"custom check refuses", cognitoguard.Config{Check: func(ctx context.Context, c *cognitoguard.Claims) error {
			return errors.New("tenant mismatch")
		}}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) }, cognitoguard.ErrInsufficientScope, cognitoguard.ErrInsufficientScope},
		{"revoked", cognitoguard.Config{Revocation: &fakeRevocation{revoked: true}}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) }, cognitoguard.ErrRevoked, cognitoguard.ErrInvalidToken},
		{"revocation store down: fail closed", cognitoguard.Config{Revocation: &fakeRevocation{err: errors.New("redis: timeout")}}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) }, cognitoguard.ErrUnavailable, cognitoguard.ErrUnavailable},
		{"revocation store down: fail open by option", cognitoguard.Config{RevocationFailOpen: true, Revocation: &fakeRevocation{err: errors.New("redis: timeout")}}, func(*testing.T) string { return p.AccessToken("alice", cognitotest.WithClient("client-a")) }, nil, nil},
		{"duplicate sub claim", cognitoguard.Config{}, func(t *testing.T) string {
			h, pl, _ := segments(p.AccessToken("alice", cognitotest.WithClient("client-a")))
			raw, _ := base64.RawURLEncoding.DecodeString(pl)
			dup := `{"sub":"someone-else",` + string(raw[1:])
			return resign(t, h, b64(dup), p.AccessSigningKey())
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"duplicate alg header", cognitoguard.Config{}, func(t *testing.T) string {
			h, pl, _ := segments(p.AccessToken("alice", cognitotest.WithClient("client-a")))
			raw, _ := base64.RawURLEncoding.DecodeString(h)
			dup := `{"alg":"none",` + string(raw[1:])
			return resign(t, b64(dup), pl, p.AccessSigningKey())
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"payload not an object", cognitoguard.Config{}, func(t *testing.T) string {
			h, _, _ := segments(p.AccessToken("alice", cognitotest.WithClient("client-a")))
			return resign(t, h, b64(`["sub"]`), p.AccessSigningKey())
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"padding in base64", cognitoguard.Config{}, func(*testing.T) string {
			h, pl, s := segments(p.AccessToken("alice", cognitotest.WithClient("client-a")))
			return h + "=." + pl + "." + s
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
		{"line break in token", cognitoguard.Config{}, func(*testing.T) string {
			h, pl, s := segments(p.AccessToken("alice", cognitotest.WithClient("client-a")))
			return h + "." + pl[:10] + "\n" + pl[10:] + "." + s
		}, cognitoguard.ErrMalformed, cognitoguard.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := f.verifier(t, tt.cfg)
			tok := tt.token(t)
			c, err := v.Verify(t.Context(), tok)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject == "" || c.Issuer != p.Issuer() || c.ClientID != "client-a" {
					t.Fatalf("claims = %+v", c)
				}
				return
			}
			if c != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, %v; want %v", c, err, tt.want)
			}
			if got := cognitoguard.Class(err); got != tt.class {
				t.Fatalf("Class = %v, want %v", got, tt.class)
			}
			if tok != "" && strings.Contains(err.Error(), tok) {
				t.Fatal("error text contains the token")
			}
		})
	}
}

func TestVerifyClaims(t *testing.T) {
	f := newFixture(t)
	p := f.pool
	v := f.verifier(t, cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny})
	alice, _ := p.User("alice")
	at := f.clock.Now().Add(-10 * time.Minute)
	access := p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithAuthTime(at),
		cognitotest.WithScopes("openid", "orders/read"))
	c, err := v.Verify(t.Context(), access)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != alice.Sub || c.Username != "alice" || c.TokenUse != cognitoguard.TokenUseAccess ||
		c.ClientID != "client-a" || !c.HasScope("orders/read") || !c.InGroup("admin") || c.InGroup("nobody") ||
		!c.AuthTime.Equal(at.Truncate(time.Second)) || c.JTI == "" || c.OriginJTI == "" || c.Issuer != p.Issuer() {
		t.Fatalf("access claims = %+v", c)
	}
	if !c.Expiry.After(f.clock.Now()) || c.IssuedAt.IsZero() || !c.AuthenticatedAt().Equal(c.AuthTime) {
		t.Fatalf("times = %v %v %v", c.AuthTime, c.IssuedAt, c.Expiry)
	}

	id := p.IDToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"custom:tenant": "acme"}))
	c, err = v.Verify(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenUse != cognitoguard.TokenUseID || c.Username != "alice" || c.Email != "alice@example.com" || c.ClientID != "client-a" {
		t.Fatalf("id claims = %+v", c)
	}
	if got, ok := c.Custom("tenant"); !ok || got != "acme" {
		t.Fatalf("Custom(tenant) = %q, %v", got, ok)
	}
	var custom struct {
		Tenant string `json:"custom:tenant"`
	}
	if err := c.Decode(&custom); err != nil || custom.Tenant != "acme" {
		t.Fatalf("Decode = %v, %+v", err, custom)
	}
	ctx := cognitoguard.NewContext(t.Context(), c)
	if got, ok := cognitoguard.FromContext(ctx); !ok || got != c {
		t.Fatal("FromContext lost the claims")
	}
	if _, ok := cognitoguard.FromContext(t.Context()); ok {
		t.Fatal("FromContext found claims in an empty context")
	}
}

func TestVerifyCache(t *testing.T) {
	f := newFixture(t)
	p := f.pool
	rev := &fakeRevocation{}
	v := f.verifier(t, cognitoguard.Config{Revocation: rev})
	tok := p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithExpiry(f.clock.Now().Add(time.Minute)))
	for i := range 3 {
		c, err := v.Verify(t.Context(), tok)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		c.Subject = "mutated" // callers get their own copy
	}
	if c, _ := v.Verify(t.Context(), tok); c.Subject == "mutated" {
		t.Fatal("cached claims shared with callers")
	}
	if rev.calls.Load() != 4 {
		t.Fatalf("revocation consulted %d times, want every call (4)", rev.calls.Load())
	}
	// A sign-out takes effect on a cached token at once.
	rev.revoked = true
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Fatalf("cached token after sign-out: %v", err)
	}
	rev.revoked = false
	// A cached entry never outlives exp.
	f.clock.Advance(time.Minute)
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, cognitoguard.ErrExpired) {
		t.Fatalf("cached token after exp: %v", err)
	}
	// A flipped signature bit of a cached token is not a hit.
	tok2 := p.AccessToken("alice", cognitotest.WithClient("client-a"))
	if _, err := v.Verify(t.Context(), tok2); err != nil {
		t.Fatal(err)
	}
	h, pl, s := segments(tok2)
	flipped := []byte(s)
	flipped[10] ^= 1
	if _, err := v.Verify(t.Context(), h+"."+pl+"."+string(flipped)); err == nil {
		t.Fatal("a token differing from a cached one was accepted")
	}
}

func TestVerifyJWKS(t *testing.T) {
	t.Run("endpoint down, no key cached: unavailable", func(t *testing.T) {
		f := newFixture(t)
		f.pool.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
		v := f.verifier(t, cognitoguard.Config{})
		_, err := v.Verify(t.Context(), f.pool.AccessToken("alice", cognitotest.WithClient("client-a")))
		if !errors.Is(err, cognitoguard.ErrUnavailable) {
			t.Fatalf("Verify = %v, want ErrUnavailable", err)
		}
	})
	t.Run("endpoint down, keys cached: still serving", func(t *testing.T) {
		f := newFixture(t)
		v := f.verifier(t, cognitoguard.Config{CacheSize: -1})
		if err := v.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		f.pool.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
		if _, err := v.Verify(t.Context(), f.pool.AccessToken("alice", cognitotest.WithClient("client-a"))); err != nil {
			t.Fatalf("Verify during outage: %v", err)
		}
	})
	t.Run("a cached token does not outlive its key", func(t *testing.T) {
		f := newFixture(t)
		v := f.verifier(t, cognitoguard.Config{})
		old := f.pool.AccessToken("alice", cognitotest.WithClient("client-a"))
		if _, err := v.Verify(t.Context(), old); err != nil { // now cached
			t.Fatal(err)
		}
		f.pool.RotateKeys() // the old key leaves the JWKS
		f.clock.Advance(11 * time.Second)
		if _, err := v.Verify(t.Context(), f.pool.AccessToken("alice", cognitotest.WithClient("client-a"))); err != nil {
			t.Fatalf("token of the new key: %v", err) // the refetch dropped the old key
		}
		if _, err := v.Verify(t.Context(), old); !errors.Is(err, cognitoguard.ErrUnknownKey) {
			t.Fatalf("cached token of a removed key: err = %v, want ErrUnknownKey", err)
		}
	})
	t.Run("rotation picked up after cooldown", func(t *testing.T) {
		f := newFixture(t)
		v := f.verifier(t, cognitoguard.Config{})
		if _, err := v.Verify(t.Context(), f.pool.AccessToken("alice", cognitotest.WithClient("client-a"))); err != nil {
			t.Fatal(err)
		}
		f.pool.RotateKeys()
		tok := f.pool.AccessToken("alice", cognitotest.WithClient("client-a"))
		f.clock.Advance(11 * time.Second)
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatalf("token of the rotated key: %v", err)
		}
	})
}

func TestVerifyMultiplePools(t *testing.T) {
	c := newClock()
	a := cognitotest.NewPool(cognitotest.Config{Now: c.Now, PoolID: "eu-west-1_poolA"})
	t.Cleanup(a.Close)
	b := cognitotest.NewPool(cognitotest.Config{Now: c.Now, PoolID: "eu-west-1_poolB"})
	t.Cleanup(b.Close)
	for _, p := range []*cognitotest.Pool{a, b} {
		p.AddUser(cognitotest.User{Username: "u", Password: "pw"})
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{
		{UserPoolID: a.PoolID(), Issuers: []string{a.Issuer()}, ClientIDs: []string{a.ClientID()}},
		{UserPoolID: b.PoolID(), Issuers: []string{b.Issuer()}, ClientIDs: []string{b.ClientID()}},
	}, cognitoguard.Config{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	for _, p := range []*cognitotest.Pool{a, b} {
		got, err := v.Verify(t.Context(), p.AccessToken("u"))
		if err != nil || got.Issuer != p.Issuer() {
			t.Fatalf("pool %s: %v %v", p.PoolID(), got, err)
		}
	}
	// A token claiming pool A's issuer but signed by pool B's key fails.
	forged := a.AccessToken("u", cognitotest.WithSigningKey(b.AccessSigningKey()))
	if _, err := v.Verify(t.Context(), forged); !errors.Is(err, cognitoguard.ErrSignature) && !errors.Is(err, cognitoguard.ErrUnknownKey) {
		t.Fatalf("cross-pool forgery: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	const id = "us-east-1_AbC"
	c := []string{"c"}
	tests := []struct {
		name  string
		pools []cognitoguard.Pool
		cfg   cognitoguard.Config
	}{
		{"empty pool id", []cognitoguard.Pool{{ClientIDs: c}}, cognitoguard.Config{}},
		{"pool id without region", []cognitoguard.Pool{{UserPoolID: "AbCdEf", ClientIDs: c}}, cognitoguard.Config{}},
		{"bad replica region", []cognitoguard.Pool{{UserPoolID: id, Regions: []string{"mars"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"no clients", []cognitoguard.Pool{{UserPoolID: id}}, cognitoguard.Config{}},
		{"empty client", []cognitoguard.Pool{{UserPoolID: id, ClientIDs: []string{""}}}, cognitoguard.Config{}},
		{"bad issuer", []cognitoguard.Pool{{UserPoolID: id, Issuers: []string{"not a url"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"issuer with slash", []cognitoguard.Pool{{Issuers: []string{"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC/"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"plain http JWKS off loopback", []cognitoguard.Pool{{UserPoolID: id, Issuers: []string{"http://idp.example.com/us-east-1_AbC"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"non-AWS issuer without pool id", []cognitoguard.Pool{{Issuers: []string{"http://127.0.0.1:9229/local_x"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"AWS issuer of another pool", []cognitoguard.Pool{{UserPoolID: id, Issuers: []string{"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"AWS issuers of two pools", []cognitoguard.Pool{{Issuers: []string{"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"duplicate pool id", []cognitoguard.Pool{{UserPoolID: id, ClientIDs: c}, {UserPoolID: id, Regions: []string{"eu-west-1"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"issuer in two pools", []cognitoguard.Pool{{UserPoolID: "local_a", Issuers: []string{"http://127.0.0.1:1/p"}, ClientIDs: c}, {UserPoolID: "local_b", Issuers: []string{"http://127.0.0.1:1/p"}, ClientIDs: c}}, cognitoguard.Config{}},
		{"bad token use", []cognitoguard.Pool{{UserPoolID: id, ClientIDs: c}}, cognitoguard.Config{TokenUse: "refresh"}},
		{"negative leeway", []cognitoguard.Pool{{UserPoolID: id, ClientIDs: c}}, cognitoguard.Config{Leeway: -time.Second}},
		{"huge leeway", []cognitoguard.Pool{{UserPoolID: id, ClientIDs: c}}, cognitoguard.Config{Leeway: time.Hour}},
		{"negative size", []cognitoguard.Pool{{UserPoolID: id, ClientIDs: c}}, cognitoguard.Config{MaxTokenSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := cognitoguard.New(tt.pools, tt.cfg)
			if err == nil {
				v.Close()
				t.Fatal("New succeeded")
			}
			if !strings.HasPrefix(err.Error(), "cognitoguard: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := cognitoguard.New(nil, cognitoguard.Config{}); err == nil {
		t.Fatal("New without pools succeeded")
	}
	v, err := cognitoguard.NewVerifier("us-east-1_AbC", []string{"c"}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	want := []string{"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC", "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC"}
	if got := v.Issuers(); !slices.Equal(got, want) {
		t.Fatalf("derived issuers = %v, want %v", got, want)
	}
}

// FuzzVerify feeds arbitrary strings to Verify: no panic, and nothing but
// the real token's exact bytes is ever accepted.
func FuzzVerify(f *testing.F) {
	c := newClock()
	p := cognitotest.NewPool(cognitotest.Config{Now: c.Now})
	defer p.Close()
	p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	good := p.AccessToken("alice")
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{p.ClientID()}}}, cognitoguard.Config{Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Verify(context.Background(), good); err != nil {
		f.Fatal(err)
	}
	h, pl, s := segments(good)
	for _, seed := range []string{good, "", ".", "..", h + "." + pl + ".", h + "." + pl, "a.b.c", h + "." + pl + "." + s + ".", "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := v.Verify(context.Background(), tok)
		if err == nil {
			if tok != good {
				t.Fatalf("accepted a token that is not the minted one: %q", tok)
			}
			if claims == nil {
				t.Fatal("nil claims without error")
			}
			return
		}
		if cognitoguard.Class(err) == cognitoguard.ErrUnavailable {
			t.Fatalf("client input caused unavailability: %v", err)
		}
	})
}

// TestAuthenticate: identity without authorization or revocation, for
// sign-out flows; still every authenticity check.
func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	p := f.pool
	v := f.verifier(t, cognitoguard.Config{
		RequiredGroups: []string{"nobody"},
		Revocation:     &fakeRevocation{err: errors.New("store down")},
	})
	tok := p.AccessToken("alice", cognitotest.WithClient("client-a"))
	if _, err := v.Verify(t.Context(), tok); err == nil {
		t.Fatal("Verify accepted a token failing the group rule with the store down")
	}
	c, err := v.Authenticate(t.Context(), tok)
	if err != nil || c.Username != "alice" {
		t.Fatalf("Authenticate = %+v, %v", c, err)
	}
	for name, bad := range map[string]string{
		"foreign key":  p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithSigningKey(foreignKey(t))),
		"other client": p.AccessToken("alice", cognitotest.WithClient("client-b")),
		"expired":      p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithExpiry(f.clock.Now().Add(-time.Second))),
	} {
		if _, err := v.Authenticate(t.Context(), bad); !errors.Is(err, cognitoguard.ErrInvalidToken) {
			t.Errorf("%s: Authenticate = %v, want ErrInvalidToken", name, err)
		}
	}
}

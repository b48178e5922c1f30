package benchmarks

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/coreos/go-oidc/v3/oidc"
	golangjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
	jose "gopkg.in/go-jose/go-jose.v2"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/fixture"
	"github.com/cognitoguard/cognitoguard/jwks"
	"github.com/cognitoguard/cognitoguard/revocation"
)

var (
	fixOnce sync.Once
	fix     *fixture.Fixture
	fixErr  error
)

// theFixture loads testdata/, regenerating it when missing or stale.
func theFixture(tb testing.TB) *fixture.Fixture {
	tb.Helper()
	fixOnce.Do(func() {
		var fresh bool
		fix, fresh, fixErr = fixture.Get("testdata")
		if fresh {
			fmt.Println("benchmarks: wrote a new fixture to testdata/")
		}
	})
	if fixErr != nil {
		tb.Fatal(fixErr)
	}
	return fix
}

// jwksServer serves the fixture's key set, as Cognito's
// /.well-known/jwks.json would, for the verifiers that fetch it.
func jwksServer(tb testing.TB, f *fixture.Fixture) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(f.JWKS)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL + "/" + fixture.PoolID + "/.well-known/jwks.json"
}

// A verify function checks one token as a service would: signature, alg,
// issuer, expiry, token_use "access" and client_id.
type verifyFunc func(ctx context.Context, token string) error

// peer is one verifier under comparison.
type peer struct {
	name  string
	token func(*fixture.Fixture) string // the token it verifies
	setup func(tb testing.TB, f *fixture.Fixture) verifyFunc
}

func mainToken(f *fixture.Fixture) string { return f.Token }

// cognitoClaims are the Cognito claims the peers check by hand.
type cognitoClaims struct {
	TokenUse string `json:"token_use"`
	ClientID string `json:"client_id"`
}

func (c *cognitoClaims) check() error {
	if c.TokenUse != "access" {
		return errors.New("token_use is not access")
	}
	if c.ClientID != fixture.ClientID {
		return errors.New("client_id not allowed")
	}
	return nil
}

// Validate makes cognitoClaims an auth0 validator.CustomClaims.
func (c *cognitoClaims) Validate(context.Context) error { return c.check() }

// newCognitoguard returns a cognitoguard Verifier of the fixture with the
// in-process revocation store (one unrelated sign-out recorded), its keys
// fetched by its own key source from a local JWKS endpoint.
func newCognitoguard(tb testing.TB, f *fixture.Fixture, keys cognitoguard.KeySource) *cognitoguard.Verifier {
	tb.Helper()
	store := revocation.NewMemory(revocation.MemoryConfig{})
	if err := store.RevokeUser(tb.Context(), fixture.PoolID, "someone-else", time.Now()); err != nil {
		tb.Fatal(err)
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{{
		UserPoolID: fixture.PoolID,
		Keys:       keys,
		ClientIDs:  []string{fixture.ClientID},
	}}, cognitoguard.Config{Revocation: store})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// keySet is cognitoguard's own JWKS fetcher, filled once from the local
// endpoint.
func keySet(tb testing.TB, f *fixture.Fixture) *jwks.Set {
	tb.Helper()
	set, err := jwks.New(jwksServer(tb, f), jwks.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { set.Close() })
	if err := set.Refresh(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return set
}

var peers = []peer{
	{
		// The verified-token cache holds every token seen: a repeat token
		// costs a map lookup, the expiry check and the revocation lookup.
		name:  "cognitoguard-repeat",
		token: mainToken,
		setup: func(tb testing.TB, f *fixture.Fixture) verifyFunc {
			v := newCognitoguard(tb, f, keySet(tb, f))
			return func(ctx context.Context, tok string) error {
				_, err := v.Verify(ctx, tok)
				return err
			}
		},
	},
	{
		// jwx v3 with a parsed key set and the Cognito checks as options.
		name:  "jwx-v3",
		token: mainToken,
		setup: func(tb testing.TB, f *fixture.Fixture) verifyFunc {
			set, err := jwk.Parse(f.JWKS)
			if err != nil {
				tb.Fatal(err)
			}
			return func(_ context.Context, tok string) error {
				_, err := jwxjwt.Parse([]byte(tok),
					jwxjwt.WithKeySet(set),
					jwxjwt.WithIssuer(fixture.Issuer),
					jwxjwt.WithRequiredClaim(jwxjwt.ExpirationKey),
					jwxjwt.WithClaimValue("token_use", "access"),
					jwxjwt.WithClaimValue("client_id", fixture.ClientID),
				)
				return err
			}
		},
	},
	{
		// golang-jwt v5 with MicahParks/keyfunc v3 (a key set from JSON,
		// the offline form of its HTTP fetcher), map claims.
		name:  "golang-jwt-v5+keyfunc-v3",
		token: mainToken,
		setup: func(tb testing.TB, f *fixture.Fixture) verifyFunc {
			kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(f.JWKS))
			if err != nil {
				tb.Fatal(err)
			}
			parser := golangjwt.NewParser(
				golangjwt.WithValidMethods([]string{"RS256"}),
				golangjwt.WithIssuer(fixture.Issuer),
				golangjwt.WithExpirationRequired(),
			)
			return func(_ context.Context, tok string) error {
				var mc golangjwt.MapClaims
				if _, err := parser.ParseWithClaims(tok, &mc, kf.Keyfunc); err != nil {
					return err
				}
				if mc["token_use"] != "access" || mc["client_id"] != fixture.ClientID {
					return errors.New("token_use or client_id")
				}
				return nil
			}
		},
	},
	{
		// auth0 go-jwt-middleware v2 validator (go-jose v2). It refuses to
		// run without an audience, and Cognito access tokens have no aud:
		// it verifies the same token with aud = client id added.
		name:  "auth0-v2",
		token: func(f *fixture.Fixture) string { return f.TokenAud },
		setup: func(tb testing.TB, f *fixture.Fixture) verifyFunc {
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(f.JWKS, &set); err != nil {
				tb.Fatal(err)
			}
			// What jwks.CachingProvider.KeyFunc returns once cached.
			keyFunc := func(context.Context) (any, error) { return &set, nil }
			v, err := validator.New(keyFunc, validator.RS256, fixture.Issuer, []string{fixture.ClientID},
				validator.WithCustomClaims(func() validator.CustomClaims { return &cognitoClaims{} }))
			if err != nil {
				tb.Fatal(err)
			}
			return func(ctx context.Context, tok string) error {
				_, err := v.ValidateToken(ctx, tok)
				return err
			}
		},
	},
	{
		// go-oidc v3 with a static key set (the access key: the remote key
		// set picks it by kid), client check skipped (no aud) and done by
		// hand.
		name:  "go-oidc-v3",
		token: mainToken,
		setup: func(tb testing.TB, f *fixture.Fixture) verifyFunc {
			pub, err := f.Key()
			if err != nil {
				tb.Fatal(err)
			}
			v := oidc.NewVerifier(fixture.Issuer, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{pub}},
				&oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{oidc.RS256}})
			return func(ctx context.Context, tok string) error {
				t, err := v.Verify(ctx, tok)
				if err != nil {
					return err
				}
				var c cognitoClaims
				if err := t.Claims(&c); err != nil {
					return err
				}
				return c.check()
			}
		},
	},
}

// BenchmarkPeers verifies the fixture's token with each peer. cognitoguard
// appears twice: cold (tokens never seen before, the cost of a new
// token) and repeat (the same token again, served by its cache).
func BenchmarkPeers(b *testing.B) {
	f := theFixture(b)
	b.Run("cognitoguard-cold", func(b *testing.B) { benchCold(b, f) })
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			verify := p.setup(b, f)
			tok := p.token(f)
			ctx := b.Context()
			if err := verify(ctx, tok); err != nil {
				b.Fatalf("%s rejects the fixture token: %v", p.name, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchCold verifies never-seen tokens: the fixture's Distinct tokens in
// turn, with a new Verifier (empty cache, same key set) whenever they
// have all been seen, outside the timer. Each verification therefore
// parses, checks the signature, the claims and revocation, and inserts
// into the cache, like the root module's BenchmarkVerify/cold.
func benchCold(b *testing.B, f *fixture.Fixture) {
	keys := keySet(b, f)
	v := newCognitoguard(b, f, keys)
	n := len(f.Tokens)
	ctx := b.Context()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%n == 0 && i > 0 {
			b.StopTimer()
			v = newCognitoguard(b, f, keys)
			b.StartTimer()
		}
		if _, err := v.Verify(ctx, f.Tokens[i%n]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloor is the physical floor of a new token: SHA-256 of the
// signing input and crypto/rsa.VerifyPKCS1v15, on the fixture's token and
// key. No parsing, no claims, no key lookup.
func BenchmarkFloor(b *testing.B) {
	f := theFixture(b)
	pub, err := f.Key()
	if err != nil {
		b.Fatal(err)
	}
	i := strings.LastIndexByte(f.Token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(f.Token[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(f.Token[:i])
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

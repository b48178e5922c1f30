package cognitoguard

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// benchRevocation is an in-memory checker with the cost profile of the
// revocation stores' local view: one map lookup, no allocation.
type benchRevocation struct{ m map[string]int64 }

func (r *benchRevocation) Revoked(_ context.Context, c *Claims) (bool, error) {
	t, ok := r.m[c.Subject]
	return ok && c.AuthenticatedAt().Unix() <= t, nil
}

type benchEnv struct {
	pool   *cognitotest.Pool
	v      *Verifier
	tokens []string
}

func newBenchEnv(b *testing.B, n int, cacheSize int) *benchEnv {
	b.Helper()
	p := cognitotest.NewPool(cognitotest.Config{})
	b.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Password: "pw", Groups: []string{"admin"}})
	rev := &benchRevocation{m: map[string]int64{"someone-else": time.Now().Unix()}}
	v, err := New([]Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{p.ClientID()}}}, Config{Revocation: rev, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	env := &benchEnv{pool: p, v: v}
	for range n {
		env.tokens = append(env.tokens, p.AccessToken("alice", cognitotest.WithScopes("aws.cognito.signin.user.admin", "openid", "profile")))
	}
	if err := v.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	return env
}

// BenchmarkVerify measures a full verification of a never-seen token
// (cold) and of a token seen before (repeat), revocation lookup included.
func BenchmarkVerify(b *testing.B) {
	b.Run("cold", func(b *testing.B) {
		const n = 256
		env := newBenchEnv(b, n, DefaultCacheSize)
		ctx := b.Context()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if i%n == 0 && i > 0 {
				b.StopTimer()
				env.v.cache = newTokenCache(DefaultCacheSize) // every token is new again
				b.StartTimer()
			}
			if _, err := env.v.Verify(ctx, env.tokens[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repeat", func(b *testing.B) {
		env := newBenchEnv(b, 1, DefaultCacheSize)
		ctx := b.Context()
		tok := env.tokens[0]
		if _, err := env.v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := env.v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRSAFloor is the physical floor of a new token: SHA-256 of the
// signing input and crypto/rsa.VerifyPKCS1v15 with the same 2048-bit key.
func BenchmarkRSAFloor(b *testing.B) {
	env := newBenchEnv(b, 1, -1)
	tok := env.tokens[0]
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &env.pool.AccessSigningKey().PublicKey
	input := []byte(tok[:i])
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse isolates the parser (no signature check).
func BenchmarkParse(b *testing.B) {
	env := newBenchEnv(b, 1, -1)
	tok := env.tokens[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseToken(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdVsFloor alternates, token by token, the floor (SHA-256 +
// VerifyPKCS1v15) and a full cold Verify of the same token, and reports
// their time ratio ("x-floor"): pairing cancels most of the drift of a
// shared, noisy machine that separate benchmarks suffer from.
func BenchmarkColdVsFloor(b *testing.B) {
	const n = 256
	env := newBenchEnv(b, n, DefaultCacheSize)
	ctx := b.Context()
	pub := &env.pool.AccessSigningKey().PublicKey
	type prepared struct {
		input []byte
		sig   []byte
	}
	floor := make([]prepared, n)
	for i, tok := range env.tokens {
		j := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[j+1:])
		if err != nil {
			b.Fatal(err)
		}
		floor[i] = prepared{[]byte(tok[:j]), sig}
	}
	var tFloor, tVerify time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%n == 0 && i > 0 {
			env.v.cache = newTokenCache(DefaultCacheSize)
		}
		k := i % n
		t0 := time.Now()
		sum := sha256.Sum256(floor[k].input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], floor[k].sig); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := env.v.Verify(ctx, env.tokens[k]); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		tFloor += t1.Sub(t0)
		tVerify += t2.Sub(t1)
	}
	b.ReportMetric(float64(tVerify)/float64(tFloor), "x-floor")
}

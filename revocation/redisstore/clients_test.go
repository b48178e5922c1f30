package redisstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// m2m is the claims of a client-credentials access token of clientID
// issued at iat: sub is the client ID, no auth_time.
func m2m(clientID string, iat time.Time) *cognitoguard.Claims {
	return &cognitoguard.Claims{UserPoolID: testPool, Subject: clientID, ClientID: clientID,
		TokenUse: cognitoguard.TokenUseAccess, IssuedAt: iat.Truncate(time.Second)}
}

// TestRedisClientRevocationOnSecondInstance: an app-client revocation
// recorded by instance a reaches instance b through pub/sub: b rejects
// that client's earlier tokens from its view (no new Redis read), spares
// other clients, later tokens and the user whose sub is the client ID; a
// new instance reads it from Redis. The record lives in a key of its own
// kind (the user key of sub = client ID stays absent), with a TTL.
func TestRedisClientRevocationOnSecondInstance(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"miniredis", func(t *testing.T) string { return miniredis.RunT(t).Addr() }},
		{"redis-server", func(t *testing.T) string { addr, _ := redistest.Server(t); return addr }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr(t)
			client := func() *redis.Client {
				c := redis.NewClient(&redis.Options{Addr: addr})
				t.Cleanup(func() { c.Close() })
				return c
			}
			cfg := redisstore.Config{Prefix: uniquePrefix(), Timeout: 2 * time.Second}
			a, b := newRedisStore(t, client(), cfg), newRedisStore(t, client(), cfg)
			ctx := t.Context()
			issued := time.Now().Add(-time.Minute)
			old, other := m2m("m2m-orders", issued), m2m("m2m-billing", issued)
			for _, c := range []*cognitoguard.Claims{old, other} {
				if r, err := b.Revoked(ctx, c); r || err != nil {
					t.Fatalf("%s before: %v, %v", c.ClientID, r, err)
				}
			}
			lookups := b.Stats().Lookups
			at := time.Now()
			if err := a.RevokeClient(ctx, testPool, "m2m-orders", at); err != nil {
				t.Fatal(err)
			}
			eventually(t, 5*time.Second, "b rejects the revoked client's token", func() bool {
				r, err := b.Revoked(ctx, old)
				return r && err == nil
			})
			if n := b.Stats().Lookups; n != lookups {
				t.Errorf("b read Redis %d times: the revocation should reach its view by pub/sub", n-lookups)
			}
			for name, c := range map[string]*cognitoguard.Claims{
				"another client":                 other,
				"a token issued after it":        m2m("m2m-orders", at.Add(time.Second)),
				"a user whose sub is the client": claims(testPool, "m2m-orders", issued, ""),
			} {
				if r, err := b.Revoked(ctx, c); r || err != nil {
					t.Errorf("%s: revoked %v, %v; want accepted", name, r, err)
				}
			}
			c := newRedisStore(t, client(), cfg)
			if r, err := c.Revoked(ctx, old); !r || err != nil {
				t.Errorf("new instance: %v, %v; want revoked (read from Redis)", r, err)
			}
			if got, ok, err := c.ClientRevokedAt(ctx, testPool, "m2m-orders"); !ok || err != nil || !got.Equal(at.Truncate(time.Millisecond)) {
				t.Errorf("ClientRevokedAt = %v, %v, %v; want %v", got, ok, err, at)
			}
			admin := client()
			if n := admin.Exists(ctx, redisstore.KeyForTest(cfg.Prefix, testPool, "m2m-orders")).Val(); n != 0 {
				t.Error("the client revocation wrote the user key of sub = client ID")
			}
			sum := sha256.Sum256([]byte("c\x00" + testPool))
			key := cfg.Prefix + "2:c{" + hex.EncodeToString(sum[:16]) + "}"
			if ttl := admin.PTTL(ctx, key).Val(); ttl <= 0 || ttl > 24*time.Hour+5*time.Minute {
				t.Errorf("clients key %s: TTL %v, want (0, 24h5m]", key, ttl)
			}
		})
	}
}

// BenchmarkRevokedHitClientRecords is BenchmarkRevokedHit for a pool
// holding app-client revocations (of another client): a user of a known
// pool still costs no round trip and no allocation.
func BenchmarkRevokedHitClientRecords(b *testing.B) {
	mr := miniredis.RunT(b)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	b.Cleanup(func() { c.Close() })
	s := newRedisStore(b, c, redisstore.Config{})
	ctx := b.Context()
	now := time.Now()
	for _, id := range []string{"m2m-billing", "m2m-reports"} {
		if err := s.RevokeClient(ctx, testPool, id, now); err != nil {
			b.Fatal(err)
		}
	}
	c1 := claims(testPool, "3f2a1b4c-1111-2222-3333-444455556666", now.Add(time.Second), "origin")
	c1.ClientID = "web"
	mustRevoked(b, ctx, s, c1)
	b.ReportAllocs()
	for b.Loop() {
		if r, err := s.Revoked(ctx, c1); r || err != nil {
			b.Fatal(r, err)
		}
	}
	if st := s.Stats(); st.Lookups != 2 {
		b.Fatalf("%d lookups: %+v", st.Lookups, st)
	}
}

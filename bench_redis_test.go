package cognitoguard_test

import (
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// BenchmarkVerifyRedisRepeat is BenchmarkVerify/repeat with the real
// Redis store (on miniredis) behind the Verifier: a user already seen is
// answered from the store's view, with no round trip, so the figure must
// stay that of the in-memory path.
func BenchmarkVerifyRedisRepeat(b *testing.B) {
	mr := miniredis.RunT(b)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	b.Cleanup(func() { client.Close() })
	store, err := redisstore.New(client, redisstore.Config{TrustUnverifiedEviction: true}) // miniredis reports no eviction policy
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if err := store.Ready(b.Context()); err != nil {
		b.Fatal(err)
	}
	p := cognitotest.NewPool(cognitotest.Config{})
	b.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice"})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{p.ClientID()}}},
		cognitoguard.Config{Revocation: store})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	tok := p.AccessToken("alice", cognitotest.WithScopes("aws.cognito.signin.user.admin", "openid", "profile"))
	ctx := b.Context()
	if _, err := v.Verify(ctx, tok); err != nil { // first sight: one round trip
		b.Fatal(err)
	}
	trips := store.Stats().RoundTrips
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := store.Stats().RoundTrips - trips; n != 0 {
		b.Fatalf("%d Redis round trips on the hot path, want 0", n)
	}
}

package redisstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

func ExampleNew() {
	mr, _ := miniredis.Run() // a real deployment passes its own client
	defer mr.Close()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	defer client.Close()

	// miniredis reports no eviction policy: trust it explicitly. Against a
	// real Redis, leave TrustUnverifiedEviction false.
	store, err := redisstore.New(client, redisstore.Config{TrustUnverifiedEviction: true})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	ctx := context.Background()
	if err := store.Ready(ctx); err != nil { // subscribed to sign-outs
		panic(err)
	}
	// Pass store as cognitoguard.Config.Revocation. Here we ask it directly,
	// with the claims the Verifier would pass.
	const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"
	token := &cognitoguard.Claims{UserPoolID: iss, Subject: "sub-alice", AuthTime: time.Now().Add(-time.Hour)}

	// First sight of alice and of her pool: two HGETALLs in flight together
	// (her record, the pool's app-client revocations).
	revoked, err := store.Revoked(ctx, token)
	fmt.Println("before the sign-out:", revoked, err)

	if err := store.RevokeUser(ctx, iss, "sub-alice", time.Now()); err != nil {
		panic(err) // every instance sharing the Redis now rejects the token
	}
	for range 2 {
		revoked, err := store.Revoked(ctx, token) // from memory
		fmt.Println("after the sign-out:", revoked, err)
	}
	st := store.Stats()
	fmt.Println("Redis lookups:", st.Lookups, "memory hits:", st.MemoryHits)
	// Output:
	// before the sign-out: false <nil>
	// after the sign-out: true <nil>
	// after the sign-out: true <nil>
	// Redis lookups: 2 memory hits: 2
}

// Two instances of a service share a Redis. With WaitInstances, A's
// RevokeUser returns once B (and A itself) applied the sign-out, so B
// rejects the token the moment A's logout answers, from memory.
func ExampleConfig_waitInstances() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	defer client.Close() // here both instances share it; each has its own in production
	instance := func(cfg redisstore.Config) *redisstore.Store {
		cfg.TrustUnverifiedEviction = true // miniredis reports no eviction policy
		store, err := redisstore.New(client, cfg)
		if err != nil {
			panic(err)
		}
		if err := store.Ready(ctx); err != nil {
			panic(err)
		}
		return store
	}
	a := instance(redisstore.Config{WaitInstances: true})
	defer a.Close()
	b := instance(redisstore.Config{})
	defer b.Close()

	const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"
	token := &cognitoguard.Claims{UserPoolID: iss, Subject: "sub-alice", AuthTime: time.Now().Add(-time.Hour)}
	revoked, _ := b.Revoked(ctx, token)
	fmt.Println("B before:", revoked)

	if err := a.RevokeUser(ctx, iss, "sub-alice", time.Now()); err != nil {
		panic(err) // errors.Is(err, revocation.ErrUnconfirmed): recorded, not confirmed; retry
	}
	revoked, _ = b.Revoked(ctx, token) // no waiting, no polling
	fmt.Println("B right after A returned:", revoked)
	// Output:
	// B before: false
	// B right after A returned: true
}

package cognitoguard_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
	"github.com/cognitoguard/cognitoguard/signout"
)

// TestSignOutAcrossIssuers: one pool reached through two issuers (as a
// pool is through Cognito's original and updated formats, or a replica
// region). A sign-out made with a token of one issuer rejects the user's
// tokens of the other, on two instances sharing one Redis, each with its
// own store and view. Keyed by issuer, the other issuer's tokens passed.
func TestSignOutAcrossIssuers(t *testing.T) {
	f := newFixture(t)
	p := f.pool
	// A second issuer of the same pool, serving the same keys.
	replica := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/replica/"+p.PoolID()+"/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Write(p.JWKS())
	}))
	t.Cleanup(replica.Close)
	replicaIss := replica.URL + "/replica/" + p.PoolID()
	pools := []cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer(), replicaIss}, ClientIDs: []string{"client-a"}}}

	mr := miniredis.RunT(t)
	instance := func() (*cognitoguard.Verifier, *redisstore.Store) {
		client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
		t.Cleanup(func() { client.Close() })
		store, err := redisstore.New(client, redisstore.Config{TrustUnverifiedEviction: true}) // miniredis reports no eviction policy
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		if err := store.Ready(t.Context()); err != nil {
			t.Fatal(err)
		}
		v, err := cognitoguard.New(pools, cognitoguard.Config{Revocation: store, TokenUse: cognitoguard.TokenUseAny, Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v, store
	}
	a, storeA := instance()
	b, _ := instance()
	so, err := signout.New(p.Client(), a, storeA, signout.Config{})
	if err != nil {
		t.Fatal(err)
	}

	home := p.AccessToken("alice", cognitotest.WithClient("client-a"))
	fromReplica := []string{
		p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"iss": replicaIss})),
		p.IDToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"iss": replicaIss})),
	}
	for _, v := range []*cognitoguard.Verifier{a, b} {
		for _, tok := range append(fromReplica, home) {
			c, err := v.Verify(t.Context(), tok)
			if err != nil {
				t.Fatalf("before the sign-out: %v", err)
			}
			if c.UserPoolID != p.PoolID() {
				t.Fatalf("UserPoolID %q", c.UserPoolID)
			}
		}
	}
	if err := so.GlobalSignOut(t.Context(), home); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, v := range []*cognitoguard.Verifier{a, b} {
		for _, tok := range fromReplica {
			for {
				_, err := v.Verify(t.Context(), tok)
				if errors.Is(err, cognitoguard.ErrRevoked) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("replica issuer's token after a sign-out through the home issuer: %v, want ErrRevoked", err)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
}

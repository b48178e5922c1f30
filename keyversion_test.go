package cognitoguard_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"sync"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/jwks"
)

// countingKeys is a key source of one kid that counts its lookups, and,
// when versioned, says when its keys change.
type countingKeys struct {
	mu      sync.Mutex
	kid     string
	key     *rsa.PublicKey
	lookups int
	version uint64
}

func (k *countingKeys) Key(_ context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lookups++
	if kid != k.kid || k.key == nil {
		return nil, jwks.ErrKeyNotFound
	}
	return k.key, nil
}

// set changes the served key (nil: none) and moves the version.
func (k *countingKeys) set(key *rsa.PublicKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.key = key
	k.version++
}

func (k *countingKeys) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lookups
}

type versionedKeys struct{ *countingKeys }

func (k versionedKeys) KeysVersion() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.version
}

// TestCachedTokenKeyVersion: a cached token's key is looked up again at
// every hit, unless its source implements KeyVersioner: then only after
// the version moved, and a key no longer served still refuses the token.
func TestCachedTokenKeyVersion(t *testing.T) {
	for _, versioned := range []bool{false, true} {
		p := cognitotest.NewPool(cognitotest.Config{})
		t.Cleanup(p.Close)
		p.AddUser(cognitotest.User{Username: "alice"})
		ck := &countingKeys{kid: p.AccessKeyID(), key: &p.AccessSigningKey().PublicKey}
		var keys cognitoguard.KeySource = ck
		if versioned {
			keys = versionedKeys{ck}
		}
		v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, Keys: keys, AnyClient: true}}, cognitoguard.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		tok := p.AccessToken("alice")
		verify := func(want error) {
			t.Helper()
			if _, err := v.Verify(t.Context(), tok); !errors.Is(err, want) && (want != nil || err != nil) {
				t.Fatalf("versioned %v: Verify = %v, want %v", versioned, err, want)
			}
		}
		for range 5 {
			verify(nil)
		}
		want := map[bool]int{false: 5, true: 1}[versioned]
		if n := ck.count(); n != want {
			t.Errorf("versioned %v: %d lookups for one token verified 5 times, want %d", versioned, n, want)
		}
		ck.set(ck.key) // the version moves, the key stays: one lookup, then none
		verify(nil)
		verify(nil)
		if n := ck.count(); versioned && n != 2 {
			t.Errorf("after a version move keeping the key: %d lookups, want 2", n)
		}
		ck.set(nil) // the key leaves the source
		verify(cognitoguard.ErrUnknownKey)
	}
}

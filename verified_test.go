package cognitoguard_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// payload decodes a token's claims as another JWT library hands them over
// once it verified the signature (numbers float64, or json.Number).
func payload(t *testing.T, token string, useNumber bool) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if useNumber {
		d.UseNumber()
	}
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

type failingStore struct{}

func (failingStore) Revoked(context.Context, *cognitoguard.Claims) (bool, error) {
	return false, errors.New("redis down")
}

func TestCheckClaims(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	alice := pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin"}})
	bob := pool.AddUser(cognitotest.User{Username: "bob"})
	other := cognitotest.NewPool(cognitotest.Config{PoolID: "eu-west-1_other"})
	t.Cleanup(other.Close)
	other.AddUser(cognitotest.User{Username: "alice"})

	store := revocation.NewMemory(revocation.MemoryConfig{})
	verifier := func(cfg cognitoguard.Config) *cognitoguard.Verifier {
		v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	access := verifier(cognitoguard.Config{Revocation: store})
	ids := verifier(cognitoguard.Config{Revocation: store, TokenUse: cognitoguard.TokenUseID})
	scoped := verifier(cognitoguard.Config{Revocation: store, RequiredScopes: []string{"orders/write"}})
	down := verifier(cognitoguard.Config{Revocation: failingStore{}})

	// bob signed in a minute ago, signed out 10 s ago, signed in again.
	now := time.Now()
	signedIn := []cognitotest.TokenOption{cognitotest.WithAuthTime(now.Add(-time.Minute)), cognitotest.WithIssuedAt(now.Add(-time.Minute))}
	bobToken := pool.AccessToken("bob", signedIn...)
	bobID := pool.IDToken("bob", signedIn...)
	if err := store.RevokeUser(t.Context(), pool.PoolID(), bob.Sub, now.Add(-10*time.Second)); err != nil {
		t.Fatal(err)
	}
	withClaim := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }
	without := func(m map[string]any, k string) map[string]any { delete(m, k); return m }

	tests := []struct {
		name   string
		v      *cognitoguard.Verifier
		claims map[string]any
		want   error // nil: accepted
	}{
		{"access token", access, payload(t, pool.AccessToken("alice"), false), nil},
		{"json.Number", access, payload(t, pool.AccessToken("alice"), true), nil},
		{"signed out, still valid", access, payload(t, bobToken, false), cognitoguard.ErrRevoked},
		{"signed out, json.Number", access, payload(t, bobToken, true), cognitoguard.ErrRevoked},
		{"signed in again after", access, payload(t, pool.AccessToken("bob"), false), nil},
		{"other client", access, payload(t, pool.AccessToken("alice", cognitotest.WithClient("intruder")), false), cognitoguard.ErrClient},
		{"no client_id", access, without(payload(t, pool.AccessToken("alice"), false), "client_id"), cognitoguard.ErrClient},
		{"ID token where access is wanted", access, payload(t, pool.IDToken("alice"), false), cognitoguard.ErrTokenUse},
		{"access token where ID is wanted", ids, payload(t, pool.AccessToken("alice"), false), cognitoguard.ErrTokenUse},
		{"ID token", ids, payload(t, pool.IDToken("alice"), false), nil},
		{"ID token of a signed-out user", ids, payload(t, bobID, false), cognitoguard.ErrRevoked},
		{"ID token of another client", ids, payload(t, pool.IDToken("alice", cognitotest.WithClient("intruder")), false), cognitoguard.ErrClient},
		{"no token_use", access, without(payload(t, pool.AccessToken("alice"), false), "token_use"), cognitoguard.ErrTokenUse},
		{"another pool", access, payload(t, other.AccessToken("alice"), false), cognitoguard.ErrIssuer},
		{"expired", access, payload(t, pool.AccessToken("alice", cognitotest.WithExpiry(time.Now().Add(-time.Minute))), false), cognitoguard.ErrExpired},
		{"no exp", access, without(payload(t, pool.AccessToken("alice"), false), "exp"), cognitoguard.ErrExpired},
		{"auth_time after iat", access, withClaim(payload(t, pool.AccessToken("alice"), false), "auth_time", float64(time.Now().Add(time.Hour).Unix())), cognitoguard.ErrNotYetValid},
		{"no sub", access, without(payload(t, pool.AccessToken("alice"), false), "sub"), cognitoguard.ErrMalformed},
		{"sub a number", access, withClaim(payload(t, pool.AccessToken("alice"), false), "sub", 7.0), cognitoguard.ErrMalformed},
		{"exp a string", access, withClaim(payload(t, pool.AccessToken("alice"), false), "exp", "tomorrow"), cognitoguard.ErrMalformed},
		{"exp a fraction", access, withClaim(payload(t, pool.AccessToken("alice"), false), "exp", float64(time.Now().Add(time.Hour).Unix())+0.5), cognitoguard.ErrMalformed},
		{"groups not strings", access, withClaim(payload(t, pool.AccessToken("alice"), false), "cognito:groups", []any{1.0}), cognitoguard.ErrMalformed},
		{"nil map", access, nil, cognitoguard.ErrMalformed},
		{"scope missing", scoped, payload(t, pool.AccessToken("alice"), false), cognitoguard.ErrInsufficientScope},
		{"scope present", scoped, payload(t, pool.AccessToken("alice", cognitotest.WithScopes("orders/write")), false), nil},
		{"store down: fail closed", down, payload(t, pool.AccessToken("alice"), false), cognitoguard.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.v.CheckClaims(t.Context(), tc.claims)
			if tc.want != nil {
				var e *cognitoguard.Error
				if !errors.Is(err, tc.want) || !errors.As(err, &e) || c != nil {
					t.Fatalf("CheckClaims = %v, %v; want %v (an *Error)", c, err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckClaims: %v", err)
			}
			want := alice
			if c.Subject == bob.Sub {
				want = bob
			}
			if c.Subject != want.Sub || c.UserPoolID != pool.PoolID() || c.Username != want.Username || c.InGroup("admin") != (want.Sub == alice.Sub) {
				t.Errorf("claims %+v", c)
			}
		})
	}
}

package signout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

func TestGlobalSignOutClockBehindCognito(t *testing.T) {
	// This host's clock is 30s behind Cognito's: the recorded time is the
	// token's auth_time, so the presented token is revoked all the same.
	e := newEnv(t, envOptions{cfg: signout.Config{Now: func() time.Time { return newClock().Now().Add(-30 * time.Second) }}})
	u := e.addUser("alice")
	s := e.signIn(t, "alice")
	if err := e.so.GlobalSignOut(t.Context(), *s.AccessToken); err != nil {
		t.Fatal(err)
	}
	if at, _ := e.signedOutAt(t, u.Sub); !at.Equal(e.clock.Now()) {
		t.Errorf("T = %v, want the auth_time %v", at, e.clock.Now())
	}
	e.wantVerify(t, "access token", *s.AccessToken, cognitoguard.ErrRevoked)
}

func TestSignOutFutureAuthTime(t *testing.T) {
	// A token whose auth_time lies a year ahead of its own iat must not
	// push the user's sign-out time ahead: that would lock out every
	// later sign-in. The recorded time is now, or the token's auth_time
	// only as far as its verified iat allows.
	for _, op := range []string{"GlobalSignOut", "RevokeSession without origin_jti"} {
		t.Run(op, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			u := e.addUser("alice")
			s := e.pool.SignIn("alice")
			future := cognitotest.WithAuthTime(e.clock.Now().Add(365 * 24 * time.Hour))
			var err error
			if op == "GlobalSignOut" {
				err = e.so.GlobalSignOut(t.Context(), e.pool.AccessToken("alice", future))
			} else {
				tok := e.pool.AccessToken("alice", future, cognitotest.WithClaims(map[string]any{"origin_jti": nil}))
				err = e.so.RevokeSession(t.Context(), tok, s.RefreshToken)
			}
			// The Verifier refuses such a token (nothing recorded); were it
			// accepted, the sign-out would be recorded at now.
			at, ok := e.signedOutAt(t, u.Sub)
			switch {
			case err != nil && !errors.Is(err, cognitoguard.ErrNotYetValid):
				t.Fatalf("%s: %v, want nil or ErrNotYetValid", op, err)
			case err != nil && ok:
				t.Errorf("refused, but a sign-out was recorded at %v", at)
			case err == nil && (!ok || !at.Equal(e.clock.Now())):
				t.Errorf("store.SignedOutAt = %v, %v; want now, %v", at, ok, e.clock.Now())
			}
			e.clock.Advance(time.Minute)
			later := e.signIn(t, "alice")
			e.wantVerify(t, "a sign-in a minute later", *later.AccessToken, nil)
		})
	}
}

func TestSignOutAuthTimeBound(t *testing.T) {
	// Whatever an Authenticator lets through, a token's authentication
	// time moves the recorded sign-out at most 5 minutes (the largest
	// Verifier Leeway) past the recorder's clock.
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	store := revocation.NewMemory(revocation.MemoryConfig{Now: func() time.Time { return now }})
	for _, tc := range []struct {
		name      string
		authTime  time.Time
		issuedAt  time.Time
		wantAhead time.Duration
	}{
		{"auth_time and iat an hour ahead", now.Add(time.Hour), now.Add(time.Hour), 5 * time.Minute},
		{"auth_time a minute ahead, iat 30s", now.Add(time.Minute), now.Add(30 * time.Second), 30 * time.Second},
		{"no iat", now.Add(time.Minute), time.Time{}, 0},
		{"auth_time behind", now.Add(-time.Minute), now, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := "sub-" + tc.name
			auth := authFunc(func(context.Context, string) (*cognitoguard.Claims, error) {
				return &cognitoguard.Claims{Subject: sub, TokenUse: cognitoguard.TokenUseAccess, UserPoolID: "us-east-1_Fake",
					Username: "user", Scopes: []string{signout.AdminScope}, AuthTime: tc.authTime, IssuedAt: tc.issuedAt}, nil
			})
			so, err := signout.New(p.Client(), auth, store, signout.Config{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			_ = so.GlobalSignOut(t.Context(), "not-a-token") // Cognito refuses it; the record stays
			at, ok, err := store.SignedOutAt(t.Context(), "us-east-1_Fake", sub)
			if err != nil || !ok || !at.Equal(now.Add(tc.wantAhead)) {
				t.Errorf("recorded %v, %v, %v; want %v", at, ok, err, now.Add(tc.wantAhead))
			}
		})
	}
}

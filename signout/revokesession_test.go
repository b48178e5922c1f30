package signout_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/signout"
)

func TestRevokeSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	laptop := e.signIn(t, "alice")
	phone := e.signIn(t, "alice")
	laptopID, _ := e.verifier.Verify(t.Context(), *laptop.AccessToken)

	if err := e.so.RevokeSession(t.Context(), *laptop.AccessToken, *laptop.RefreshToken); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	e.wantVerify(t, "laptop access token", *laptop.AccessToken, cognitoguard.ErrRevoked)
	e.wantVerify(t, "laptop ID token", *laptop.IdToken, cognitoguard.ErrRevoked)
	e.wantVerify(t, "phone access token", *phone.AccessToken, nil)
	e.wantVerify(t, "phone ID token", *phone.IdToken, nil)
	if _, err := e.refresh(t.Context(), *laptop.RefreshToken); !errorCode(err, "NotAuthorizedException") {
		t.Errorf("laptop refresh: %v, want NotAuthorizedException", err)
	}
	if _, err := e.refresh(t.Context(), *phone.RefreshToken); err != nil {
		t.Errorf("phone refresh: %v", err)
	}
	if !e.pool.OriginRevoked(laptopID.OriginJTI) {
		t.Error("Cognito did not revoke the laptop session")
	}
	if _, ok := e.signedOutAt(t, u.Sub); ok {
		t.Error("a user sign-out was recorded for a session revocation")
	}
	// Retry: safe, and still only that session.
	if err := e.so.RevokeSession(t.Context(), *laptop.AccessToken, *laptop.RefreshToken); err != nil {
		t.Fatalf("RevokeSession retry: %v", err)
	}
	e.wantVerify(t, "phone access token after the retry", *phone.AccessToken, nil)

	// An ID token names the session as well.
	tablet := e.signIn(t, "alice")
	if err := e.so.RevokeSession(t.Context(), *tablet.IdToken, *tablet.RefreshToken); err != nil {
		t.Fatalf("RevokeSession with an ID token: %v", err)
	}
	e.wantVerify(t, "tablet access token", *tablet.AccessToken, cognitoguard.ErrRevoked)
	e.wantVerify(t, "phone access token at the end", *phone.AccessToken, nil)
}

func TestRevokeSessionWithoutOriginJTI(t *testing.T) {
	// A token without origin_jti cannot name its session: the user's
	// sign-out is recorded instead.
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	s := e.signIn(t, "alice")
	old := e.pool.AccessToken("alice", cognitotest.WithClaims(map[string]any{"origin_jti": nil}))
	if err := e.so.RevokeSession(t.Context(), old, *s.RefreshToken); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if at, ok := e.signedOutAt(t, u.Sub); !ok || !at.Equal(e.clock.Now()) {
		t.Errorf("store.SignedOutAt = %v, %v; want %v", at, ok, e.clock.Now())
	}
	e.wantVerify(t, "session access token", *s.AccessToken, cognitoguard.ErrRevoked)
	// A retry keeps T.
	e.clock.Advance(5 * time.Second)
	if err := e.so.RevokeSession(t.Context(), old, *s.RefreshToken); err != nil {
		t.Fatalf("RevokeSession retry: %v", err)
	}
	if at, _ := e.signedOutAt(t, u.Sub); !at.Equal(e.clock.Now().Add(-5 * time.Second)) {
		t.Errorf("retry moved T to %v", at)
	}
}

func TestRevokeSessionBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser("alice")
	s := e.signIn(t, "alice")
	forged := e.pool.AccessToken("alice", cognitotest.WithSigningKey(e.pool.IDSigningKey()))
	if err := e.so.RevokeSession(t.Context(), forged, *s.RefreshToken); !errors.Is(err, cognitoguard.ErrInvalidToken) {
		t.Errorf("forged token: %v, want ErrInvalidToken", err)
	}
	if err := e.so.RevokeSession(t.Context(), *s.AccessToken, ""); err == nil {
		t.Error("empty refresh token accepted")
	}
	if n := e.pool.Calls("RevokeToken"); n != 0 {
		t.Errorf("RevokeToken calls = %d, want 0", n)
	}
	e.wantVerify(t, "session access token", *s.AccessToken, nil)
}

// TestRevokeSessionClientSecret: an app client with a secret; RevokeToken
// goes through the real SDK with Config.ClientSecret. A wrong
// secret is Cognito's UnauthorizedException, returned typed, the session
// revocation recorded all the same; the right one revokes the refresh
// token.
func TestRevokeSessionClientSecret(t *testing.T) {
	const secret = "0123456789abcdefghijklmnopqrstuv"
	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{
		{"right secret", secret, true},
		{"wrong secret", "wrong-secret-of-24-chars-min", false},
		{"no secret", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{secret: secret, cfg: signout.Config{ClientSecret: tc.secret}})
			e.addUser("alice")
			s := e.signIn(t, "alice")
			err := e.so.RevokeSession(t.Context(), *s.AccessToken, *s.RefreshToken)
			e.wantVerify(t, "access token", *s.AccessToken, cognitoguard.ErrRevoked) // recorded either way
			_, rerr := e.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
				AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
				ClientId:       aws.String(e.pool.ClientID()),
				AuthParameters: e.secretHash("alice", map[string]string{"REFRESH_TOKEN": *s.RefreshToken}),
			})
			if tc.ok {
				if err != nil {
					t.Fatalf("RevokeSession: %v", err)
				}
				if rerr == nil {
					t.Error("the refresh token still works after RevokeToken")
				}
				return
			}
			var soe *signout.Error
			var ue *types.UnauthorizedException
			if !errors.As(err, &soe) || !soe.Recorded || !errors.Is(err, signout.ErrCognito) || !errors.As(err, &ue) {
				t.Fatalf("RevokeSession = %v, want a recorded Error wrapping UnauthorizedException", err)
			}
			if rerr != nil {
				t.Errorf("refresh after a refused RevokeToken: %v, want it to work (Cognito revoked nothing)", rerr)
			}
			if strings.Contains(e.logs.String(), secret) || (tc.secret != "" && strings.Contains(e.logs.String(), tc.secret)) {
				t.Error("a client secret was logged")
			}
		})
	}
}

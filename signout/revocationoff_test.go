package signout_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// TestTokenRevocationOff: an app client without token revocation issues
// tokens without origin_jti. Sign-outs still hold by user, for access and
// ID tokens and for an ID-token-only app; a session sign-out records the
// user's sign-out and reports Cognito's refusal of RevokeToken.
func TestTokenRevocationOff(t *testing.T) {
	clock := newClock()
	p := cognitotest.NewPool(cognitotest.Config{Now: clock.Now,
		Clients: []cognitotest.AppClient{{ID: "legacy", DisableTokenRevocation: true}}})
	t.Cleanup(p.Close)
	client := p.Client()
	store := revocation.NewMemory(revocation.MemoryConfig{Now: clock.Now})
	pools := []cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{"legacy"}}}
	access, err := cognitoguard.New(pools, cognitoguard.Config{Revocation: store, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { access.Close() })
	idOnly, err := cognitoguard.New(pools, cognitoguard.Config{Revocation: store, Now: clock.Now, TokenUse: cognitoguard.TokenUseID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idOnly.Close() })
	so, err := signout.New(client, access, store, signout.Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	soID, err := signout.New(client, idOnly, store, signout.Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		p.AddUser(cognitotest.User{Username: name, Password: "pw-" + name})
	}
	signIn := func(name string) *types.AuthenticationResultType {
		out, err := client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
			AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String("legacy"),
			AuthParameters: map[string]string{"USERNAME": name, "PASSWORD": "pw-" + name},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.AuthenticationResult
	}
	verify := func(v *cognitoguard.Verifier, tok string) error { _, err := v.Verify(t.Context(), tok); return err }

	// GlobalSignOut: access and ID tokens, no origin_jti, rejected by user.
	a := signIn("alice")
	c, err := access.Verify(t.Context(), *a.AccessToken)
	if err != nil || c.OriginJTI != "" {
		t.Fatalf("alice's access token: origin_jti %q, %v", c.OriginJTI, err)
	}
	clock.Advance(time.Second)
	if err := so.GlobalSignOut(t.Context(), *a.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := verify(access, *a.AccessToken); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("alice's access token after GlobalSignOut: %v", err)
	}
	if err := verify(idOnly, *a.IdToken); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("alice's ID token after GlobalSignOut: %v", err)
	}

	// An ID-token-only app signs bob out as an admin.
	b := signIn("bob")
	clock.Advance(time.Second)
	if _, err := soID.AdminSignOut(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	if err := verify(idOnly, *b.IdToken); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("bob's ID token after AdminSignOut: %v", err)
	}

	// RevokeSession cannot name the session: the user's sign-out is
	// recorded, and Cognito's refusal of RevokeToken is returned.
	cr := signIn("carol")
	clock.Advance(time.Second)
	err = so.RevokeSession(t.Context(), *cr.AccessToken, *cr.RefreshToken)
	if !errors.Is(err, signout.ErrCognito) || errors.Is(err, signout.ErrStore) {
		t.Errorf("RevokeSession with revocation off: %v, want ErrCognito only", err)
	}
	if err := verify(access, *cr.AccessToken); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("carol's access token after RevokeSession: %v", err)
	}
}

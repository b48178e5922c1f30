package cognitotest_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// adminCall runs an Admin* operation naming a user of p.
func adminCall(t *testing.T, c *cip.Client, p *cognitotest.Pool, op, username string) error {
	t.Helper()
	pool, name := aws.String(p.PoolID()), aws.String(username)
	var err error
	switch op {
	case "AdminGetUser":
		_, err = c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: pool, Username: name})
	case "AdminUserGlobalSignOut":
		_, err = c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: pool, Username: name})
	case "AdminDisableUser":
		_, err = c.AdminDisableUser(t.Context(), &cip.AdminDisableUserInput{UserPoolId: pool, Username: name})
	case "AdminEnableUser":
		_, err = c.AdminEnableUser(t.Context(), &cip.AdminEnableUserInput{UserPoolId: pool, Username: name})
	case "AdminDeleteUser":
		_, err = c.AdminDeleteUser(t.Context(), &cip.AdminDeleteUserInput{UserPoolId: pool, Username: name})
	default:
		t.Fatalf("unknown operation %s", op)
	}
	return err
}

var adminOps = []string{"AdminGetUser", "AdminUserGlobalSignOut", "AdminDisableUser", "AdminEnableUser", "AdminDeleteUser"}

// TestFederatedUserByUsernameOnly checks Cognito's rule for the Username
// of Admin* operations: a sub names a local user only; a federated user
// is named by its Provider_id username.
func TestFederatedUserByUsernameOnly(t *testing.T) {
	for _, op := range adminOps {
		t.Run(op, func(t *testing.T) {
			p, _ := newPool(t, cognitotest.Config{})
			fed := p.AddUser(cognitotest.User{Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "104752981234567890123"}})
			local := p.AddUser(cognitotest.User{Username: "alice"})
			c := sdkClient(p)
			if fed.Username != "Google_104752981234567890123" || fed.Status != cognitotest.StatusExternalProvider {
				t.Fatalf("federated user = %q, %q", fed.Username, fed.Status)
			}
			var unf *types.UserNotFoundException
			if err := adminCall(t, c, p, op, fed.Sub); !errors.As(err, &unf) {
				t.Errorf("%s by a federated user's sub: %v, want UserNotFoundException", op, err)
			}
			if err := adminCall(t, c, p, op, fed.Username); err != nil {
				t.Errorf("%s by a federated username: %v", op, err)
			}
			if err := adminCall(t, c, p, op, local.Sub); err != nil {
				t.Errorf("%s by a local user's sub: %v", op, err)
			}
		})
	}
	t.Run("oracle", func(t *testing.T) {
		p, _ := newPool(t, cognitotest.Config{})
		fed := p.AddUser(cognitotest.User{Identity: &cognitotest.Identity{ProviderName: "MySSO", UserID: "u-1"}})
		if _, ok := p.User(fed.Sub); ok {
			t.Error("User(federated sub) found the user")
		}
		if p.AdminUserGlobalSignOut(fed.Sub) {
			t.Error("AdminUserGlobalSignOut(federated sub) succeeded")
		}
		if !p.AdminUserGlobalSignOut("MySSO_u-1") {
			t.Error("AdminUserGlobalSignOut(federated username) failed")
		}
	})
}

func TestFederatedUserTokens(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{PoolID: "eu-west-1_Fed"})
	fed := p.AddUser(cognitotest.User{
		Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "1047"},
		Groups:   []string{"staff"},
	})
	idc := claims(t, p.IDToken(fed.Sub))
	if idc["cognito:username"] != "Google_1047" {
		t.Errorf("cognito:username = %v", idc["cognito:username"])
	}
	ids, _ := idc["identities"].([]any)
	if len(ids) != 1 {
		t.Fatalf("identities = %v", idc["identities"])
	}
	id := ids[0].(map[string]any)
	if id["userId"] != "1047" || id["providerName"] != "Google" || id["providerType"] != "Google" ||
		id["primary"] != "true" || id["issuer"] != nil {
		t.Errorf("identities[0] = %v", id)
	}
	groups := claims(t, p.AccessToken("Google_1047"))["cognito:groups"]
	if g, _ := groups.([]any); len(g) != 2 || g[0] != "staff" || g[1] != "eu-west-1_Fed_Google" {
		t.Errorf("cognito:groups = %v, want [staff eu-west-1_Fed_Google]", groups)
	}
	out, err := sdkClient(p).AdminGetUser(t.Context(), &cip.AdminGetUserInput{
		UserPoolId: aws.String(p.PoolID()), Username: aws.String("Google_1047"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.UserStatus != types.UserStatusTypeExternalProvider {
		t.Errorf("UserStatus = %q", out.UserStatus)
	}
	var identities []map[string]any
	for _, a := range out.UserAttributes {
		if aws.ToString(a.Name) == "identities" {
			if err := json.Unmarshal([]byte(aws.ToString(a.Value)), &identities); err != nil {
				t.Fatalf("identities attribute: %v", err)
			}
		}
	}
	if len(identities) != 1 || identities[0]["providerName"] != "Google" || identities[0]["userId"] != "1047" {
		t.Errorf("identities attribute = %v", identities)
	}
	p.AddUser(cognitotest.User{Username: "alice"})
	if _, ok := claims(t, p.IDToken("alice"))["identities"]; ok {
		t.Error("a local user's ID token has identities")
	}
}

func TestAddUserInvalid(t *testing.T) {
	tests := map[string]cognitotest.User{
		"no username":             {},
		"federated, no user ID":   {Identity: &cognitotest.Identity{ProviderName: "Google"}},
		"federated, other name":   {Username: "bob", Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "1"}},
		"federated, password":     {Password: "x", Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "1"}},
		"federated, confirmed":    {Status: cognitotest.StatusConfirmed, Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "1"}},
		"unsupported status":      {Username: "a", Status: "FORCE_CHANGE_PASSWORD"},
		"local external_provider": {Username: "a", Status: cognitotest.StatusExternalProvider},
	}
	p, _ := newPool(t, cognitotest.Config{})
	for name, u := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("AddUser did not panic")
				}
			}()
			p.AddUser(u)
		})
	}
}

func TestSDKDisableUser(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{})
	alice := p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	c := sdkClient(p)
	tok, err := signInSDK(t.Context(), c, p, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := adminCall(t, c, p, "AdminDisableUser", "alice"); err != nil {
		t.Fatal(err)
	}
	if at, ok := p.SignedOutAt(alice.Sub); !ok || !at.Equal(clock.Now()) {
		t.Errorf("SignedOutAt = %v, %v", at, ok)
	}
	_, err = getUser(t, c, aws.ToString(tok.AccessToken))
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	_, err = refreshSDK(t.Context(), c, p, aws.ToString(tok.RefreshToken))
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
	_, err = signInSDK(t.Context(), c, p, "alice", "pw")
	wantAPIError(t, err, "NotAuthorizedException", "User is disabled.")
	_, err = signInSDK(t.Context(), c, p, "alice", "wrong")
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
	_, err = getUser(t, c, p.AccessToken("alice"))
	wantAPIError(t, err, "NotAuthorizedException", "User is disabled.")
	out, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice")})
	if err != nil || out.Enabled {
		t.Errorf("AdminGetUser of a disabled user: %v, enabled %v", err, out != nil && out.Enabled)
	}

	clock.Advance(time.Second)
	if err := adminCall(t, c, p, "AdminEnableUser", "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = getUser(t, c, aws.ToString(tok.AccessToken))
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	fresh, err := signInSDK(t.Context(), c, p, "alice", "pw")
	if err != nil {
		t.Fatalf("sign-in after AdminEnableUser: %v", err)
	}
	if _, err := getUser(t, c, aws.ToString(fresh.AccessToken)); err != nil {
		t.Errorf("GetUser after AdminEnableUser: %v", err)
	}
}

func TestSDKDeleteUser(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	alice := p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	c := sdkClient(p)
	tok, err := signInSDK(t.Context(), c, p, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := adminCall(t, c, p, "AdminDeleteUser", "alice"); err != nil {
		t.Fatal(err)
	}
	var unf *types.UserNotFoundException
	for _, op := range adminOps {
		if err := adminCall(t, c, p, op, "alice"); !errors.As(err, &unf) {
			t.Errorf("%s of a deleted user: %v, want UserNotFoundException", op, err)
		}
	}
	_, err = getUser(t, c, aws.ToString(tok.AccessToken))
	wantAPIError(t, err, "UserNotFoundException", "User does not exist.")
	_, err = c.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: tok.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	_, err = refreshSDK(t.Context(), c, p, aws.ToString(tok.RefreshToken))
	wantAPIError(t, err, "NotAuthorizedException", "")
	_, err = signInSDK(t.Context(), c, p, "alice", "pw")
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
	if _, ok := p.User(alice.Sub); ok {
		t.Error("User finds a deleted user")
	}
	again := p.AddUser(cognitotest.User{Username: "alice"})
	if again.Sub == alice.Sub {
		t.Error("a re-created user kept the deleted user's sub")
	}
}

func TestSDKSignInStatus(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	p.AddUser(cognitotest.User{Username: "new", Password: "pw", Status: cognitotest.StatusUnconfirmed})
	p.AddUser(cognitotest.User{Username: "reset", Password: "pw", Status: cognitotest.StatusResetRequired})
	p.AddUser(cognitotest.User{Username: "off", Password: "pw", Disabled: true})
	c := sdkClient(p)
	tests := []struct{ user, code, msg string }{
		{"new", "UserNotConfirmedException", "User is not confirmed."},
		{"reset", "PasswordResetRequiredException", "Password reset required for the user"},
		{"off", "NotAuthorizedException", "User is disabled."},
	}
	for _, tt := range tests {
		_, err := signInSDK(t.Context(), c, p, tt.user, "pw")
		wantAPIError(t, err, tt.code, tt.msg)
		out, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String(tt.user)})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := p.User(tt.user)
		if string(out.UserStatus) != u.Status || out.Enabled == u.Disabled {
			t.Errorf("%s: AdminGetUser status %q enabled %v, user %+v", tt.user, out.UserStatus, out.Enabled, u)
		}
	}
}

// TestSignInIdentifiers checks which names sign a user in and name it in
// Admin* operations, per the pool's alias, username-attribute and case
// settings.
func TestSignInIdentifiers(t *testing.T) {
	verified := map[string]string{"email_verified": "true", "phone_number": "+15550100", "phone_number_verified": "true", "preferred_username": "Ally"}
	unverified := map[string]string{"email_verified": "false", "phone_number": "+15550100", "preferred_username": "Ally"}
	tests := []struct {
		name  string
		cfg   cognitotest.Config
		attrs map[string]string
		ok    []string
		notOK []string
	}{
		{"default: username only", cognitotest.Config{}, verified,
			[]string{"Alice"}, []string{"alice", "alice@example.com", "+15550100", "Ally"}},
		{"email alias, verified", cognitotest.Config{AliasAttributes: []string{"email"}}, verified,
			[]string{"Alice", "alice@example.com"}, []string{"ALICE@example.com", "alice", "+15550100", "Ally"}},
		{"email alias, unverified", cognitotest.Config{AliasAttributes: []string{"email"}}, unverified,
			[]string{"Alice"}, []string{"alice@example.com"}},
		{"all aliases, case-insensitive", cognitotest.Config{
			AliasAttributes: []string{"email", "phone_number", "preferred_username"}, CaseInsensitive: true}, verified,
			[]string{"alice", "ALICE@example.com", "+15550100", "ally"}, []string{"15550100", "bob"}},
		{"preferred_username needs no verification", cognitotest.Config{AliasAttributes: []string{"preferred_username"}}, unverified,
			[]string{"Ally"}, []string{"ally", "+15550100"}},
		{"email as username, unverified", cognitotest.Config{UsernameAttributes: []string{"email"}}, unverified,
			[]string{"alice@example.com"}, []string{"+15550100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newPool(t, tt.cfg)
			username := "Alice"
			if tt.cfg.UsernameAttributes != nil {
				username = ""
			}
			u := p.AddUser(cognitotest.User{Username: username, Email: "alice@example.com", Password: "pw", Attributes: tt.attrs})
			c := sdkClient(p)
			for _, name := range tt.ok {
				if _, err := signInSDK(t.Context(), c, p, name, "pw"); err != nil {
					t.Errorf("sign-in as %q: %v", name, err)
				}
				if err := adminCall(t, c, p, "AdminGetUser", name); err != nil {
					t.Errorf("AdminGetUser(%q): %v", name, err)
				}
			}
			for _, name := range tt.notOK {
				_, err := signInSDK(t.Context(), c, p, name, "pw")
				wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
				var unf *types.UserNotFoundException
				if err := adminCall(t, c, p, "AdminGetUser", name); !errors.As(err, &unf) {
					t.Errorf("AdminGetUser(%q) = %v, want UserNotFoundException", name, err)
				}
			}
			if tt.cfg.UsernameAttributes != nil && u.Username != u.Sub {
				t.Errorf("username %q, want the sub %q", u.Username, u.Sub)
			}
		})
	}
}

func TestSignInConfigInvalid(t *testing.T) {
	for name, cfg := range map[string]cognitotest.Config{
		"unknown alias":      {AliasAttributes: []string{"name"}},
		"username alias":     {UsernameAttributes: []string{"preferred_username"}},
		"alias and username": {AliasAttributes: []string{"email"}, UsernameAttributes: []string{"email"}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewPool did not panic")
				}
			}()
			cognitotest.NewPool(cfg).Close()
		})
	}
}

// TestEmailVerifiedOnlyWhenSet checks that email_verified is never
// implied by an email.
func TestEmailVerifiedOnlyWhenSet(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	p.AddUser(cognitotest.User{Username: "plain", Email: "plain@example.com"})
	p.AddUser(cognitotest.User{Username: "no", Email: "no@example.com", Attributes: map[string]string{"email_verified": "false"}})
	c := sdkClient(p)
	for user, want := range map[string]any{"plain": nil, "no": false} {
		if got := claims(t, p.IDToken(user))["email_verified"]; got != want {
			t.Errorf("%s: ID token email_verified = %v, want %v", user, got, want)
		}
		out, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		var got any
		for _, a := range out.UserAttributes {
			if aws.ToString(a.Name) == "email_verified" {
				got = aws.ToString(a.Value) == "true"
			}
		}
		if got != want {
			t.Errorf("%s: AdminGetUser email_verified = %v, want %v", user, got, want)
		}
	}
}

package cognitotest_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// initiate runs InitiateAuth (or, with admin, AdminInitiateAuth) for
// client with the parameters params.
func initiate(t *testing.T, c *cip.Client, p *cognitotest.Pool, admin bool, flow types.AuthFlowType, client string, params map[string]string) (*types.AuthenticationResultType, error) {
	t.Helper()
	if admin {
		out, err := c.AdminInitiateAuth(t.Context(), &cip.AdminInitiateAuthInput{
			UserPoolId: aws.String(p.PoolID()), ClientId: aws.String(client), AuthFlow: flow, AuthParameters: params,
		})
		if err != nil {
			return nil, err
		}
		return out.AuthenticationResult, nil
	}
	out, err := c.InitiateAuth(t.Context(), &cip.InitiateAuthInput{ClientId: aws.String(client), AuthFlow: flow, AuthParameters: params})
	if err != nil {
		return nil, err
	}
	return out.AuthenticationResult, nil
}

func TestExplicitAuthFlows(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{ClientIDs: []string{"default"}, Clients: []cognitotest.AppClient{
		{ID: "srp-only", ExplicitAuthFlows: []string{cognitotest.AllowUserSRPAuth}},
		{ID: "admin", ExplicitAuthFlows: []string{cognitotest.AllowAdminUserPasswordAuth, cognitotest.AllowRefreshTokenAuth}},
		{ID: "user", ExplicitAuthFlows: []string{cognitotest.AllowUserPasswordAuth}},
	}})
	p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	c := sdkClient(p)
	created, err := c.CreateUserPoolClient(t.Context(), &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(p.PoolID()), ClientName: aws.String("api-default"),
	})
	if err != nil {
		t.Fatal(err)
	}
	apiClient := aws.ToString(created.UserPoolClient.ClientId)
	if got := created.UserPoolClient.ExplicitAuthFlows; len(got) != 3 || !slices.Contains(got, types.ExplicitAuthFlowsTypeAllowUserSrpAuth) ||
		slices.Contains(got, types.ExplicitAuthFlowsTypeAllowUserPasswordAuth) {
		t.Errorf("CreateUserPoolClient default flows = %v", got)
	}
	if !slices.Contains(p.ClientIDs(), apiClient) {
		t.Errorf("ClientIDs %v lack the created client %s", p.ClientIDs(), apiClient)
	}
	password := map[string]string{"USERNAME": "alice", "PASSWORD": "pw"}
	tests := []struct {
		client string
		admin  bool
		flow   types.AuthFlowType
		msg    string // "" for success
	}{
		{p.ClientID(), false, types.AuthFlowTypeUserPasswordAuth, ""}, // Config's default flows
		{p.ClientID(), true, types.AuthFlowTypeAdminUserPasswordAuth, ""},
		{apiClient, false, types.AuthFlowTypeUserPasswordAuth, "USER_PASSWORD_AUTH flow not enabled for this client"},
		{apiClient, true, types.AuthFlowTypeAdminUserPasswordAuth, "Auth flow not enabled for this client"},
		{"srp-only", false, types.AuthFlowTypeUserPasswordAuth, "USER_PASSWORD_AUTH flow not enabled for this client"},
		{"admin", false, types.AuthFlowTypeUserPasswordAuth, "USER_PASSWORD_AUTH flow not enabled for this client"},
		{"admin", true, types.AuthFlowTypeAdminNoSrpAuth, ""},
		{"user", false, types.AuthFlowTypeUserPasswordAuth, ""},
		{"user", true, types.AuthFlowTypeAdminUserPasswordAuth, "Auth flow not enabled for this client"},
	}
	for _, tt := range tests {
		res, err := initiate(t, c, p, tt.admin, tt.flow, tt.client, password)
		if tt.msg != "" {
			wantAPIError(t, err, "InvalidParameterException", tt.msg)
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tt.client, tt.flow, err)
			continue
		}
		_, err = initiate(t, c, p, false, types.AuthFlowTypeRefreshTokenAuth, tt.client, map[string]string{"REFRESH_TOKEN": aws.ToString(res.RefreshToken)})
		if tt.client == "user" {
			wantAPIError(t, err, "InvalidParameterException", "flow not enabled for this client")
		} else if err != nil {
			t.Errorf("%s refresh: %v", tt.client, err)
		}
	}
}

func TestTokenRevocationOff(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{
		ClientIDs: []string{"on"},
		Clients:   []cognitotest.AppClient{{ID: "off", DisableTokenRevocation: true}},
	})
	p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	c := sdkClient(p)
	res, err := initiate(t, c, p, false, types.AuthFlowTypeUserPasswordAuth, "off", map[string]string{"USERNAME": "alice", "PASSWORD": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	ac, idc := claims(t, aws.ToString(res.AccessToken)), claims(t, aws.ToString(res.IdToken))
	for name, m := range map[string]map[string]any{"access": ac, "ID": idc} {
		if _, ok := m["origin_jti"]; ok {
			t.Errorf("%s token has origin_jti", name)
		}
	}
	if _, ok := idc["jti"]; ok {
		t.Error("ID token has jti")
	}
	if _, ok := ac["jti"]; !ok {
		t.Error("access token lacks jti")
	}
	_, err = c.RevokeToken(t.Context(), &cip.RevokeTokenInput{Token: res.RefreshToken, ClientId: aws.String("off")})
	var uoe *types.UnsupportedOperationException
	if !errors.As(err, &uoe) {
		t.Errorf("RevokeToken with revocation off: %v, want UnsupportedOperationException", err)
	}
	// A global sign-out still revokes the session's tokens.
	if _, err := c.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: res.AccessToken}); err != nil {
		t.Fatal(err)
	}
	_, err = getUser(t, c, aws.ToString(res.AccessToken))
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")

	on := p.SignIn("alice", cognitotest.WithClient("on"))
	if _, ok := claims(t, on.IDToken)["origin_jti"]; !ok {
		t.Error("a client with revocation on mints no origin_jti")
	}
	created, err := c.CreateUserPoolClient(t.Context(), &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(p.PoolID()), ClientName: aws.String("x"), EnableTokenRevocation: aws.Bool(false),
	})
	if err != nil || aws.ToBool(created.UserPoolClient.EnableTokenRevocation) {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	tok := p.AccessToken("alice", cognitotest.WithClient(aws.ToString(created.UserPoolClient.ClientId)))
	if _, ok := claims(t, tok)["origin_jti"]; ok {
		t.Error("a created client without revocation mints origin_jti")
	}
}

func TestRevokeTokenMalformed(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	c := sdkClient(p)
	for _, tok := range []string{"abc", "a.b.c.d", "a.b.c.d.e.f", "a.b!.c.d.e"} {
		_, err := c.RevokeToken(t.Context(), &cip.RevokeTokenInput{Token: aws.String(tok), ClientId: aws.String(p.ClientID())})
		wantAPIError(t, err, "InvalidParameterException", "")
	}
	unknown := "eyJjdHkiOiJKV1QifQ.AAAA.BBBB.CCCC.DDDD"
	if _, err := c.RevokeToken(t.Context(), &cip.RevokeTokenInput{Token: aws.String(unknown), ClientId: aws.String(p.ClientID())}); err != nil {
		t.Errorf("RevokeToken of an unknown well-formed token: %v", err)
	}
}

func TestClientsConfigInvalid(t *testing.T) {
	for name, cfg := range map[string]cognitotest.Config{
		"duplicate":      {ClientIDs: []string{"a"}, Clients: []cognitotest.AppClient{{ID: "a"}}},
		"empty ID":       {Clients: []cognitotest.AppClient{{}}},
		"unknown flow":   {Clients: []cognitotest.AppClient{{ID: "a", ExplicitAuthFlows: []string{"USER_PASSWORD_AUTH"}}}},
		"secret twice":   {Clients: []cognitotest.AppClient{{ID: "a", Secret: "s"}}, ClientSecrets: map[string]string{"a": "t"}},
		"unknown secret": {ClientSecrets: map[string]string{"nope": "s"}},
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

func TestRefreshTokenRotation(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{
		ClientIDs: []string{"plain"},
		Clients: []cognitotest.AppClient{
			{ID: "rotating", RefreshTokenRotation: true, RetryGracePeriod: 10 * time.Second},
			{ID: "rotating-no-revocation", RefreshTokenRotation: true, DisableTokenRevocation: true},
		},
	})
	p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	c := sdkClient(p)
	get := func(client, rt string) (*types.AuthenticationResultType, error) {
		out, err := c.GetTokensFromRefreshToken(t.Context(), &cip.GetTokensFromRefreshTokenInput{
			ClientId: aws.String(client), RefreshToken: aws.String(rt),
		})
		if err != nil {
			return nil, err
		}
		return out.AuthenticationResult, nil
	}
	password := map[string]string{"USERNAME": "alice", "PASSWORD": "pw"}

	t.Run("rotation brings origin_jti and jti", func(t *testing.T) {
		idc := claims(t, p.SignIn("alice", cognitotest.WithClient("rotating-no-revocation")).IDToken)
		if idc["origin_jti"] == nil || idc["jti"] == nil {
			t.Errorf("ID token claims %v lack origin_jti or jti", idc)
		}
	})
	t.Run("without rotation", func(t *testing.T) {
		res, err := initiate(t, c, p, false, types.AuthFlowTypeUserPasswordAuth, "plain", password)
		if err != nil {
			t.Fatal(err)
		}
		out, err := get("plain", aws.ToString(res.RefreshToken))
		if err != nil || out.RefreshToken != nil || out.AccessToken == nil {
			t.Fatalf("GetTokensFromRefreshToken = %+v, %v; want new access and ID tokens only", out, err)
		}
	})

	res, err := initiate(t, c, p, false, types.AuthFlowTypeUserPasswordAuth, "rotating", password)
	if err != nil {
		t.Fatal(err)
	}
	first := aws.ToString(res.RefreshToken)
	_, err = initiate(t, c, p, false, types.AuthFlowTypeRefreshTokenAuth, "rotating", map[string]string{"REFRESH_TOKEN": first})
	wantAPIError(t, err, "InvalidParameterException", "rotation")

	out, err := get("rotating", first)
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(out.RefreshToken)
	if second == "" || second == first {
		t.Fatalf("rotation returned refresh token %q", second)
	}
	if claims(t, aws.ToString(out.AccessToken))["origin_jti"] != claims(t, aws.ToString(res.AccessToken))["origin_jti"] {
		t.Error("a rotated refresh token started another session")
	}
	clock.Advance(9 * time.Second)
	if _, err := get("rotating", first); err != nil {
		t.Errorf("retry within the grace period: %v", err)
	}
	clock.Advance(time.Second)
	_, err = get("rotating", first)
	wantAPIError(t, err, "NotAuthorizedException", "rotated")
	if _, err := get("rotating", second); err != nil {
		t.Errorf("the new refresh token: %v", err)
	}
	_, err = get("plain", second)
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has different Client")

	// Revoking any token of the family ends the session.
	if _, err := c.RevokeToken(t.Context(), &cip.RevokeTokenInput{Token: out.RefreshToken, ClientId: aws.String("rotating")}); err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{first, second} {
		_, err = get("rotating", rt)
		wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
	}
}

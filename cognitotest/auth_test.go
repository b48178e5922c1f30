package cognitotest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

func signInSDK(ctx context.Context, c *cip.Client, p *cognitotest.Pool, user, password string) (*types.AuthenticationResultType, error) {
	out, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(p.ClientID()),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password},
	})
	if err != nil {
		return nil, err
	}
	return out.AuthenticationResult, nil
}

func refreshSDK(ctx context.Context, c *cip.Client, p *cognitotest.Pool, refreshToken string) (*types.AuthenticationResultType, error) {
	out, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(p.ClientID()),
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
	})
	if err != nil {
		return nil, err
	}
	return out.AuthenticationResult, nil
}

func TestSDKPasswordSignIn(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{ClientIDs: []string{"web", "other"}, AliasAttributes: []string{"email"}})
	alice := p.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Password: "Secret-1",
		Attributes: map[string]string{"email_verified": "true"}})
	p.AddUser(cognitotest.User{Username: "nopass"})
	c := sdkClient(p)

	initiate := func(user, pw, client string) (*types.AuthenticationResultType, error) {
		out, err := c.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
			AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
			ClientId:       aws.String(client),
			AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw},
		})
		if err != nil {
			return nil, err
		}
		return out.AuthenticationResult, nil
	}
	admin := func(flow types.AuthFlowType, pool string) func(user, pw, client string) (*types.AuthenticationResultType, error) {
		return func(user, pw, client string) (*types.AuthenticationResultType, error) {
			out, err := c.AdminInitiateAuth(t.Context(), &cip.AdminInitiateAuthInput{
				UserPoolId:     aws.String(pool),
				AuthFlow:       flow,
				ClientId:       aws.String(client),
				AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw},
			})
			if err != nil {
				return nil, err
			}
			return out.AuthenticationResult, nil
		}
	}
	adminPw := admin(types.AuthFlowTypeAdminUserPasswordAuth, p.PoolID())

	tests := []struct {
		name     string
		call     func(user, pw, client string) (*types.AuthenticationResultType, error)
		user, pw string
		client   string
		wantCode string // "" for success
		wantMsg  string
	}{
		{"InitiateAuth", initiate, "alice", "Secret-1", "web", "", ""},
		{"InitiateAuth by email", initiate, "alice@example.com", "Secret-1", "web", "", ""},
		{"email in another case", initiate, "ALICE@example.com", "Secret-1", "web", "NotAuthorizedException", "Incorrect username or password."},
		{"InitiateAuth second client", initiate, "alice", "Secret-1", "other", "", ""},
		{"AdminInitiateAuth", adminPw, "alice", "Secret-1", "web", "", ""},
		{"AdminInitiateAuth ADMIN_NO_SRP_AUTH", admin(types.AuthFlowTypeAdminNoSrpAuth, p.PoolID()), "alice", "Secret-1", "web", "", ""},
		{"wrong password", initiate, "alice", "wrong", "web", "NotAuthorizedException", "Incorrect username or password."},
		{"admin wrong password", adminPw, "alice", "wrong", "web", "NotAuthorizedException", "Incorrect username or password."},
		{"unknown user", initiate, "nobody", "Secret-1", "web", "NotAuthorizedException", "Incorrect username or password."},
		{"user without password", initiate, "nopass", "x", "web", "NotAuthorizedException", "Incorrect username or password."},
		{"unknown client", initiate, "alice", "Secret-1", "nope", "ResourceNotFoundException", "nope"},
		{"admin flow on InitiateAuth", func(u, pw, cl string) (*types.AuthenticationResultType, error) {
			_, err := c.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
				AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, ClientId: aws.String(cl),
				AuthParameters: map[string]string{"USERNAME": u, "PASSWORD": pw},
			})
			return nil, err
		}, "alice", "Secret-1", "web", "InvalidParameterException", ""},
		{"wrong pool", admin(types.AuthFlowTypeAdminUserPasswordAuth, "us-east-1_other"), "alice", "Secret-1", "web", "ResourceNotFoundException", "us-east-1_other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.call(tt.user, tt.pw, tt.client)
			if tt.wantCode != "" {
				wantAPIError(t, err, tt.wantCode, tt.wantMsg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(res.TokenType) != "Bearer" || res.ExpiresIn != 3600 || res.RefreshToken == nil {
				t.Errorf("result = type %q, expires %d, refresh %v", aws.ToString(res.TokenType), res.ExpiresIn, res.RefreshToken)
			}
			a, id := claims(t, aws.ToString(res.AccessToken)), claims(t, aws.ToString(res.IdToken))
			if a["sub"] != alice.Sub || a["client_id"] != tt.client || id["aud"] != tt.client || a["origin_jti"] != id["origin_jti"] {
				t.Errorf("access %v, id %v", a, id)
			}
			keys := fetchJWKS(t, p.JWKSURL())
			for _, tok := range []string{aws.ToString(res.AccessToken), aws.ToString(res.IdToken)} {
				if err := verifyWithJWKS(t, tok, keys); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var nf *types.NotAuthorizedException
	_, err := initiate("alice", "wrong", "web")
	if !errors.As(err, &nf) {
		t.Errorf("errors.As(*types.NotAuthorizedException) failed for %v", err)
	}
}

func TestSDKRefresh(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{ClientIDs: []string{"web", "other"}, RefreshTokenTTL: 24 * time.Hour})
	p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	c := sdkClient(p)
	first, err := signInSDK(t.Context(), c, p, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)

	for _, flow := range []types.AuthFlowType{types.AuthFlowTypeRefreshTokenAuth, types.AuthFlowTypeRefreshToken} {
		t.Run(string(flow), func(t *testing.T) {
			out, err := c.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
				AuthFlow:       flow,
				ClientId:       aws.String("web"),
				AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(first.RefreshToken)},
			})
			if err != nil {
				t.Fatal(err)
			}
			res := out.AuthenticationResult
			if res.RefreshToken != nil {
				t.Error("refresh returned a new refresh token")
			}
			for _, pair := range [][2]string{
				{aws.ToString(first.AccessToken), aws.ToString(res.AccessToken)},
				{aws.ToString(first.IdToken), aws.ToString(res.IdToken)},
			} {
				o, n := claims(t, pair[0]), claims(t, pair[1])
				if n["auth_time"] != o["auth_time"] || n["origin_jti"] != o["origin_jti"] {
					t.Errorf("refresh changed auth_time/origin_jti: %v → %v", o, n)
				}
				if n["jti"] == o["jti"] || n["iat"] != num(t0.Add(10*time.Minute).Unix()) ||
					n["exp"] != num(t0.Add(70*time.Minute).Unix()) {
					t.Errorf("refresh kept jti or times: %v → %v", o, n)
				}
			}
		})
	}

	tests := []struct {
		name   string
		client string
		token  string
		msg    string
	}{
		{"other client", "other", aws.ToString(first.RefreshToken), "Refresh Token has different Client"},
		{"unknown token", "web", "eyJ.abc.def.ghi.jkl", "Invalid Refresh Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
				AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
				ClientId:       aws.String(tt.client),
				AuthParameters: map[string]string{"REFRESH_TOKEN": tt.token},
			})
			wantAPIError(t, err, "NotAuthorizedException", tt.msg)
		})
	}
	t.Run("admin refresh", func(t *testing.T) {
		_, err := c.AdminInitiateAuth(t.Context(), &cip.AdminInitiateAuthInput{
			UserPoolId:     aws.String(p.PoolID()),
			AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
			ClientId:       aws.String("web"),
			AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(first.RefreshToken)},
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SignIn refresh token works with the API", func(t *testing.T) {
		tok := p.SignIn("alice")
		if _, err := refreshSDK(t.Context(), c, p, tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		clock.Advance(24 * time.Hour)
		_, err := refreshSDK(t.Context(), c, p, aws.ToString(first.RefreshToken))
		wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has expired")
	})
}

func TestSDKClientSecret(t *testing.T) {
	const secret = "0123456789abcdefghijklmnopqrstuv"
	p, _ := newPool(t, cognitotest.Config{ClientIDs: []string{"web", "public"}, ClientSecrets: map[string]string{"web": secret}})
	alice := p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	c := sdkClient(p)
	ctx := t.Context()
	auth := func(flow types.AuthFlowType, client string, params map[string]string) (*types.AuthenticationResultType, error) {
		out, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: flow, ClientId: aws.String(client), AuthParameters: params})
		if err != nil {
			return nil, err
		}
		return out.AuthenticationResult, nil
	}
	password := func(hash string) map[string]string {
		m := map[string]string{"USERNAME": "alice", "PASSWORD": "pw"}
		if hash != "" {
			m["SECRET_HASH"] = hash
		}
		return m
	}

	_, err := auth(types.AuthFlowTypeUserPasswordAuth, "web", password(""))
	wantAPIError(t, err, "NotAuthorizedException", "configured for secret but secret was not received")
	_, err = auth(types.AuthFlowTypeUserPasswordAuth, "web", password(cognitotest.SecretHash("wrong", "alice", "web")))
	wantAPIError(t, err, "NotAuthorizedException", "Unable to verify secret hash")
	res, err := auth(types.AuthFlowTypeUserPasswordAuth, "web", password(cognitotest.SecretHash(secret, "alice", "web")))
	if err != nil {
		t.Fatalf("sign-in with the secret hash: %v", err)
	}
	if _, err := auth(types.AuthFlowTypeUserPasswordAuth, "public", password("")); err != nil {
		t.Fatalf("a client without a secret needs no hash: %v", err)
	}

	refresh := func(hash string) error {
		m := map[string]string{"REFRESH_TOKEN": aws.ToString(res.RefreshToken)}
		if hash != "" {
			m["SECRET_HASH"] = hash
		}
		_, err := auth(types.AuthFlowTypeRefreshTokenAuth, "web", m)
		return err
	}
	wantAPIError(t, refresh(""), "NotAuthorizedException", "secret was not received")
	// A refresh's SECRET_HASH is over the internal username only.
	wantAPIError(t, refresh(cognitotest.SecretHash(secret, alice.Sub, "web")), "NotAuthorizedException", "Unable to verify secret hash")
	if err := refresh(cognitotest.SecretHash(secret, "alice", "web")); err != nil {
		t.Errorf("refresh with the hash of the username: %v", err)
	}

	revoke := func(s *string) error {
		_, err := c.RevokeToken(ctx, &cip.RevokeTokenInput{Token: res.RefreshToken, ClientId: aws.String("web"), ClientSecret: s})
		return err
	}
	for _, s := range []*string{nil, aws.String("wrong-secret-of-24-chars-min")} {
		var ue *types.UnauthorizedException
		if err := revoke(s); !errors.As(err, &ue) || !strings.Contains(aws.ToString(ue.Message), "Invalid client or secret") {
			t.Errorf("RevokeToken with secret %v: %v, want UnauthorizedException", aws.ToString(s), err)
		}
	}
	if err := revoke(aws.String(secret)); err != nil {
		t.Fatalf("RevokeToken with the secret: %v", err)
	}
	wantAPIError(t, refresh(cognitotest.SecretHash(secret, "alice", "web")), "NotAuthorizedException", "Refresh Token has been revoked")
}

func TestNewPoolBadSecret(t *testing.T) {
	for _, secrets := range []map[string]string{{"nope": "s"}, {cognitotest.DefaultClientID: ""}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ClientSecrets %v: no panic", secrets)
				}
			}()
			cognitotest.NewPool(cognitotest.Config{ClientSecrets: secrets}).Close()
		}()
	}
}

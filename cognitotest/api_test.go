package cognitotest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

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

func getUser(t *testing.T, c *cip.Client, accessToken string) (*cip.GetUserOutput, error) {
	return c.GetUser(t.Context(), &cip.GetUserInput{AccessToken: aws.String(accessToken)})
}

// wantAPIError checks that err is an SDK API error of type code with a
// message containing msg.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("error = %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
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

func TestSDKGlobalSignOut(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{})
	alice := p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	c := sdkClient(p)
	web, err := signInSDK(t.Context(), c, p, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	mobile := p.SignIn("alice") // a second session of the same user
	clock.Advance(time.Minute)

	if _, err := c.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: web.AccessToken}); err != nil {
		t.Fatal(err)
	}
	if at, ok := p.SignedOutAt(alice.Sub); !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("SignedOutAt = %v, %v; want %v", at, ok, t0.Add(time.Minute))
	}
	for _, tok := range []string{aws.ToString(web.AccessToken), mobile.AccessToken} {
		if o := claims(t, tok)["origin_jti"].(string); !p.OriginRevoked(o) {
			t.Errorf("origin_jti %s not revoked", o)
		}
	}

	tests := []struct {
		name string
		call func() error
		msg  string
	}{
		{"refresh of the signed-in session", func() error {
			_, err := refreshSDK(t.Context(), c, p, aws.ToString(web.RefreshToken))
			return err
		}, "Refresh Token has been revoked"},
		{"refresh of the other session", func() error {
			_, err := refreshSDK(t.Context(), c, p, mobile.RefreshToken)
			return err
		}, "Refresh Token has been revoked"},
		{"GlobalSignOut again", func() error {
			_, err := c.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: web.AccessToken})
			return err
		}, "Access Token has been revoked"},
		{"GetUser", func() error {
			_, err := getUser(t, c, mobile.AccessToken)
			return err
		}, "Access Token has been revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var nae *types.NotAuthorizedException
			if !errors.As(err, &nae) {
				t.Fatalf("error = %v, want *types.NotAuthorizedException", err)
			}
			wantAPIError(t, err, "NotAuthorizedException", tt.msg)
		})
	}

	t.Run("a new sign-in works", func(t *testing.T) {
		clock.Advance(time.Second)
		res, err := signInSDK(t.Context(), c, p, "alice", "pw")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := getUser(t, c, aws.ToString(res.AccessToken)); err != nil {
			t.Fatal(err)
		}
		if _, err := refreshSDK(t.Context(), c, p, aws.ToString(res.RefreshToken)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSDKAccessTokenChecks(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{})
	p.AddUser(cognitotest.User{Username: "alice"})
	other := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(other.Close)
	c := sdkClient(p)

	tests := []struct {
		name string
		tok  string
		msg  string
	}{
		{"other pool's key", p.AccessToken("alice", cognitotest.WithSigningKey(other.SigningKey())), "Invalid Access Token"},
		{"expired", p.AccessToken("alice", cognitotest.WithExpiry(clock.Now())), "Access Token has expired"},
		{"ID token", p.IDToken("alice"), "Invalid Access Token"},
		{"wrong issuer", p.AccessToken("alice", cognitotest.WithClaims(map[string]any{"iss": other.Issuer()})), "Invalid Access Token"},
		{"foreign client", p.AccessToken("alice", cognitotest.WithClient("stranger")), "Invalid Access Token"},
		{"alg HS256", p.AccessToken("alice", cognitotest.WithHeader(map[string]any{"alg": "HS256"})), "Invalid Access Token"},
		{"no admin scope", p.AccessToken("alice", cognitotest.WithScopes("openid")), "Access Token does not have required scopes"},
		{"garbage", "a.b.c", "Invalid Access Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: aws.String(tt.tok)})
			wantAPIError(t, err, "NotAuthorizedException", tt.msg)
		})
	}
	if _, ok := p.SignedOutAt(p.AccessKeyID()); ok {
		t.Error("a rejected token signed someone out")
	}
	u, _ := p.User("alice")
	if _, ok := p.SignedOutAt(u.Sub); ok {
		t.Error("a rejected token signed alice out")
	}

	t.Run("token without origin_jti follows auth_time", func(t *testing.T) {
		tok := p.AccessToken("alice", cognitotest.WithClaims(map[string]any{"origin_jti": nil}))
		p.AdminUserGlobalSignOut("alice")
		_, err := getUser(t, c, tok)
		wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
		clock.Advance(time.Second)
		fresh := p.AccessToken("alice", cognitotest.WithClaims(map[string]any{"origin_jti": nil}))
		if _, err := getUser(t, c, fresh); err != nil {
			t.Errorf("token of a later sign-in: %v", err)
		}
	})
}

func TestSDKAdminUserGlobalSignOut(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{AliasAttributes: []string{"email"}})
	alice := p.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com",
		Attributes: map[string]string{"email_verified": "true"}})
	c := sdkClient(p)

	tests := []struct {
		name     string
		pool     string
		username string
		wantCode string
		wantMsg  string
	}{
		{"by username", p.PoolID(), "alice", "", ""},
		{"by sub", p.PoolID(), alice.Sub, "", ""},
		{"by email", p.PoolID(), "alice@example.com", "", ""},
		{"unknown user", p.PoolID(), "nobody", "UserNotFoundException", "User does not exist."},
		{"wrong pool", "us-east-1_other", "alice", "ResourceNotFoundException", "us-east-1_other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(time.Minute)
			tok := p.SignIn("alice")
			_, err := c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{
				UserPoolId: aws.String(tt.pool),
				Username:   aws.String(tt.username),
			})
			if tt.wantCode != "" {
				wantAPIError(t, err, tt.wantCode, tt.wantMsg)
				if at, _ := p.SignedOutAt(alice.Sub); at.Equal(clock.Now()) {
					t.Error("a failed call signed alice out")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if at, ok := p.SignedOutAt(alice.Sub); !ok || !at.Equal(clock.Now()) {
				t.Errorf("SignedOutAt = %v, %v; want %v", at, ok, clock.Now())
			}
			_, err = refreshSDK(t.Context(), c, p, tok.RefreshToken)
			wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
		})
	}
	var unf *types.UserNotFoundException
	_, err := c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{
		UserPoolId: aws.String(p.PoolID()), Username: aws.String("nobody"),
	})
	if !errors.As(err, &unf) {
		t.Errorf("errors.As(*types.UserNotFoundException) failed for %v", err)
	}
}

func TestSDKGetUsers(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{AliasAttributes: []string{"email"}})
	alice := p.AddUser(cognitotest.User{
		Username:   "alice",
		Email:      "alice@example.com",
		Attributes: map[string]string{"custom:tenant": "acme", "email_verified": "true"},
	})
	c := sdkClient(p)
	want := map[string]string{
		"sub":            alice.Sub,
		"email":          "alice@example.com",
		"email_verified": "true",
		"custom:tenant":  "acme",
	}
	attrs := func(in []types.AttributeType) map[string]string {
		m := make(map[string]string)
		for _, a := range in {
			m[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
		return m
	}
	check := func(t *testing.T, username string, got map[string]string) {
		t.Helper()
		if username != "alice" || len(got) != len(want) {
			t.Errorf("user %q attributes %v, want alice %v", username, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, got[k], v)
			}
		}
	}

	t.Run("AdminGetUser", func(t *testing.T) {
		for _, name := range []string{"alice", alice.Sub, "alice@example.com"} {
			out, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{
				UserPoolId: aws.String(p.PoolID()), Username: aws.String(name),
			})
			if err != nil {
				t.Fatal(err)
			}
			check(t, aws.ToString(out.Username), attrs(out.UserAttributes))
			if !out.Enabled || out.UserStatus != types.UserStatusTypeConfirmed || !aws.ToTime(out.UserCreateDate).Equal(t0) {
				t.Errorf("enabled %v, status %q, created %v", out.Enabled, out.UserStatus, out.UserCreateDate)
			}
		}
	})
	t.Run("AdminGetUser unknown", func(t *testing.T) {
		_, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{
			UserPoolId: aws.String(p.PoolID()), Username: aws.String("nobody"),
		})
		var unf *types.UserNotFoundException
		if !errors.As(err, &unf) {
			t.Errorf("error = %v, want *types.UserNotFoundException", err)
		}
	})
	t.Run("GetUser", func(t *testing.T) {
		out, err := getUser(t, c, p.AccessToken("alice"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, aws.ToString(out.Username), attrs(out.UserAttributes))
	})
}

func TestSDKRevokeToken(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{ClientIDs: []string{"web", "other"}})
	alice := p.AddUser(cognitotest.User{Username: "alice"})
	c := sdkClient(p)
	revoke := func(token, client string) error {
		_, err := c.RevokeToken(t.Context(), &cip.RevokeTokenInput{Token: aws.String(token), ClientId: aws.String(client)})
		return err
	}
	s1, s2 := p.SignIn("alice"), p.SignIn("alice")

	t.Run("other client refused", func(t *testing.T) {
		err := revoke(s1.RefreshToken, "other")
		var ue *types.UnauthorizedException
		if !errors.As(err, &ue) {
			t.Fatalf("error = %v, want *types.UnauthorizedException", err)
		}
	})
	t.Run("unknown client refused", func(t *testing.T) {
		wantAPIError(t, revoke(s1.RefreshToken, "nope"), "UnauthorizedException", "")
	})
	t.Run("access token refused", func(t *testing.T) {
		err := revoke(s1.AccessToken, "web")
		var ue *types.UnsupportedTokenTypeException
		if !errors.As(err, &ue) {
			t.Fatalf("error = %v, want *types.UnsupportedTokenTypeException", err)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		if err := revoke(s1.RefreshToken, "web"); err != nil {
			t.Fatal(err)
		}
		if !p.OriginRevoked(claims(t, s1.AccessToken)["origin_jti"].(string)) {
			t.Error("origin_jti not revoked")
		}
		if _, ok := p.SignedOutAt(alice.Sub); ok {
			t.Error("RevokeToken counted as a global sign-out")
		}
		_, err := refreshSDK(t.Context(), c, p, s1.RefreshToken)
		wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
		_, err = getUser(t, c, s1.AccessToken)
		wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	})
	t.Run("other session unaffected", func(t *testing.T) {
		if _, err := refreshSDK(t.Context(), c, p, s2.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if _, err := getUser(t, c, s2.AccessToken); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("revoked or unknown token is not an error", func(t *testing.T) {
		for _, tok := range []string{s1.RefreshToken, "eyJ.unknown.x.y.z"} {
			if err := revoke(tok, "web"); err != nil {
				t.Errorf("RevokeToken(%.10s…) = %v", tok, err)
			}
		}
	})
}

func TestSDKFailNext(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	c := sdkClient(p)
	signOut := func() error {
		_, err := c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{
			UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice"),
		})
		return err
	}
	p.AddUser(cognitotest.User{Username: "alice"})

	tests := []struct {
		errType string
		status  int
		as      func(error) bool
	}{
		{"TooManyRequestsException", 400, func(err error) bool { var e *types.TooManyRequestsException; return errors.As(err, &e) }},
		{"InternalErrorException", 500, func(err error) bool { var e *types.InternalErrorException; return errors.As(err, &e) }},
		{"NotAuthorizedException", 400, func(err error) bool { var e *types.NotAuthorizedException; return errors.As(err, &e) }},
		{"InvalidParameterException", 0, func(err error) bool { var e *types.InvalidParameterException; return errors.As(err, &e) }},
		{"ResourceNotFoundException", 400, func(err error) bool { var e *types.ResourceNotFoundException; return errors.As(err, &e) }},
		{"UserNotFoundException", 400, func(err error) bool { var e *types.UserNotFoundException; return errors.As(err, &e) }},
	}
	for _, tt := range tests {
		t.Run(tt.errType, func(t *testing.T) {
			before := p.Calls("AdminUserGlobalSignOut")
			p.FailNext("AdminUserGlobalSignOut", tt.errType, tt.status, 2)
			for i := range 2 {
				err := signOut()
				if !tt.as(err) {
					t.Fatalf("call %d: error = %v, want %s", i, err, tt.errType)
				}
				var re interface{ HTTPStatusCode() int }
				want := tt.status
				if want == 0 {
					want = 400
				}
				if errors.As(err, &re) && re.HTTPStatusCode() != want {
					t.Errorf("HTTP status %d, want %d", re.HTTPStatusCode(), want)
				}
			}
			if err := signOut(); err != nil {
				t.Errorf("third call: %v, want success", err)
			}
			if got := p.Calls("AdminUserGlobalSignOut") - before; got != 3 {
				t.Errorf("Calls = +%d, want +3", got)
			}
		})
	}

	t.Run("queue and cancel", func(t *testing.T) {
		p.FailNext("AdminGetUser", "TooManyRequestsException", 400, 1)
		p.FailNext("AdminGetUser", "InternalErrorException", 500, 1)
		get := func() error {
			_, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice")})
			return err
		}
		wantAPIError(t, get(), "TooManyRequestsException", "")
		wantAPIError(t, get(), "InternalErrorException", "")
		p.FailNext("AdminGetUser", "InternalErrorException", 500, 5)
		p.FailNext("AdminGetUser", "", 0, 0)
		if err := get(); err != nil {
			t.Errorf("after cancel: %v", err)
		}
	})
}

func TestSDKAPIDelay(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	p.AddUser(cognitotest.User{Username: "alice"})
	c := sdkClient(p)
	p.SetAPIDelay(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if p.Calls("AdminGetUser") != 1 {
		t.Errorf("Calls = %d, want 1", p.Calls("AdminGetUser"))
	}
	p.SetAPIDelay(0)
	if _, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
}

func TestCloseCutsDelay(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	p.SetAPIDelay(time.Hour)
	errc := make(chan error, 1)
	go func() {
		_, err := sdkClient(p).GetUser(context.Background(), &cip.GetUserInput{AccessToken: aws.String("x")})
		errc <- err
	}()
	for p.Calls("GetUser") == 0 {
		time.Sleep(time.Millisecond) // wait for the request to arrive
	}
	p.Close() // must not wait an hour
	if err := <-errc; err == nil {
		t.Error("delayed call succeeded after Close")
	}
}

func TestAPIProtocol(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	post := func(t *testing.T, target string, body []byte) (*http.Response, map[string]string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.URL()+"/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		_ = json.Unmarshal(b, &m)
		return resp, m
	}

	tests := []struct {
		name       string
		target     string
		body       []byte
		wantStatus int
		wantType   string
	}{
		{"no target", "", []byte(`{}`), 400, "UnknownOperationException"},
		{"other service", "DynamoDB_20120810.GetItem", []byte(`{}`), 400, "UnknownOperationException"},
		{"unknown operation", "AWSCognitoIdentityProviderService.CreateUserPool", []byte(`{}`), 400, "UnknownOperationException"},
		{"malformed body", "AWSCognitoIdentityProviderService.AdminGetUser", []byte(`{`), 400, "SerializationException"},
		{"body too large", "AWSCognitoIdentityProviderService.AdminGetUser", bytes.Repeat([]byte(" "), 1<<20+1), 413, "SerializationException"},
		{"not authorized", "AWSCognitoIdentityProviderService.GlobalSignOut", []byte(`{"AccessToken":"x.y.z"}`), 400, "NotAuthorizedException"},
		{"success", "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut", []byte(`{"UserPoolId":"` + p.PoolID() + `","Username":"` + p.AddUser(cognitotest.User{Username: "u"}).Sub + `"}`), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, m := post(t, tt.target, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.wantType == "" {
				if resp.Header.Get("X-Amzn-ErrorType") != "" || len(m) != 0 {
					t.Errorf("success carries an error: %v %v", resp.Header, m)
				}
				return
			}
			if got := resp.Header.Get("X-Amzn-ErrorType"); got != tt.wantType+":" {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, tt.wantType+":")
			}
			if m["__type"] != tt.wantType {
				t.Errorf("body __type = %q, want %q", m["__type"], tt.wantType)
			}
		})
	}
	t.Run("GET / refused", func(t *testing.T) {
		resp, err := http.Get(p.URL() + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status %d, want 405", resp.StatusCode)
		}
	})
	t.Run("SDK sees an unknown operation as a generic API error", func(t *testing.T) {
		_, err := sdkClient(p).ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(p.PoolID())})
		wantAPIError(t, err, "UnknownOperationException", "")
		if p.Calls("ListUsers") != 1 {
			t.Errorf("Calls(ListUsers) = %d", p.Calls("ListUsers"))
		}
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

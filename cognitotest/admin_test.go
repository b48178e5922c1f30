package cognitotest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

func getUser(t *testing.T, c *cip.Client, accessToken string) (*cip.GetUserOutput, error) {
	return c.GetUser(t.Context(), &cip.GetUserInput{AccessToken: aws.String(accessToken)})
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
		{"other pool's key", p.AccessToken("alice", cognitotest.WithSigningKey(other.AccessSigningKey())), "Invalid Access Token"},
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

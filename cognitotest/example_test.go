package cognitotest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// part decodes part i of a compact JWS (0 header, 1 payload).
func part(tok string, i int) string {
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		panic(err)
	}
	return string(b)
}

func ExampleNewPool() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()

	fmt.Println(strings.TrimPrefix(pool.Issuer(), pool.URL()))
	fmt.Println(strings.TrimPrefix(pool.JWKSURL(), pool.URL()))
	fmt.Println(pool.ClientID())

	resp, err := http.Get(pool.JWKSURL())
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, Kty, Alg, Use string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		panic(err)
	}
	for _, k := range set.Keys {
		fmt.Println(k.Kty, k.Alg, k.Use, k.Kid == pool.AccessKeyID(), k.Kid == pool.IDKeyID())
	}
	// Output:
	// /us-east-1_cognitotest
	// /us-east-1_cognitotest/.well-known/jwks.json
	// cognitotest-client
	// RSA RS256 sig true false
	// RSA RS256 sig false true
}

func ExamplePool_AccessToken() {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	pool := cognitotest.NewPool(cognitotest.Config{
		Now: func() time.Time { return now },
	})
	defer pool.Close()
	pool.AddUser(cognitotest.User{
		Username: "alice",
		Sub:      "0f5b7c52-6a11-4c7b-9a43-3d2f1e2c9b10",
		Groups:   []string{"admin"},
	})

	tok := pool.AccessToken("alice", cognitotest.WithScopes("openid", "orders/read"))
	var claims map[string]any
	d := json.NewDecoder(strings.NewReader(part(tok, 1)))
	d.UseNumber() // integer seconds stay integers
	if err := d.Decode(&claims); err != nil {
		panic(err)
	}
	for _, k := range []string{"sub", "username", "token_use", "client_id", "scope", "cognito:groups", "auth_time", "iat", "exp"} {
		fmt.Printf("%s: %v\n", k, claims[k])
	}
	fmt.Println("iss is the pool:", claims["iss"] == pool.Issuer())
	// Output:
	// sub: 0f5b7c52-6a11-4c7b-9a43-3d2f1e2c9b10
	// username: alice
	// token_use: access
	// client_id: cognitotest-client
	// scope: openid orders/read
	// cognito:groups: [admin]
	// auth_time: 1735787045
	// iat: 1735787045
	// exp: 1735790645
	// iss is the pool: true
}

// A hostile token for negative tests: the header claims "none" and the
// expiry is gone, yet the token carries a valid RS256 signature by the
// pool's key.
func ExampleWithHeader() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})

	tok := pool.AccessToken("alice",
		cognitotest.WithHeader(map[string]any{"alg": "none", "kid": "test-kid"}),
		cognitotest.WithClaims(map[string]any{"exp": nil, "custom:role": "root"}),
	)
	fmt.Println(part(tok, 0))
	fmt.Println(strings.Contains(part(tok, 1), `"exp"`), strings.HasSuffix(part(tok, 1), `"custom:role":"root"}`))
	// Output:
	// {"kid":"test-kid","alg":"none"}
	// false true
}

// Signing in, refreshing and signing out with the real AWS SDK.
func Example_sdkSignIn() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Password: "correct horse"})

	ctx := context.Background()
	client := pool.Client()
	out, err := client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(pool.ClientID()),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "correct horse"},
	})
	if err != nil {
		panic(err)
	}
	res := out.AuthenticationResult
	fmt.Println(aws.ToString(res.TokenType), res.ExpiresIn)

	if _, err := client.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: res.AccessToken}); err != nil {
		panic(err)
	}
	u, _ := pool.User("alice")
	_, signedOut := pool.SignedOutAt(u.Sub)
	fmt.Println("signed out:", signedOut)

	_, err = client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(pool.ClientID()),
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(res.RefreshToken)},
	})
	var nae *types.NotAuthorizedException
	if errors.As(err, &nae) {
		fmt.Println(nae.ErrorCode()+":", nae.ErrorMessage())
	}
	// Output:
	// Bearer 3600
	// signed out: true
	// NotAuthorizedException: Refresh Token has been revoked
}

// Injecting a throttling error into the next call of an operation.
func ExamplePool_FailNext() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	client := pool.Client()

	pool.FailNext("AdminUserGlobalSignOut", "TooManyRequestsException", http.StatusBadRequest, 1)
	in := &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(pool.PoolID()), Username: aws.String("alice")}
	_, err := client.AdminUserGlobalSignOut(context.Background(), in)
	var tmr *types.TooManyRequestsException
	fmt.Println("throttled:", errors.As(err, &tmr))
	_, err = client.AdminUserGlobalSignOut(context.Background(), in)
	fmt.Println("then:", err)
	fmt.Println("calls:", pool.Calls("AdminUserGlobalSignOut"))
	// Output:
	// throttled: true
	// then: <nil>
	// calls: 2
}

// Making the JWKS endpoint fail, then serve garbage, then recover.
func ExamplePool_SetJWKSHandler() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	get := func() {
		resp, err := http.Get(pool.JWKSURL())
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.HasPrefix(string(b), `{"keys":[`))
	}

	pool.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	get()
	pool.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>")
	}))
	get()
	pool.SetJWKSHandler(nil)
	get()
	fmt.Println("hits:", pool.JWKSHits())
	// Output:
	// 503 false
	// 200 false
	// 200 true
	// hits: 3
}

func ExamplePool_Client() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Password: "correct horse"})

	// The real AWS SDK client, pointed at the fake pool.
	out, err := pool.Client().InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(pool.ClientID()),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "correct horse"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(aws.ToString(out.AuthenticationResult.TokenType), out.AuthenticationResult.RefreshToken != nil)
	// Output: Bearer true
}

func ExamplePool_SignIn() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})

	// A new session: access, ID and refresh token sharing one origin_jti.
	s := pool.SignIn("alice")
	fmt.Println(s.AccessToken != "", s.IDToken != "", s.RefreshToken != "")
	// Output: true true true
}

// A pool whose app client has a secret, as confidential (server-side)
// clients do: sign-ins must carry SECRET_HASH, RevokeToken the secret.
func ExampleSecretHash() {
	const secret = "0123456789abcdefghijklmnopqrstuv"
	pool := cognitotest.NewPool(cognitotest.Config{
		ClientSecrets: map[string]string{cognitotest.DefaultClientID: secret},
	})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Password: "Alice-pw-1"})

	ctx := context.Background()
	client := pool.Client()
	out, err := client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		ClientId: aws.String(pool.ClientID()),
		AuthParameters: map[string]string{
			"USERNAME":    "alice",
			"PASSWORD":    "Alice-pw-1",
			"SECRET_HASH": cognitotest.SecretHash(secret, "alice", pool.ClientID()),
		},
	})
	if err != nil {
		panic(err)
	}
	_, err = client.RevokeToken(ctx, &cip.RevokeTokenInput{
		Token:        out.AuthenticationResult.RefreshToken,
		ClientId:     aws.String(pool.ClientID()),
		ClientSecret: aws.String(secret),
	})
	fmt.Println("revoked:", err == nil)
	// Output: revoked: true
}

// A machine-to-machine client gets an access token at the pool's
// /oauth2/token with the client-credentials grant: its sub is the client
// ID, and it carries the client's custom scopes.
func Example_clientCredentials() {
	pool := cognitotest.NewPool(cognitotest.Config{Clients: []cognitotest.AppClient{{
		ID:          "billing-job",
		Secret:      "billing-secret",
		OAuthFlows:  []string{cognitotest.OAuthFlowClientCredentials},
		OAuthScopes: []string{"orders/read"},
	}}})
	defer pool.Close()

	req, _ := http.NewRequest("POST", pool.URL()+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("billing-job", "billing-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(body.AccessToken, ".")[1])
	var claims struct {
		Sub, Scope, Username string
		Version              int
	}
	_ = json.Unmarshal(payload, &claims)
	fmt.Printf("%s sub=%s scope=%s username=%q version=%d\n", res.Status, claims.Sub, claims.Scope, claims.Username, claims.Version)
	// Output:
	// 200 OK sub=billing-job scope=orders/read username="" version=2
}

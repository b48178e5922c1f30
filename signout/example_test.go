package signout_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// A user signs out: the store rejects the user's unexpired tokens at once,
// and Cognito revokes the refresh tokens. Against a real pool, build the
// client with config.LoadDefaultConfig and cognitoidentityprovider.NewFromConfig.
func ExampleHelper_GlobalSignOut() {
	ctx := context.Background()
	pool := cognitotest.NewPool(cognitotest.Config{}) // a fake user pool, offline
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	tokens := pool.SignIn("alice")

	client := pool.Client()
	store := revocation.NewMemory(revocation.MemoryConfig{})
	verifier, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}}, cognitoguard.Config{
		Revocation: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer verifier.Close()
	signOut, err := signout.New(client, verifier, store, signout.Config{})
	if err != nil {
		log.Fatal(err)
	}

	err = signOut.GlobalSignOut(ctx, tokens.AccessToken)
	switch {
	case errors.Is(err, cognitoguard.ErrInvalidToken):
		fmt.Println("not a valid token of this pool: 401")
	case errors.Is(err, signout.ErrStore):
		fmt.Println("store unavailable: 503, retry")
	case errors.Is(err, signout.ErrCognito):
		fmt.Println("Cognito failed: 502, retry")
	case err != nil:
		fmt.Println("error:", err)
	default:
		fmt.Println("signed out")
	}

	_, err = verifier.Verify(ctx, tokens.AccessToken)
	fmt.Println("access token revoked:", errors.Is(err, cognitoguard.ErrRevoked))
	// Output:
	// signed out
	// access token revoked: true
}

// An administrator signs a user out by username, email or sub.
func ExampleHelper_AdminSignOut() {
	ctx := context.Background()
	pool := cognitotest.NewPool(cognitotest.Config{AliasAttributes: []string{"email"}})
	defer pool.Close()
	u := pool.AddUser(cognitotest.User{Username: "bob", Email: "bob@example.com",
		Attributes: map[string]string{"email_verified": "true"}})

	client := pool.Client()
	store := revocation.NewMemory(revocation.MemoryConfig{})
	signOut, err := signout.New(client, nil, store, signout.Config{
		UserPoolID: pool.PoolID(), // the pool the Verifiers are configured with
	})
	if err != nil {
		log.Fatal(err)
	}
	sub, err := signOut.AdminSignOut(ctx, "bob@example.com")
	if err != nil {
		log.Fatal(err)
	}
	_, recorded, _ := store.SignedOutAt(ctx, pool.PoolID(), sub)
	fmt.Println(sub == u.Sub, recorded)

	_, err = signOut.AdminSignOut(ctx, "nobody")
	fmt.Println(errors.Is(err, signout.ErrUserNotFound))
	// Output:
	// true true
	// true
}

// Deleting a user is a sign-out too: the helper records it first, so that
// every service rejects the user's unexpired tokens, then deletes the user
// in Cognito (which only refuses those tokens on its own API).
func ExampleHelper_AdminDeleteUser() {
	ctx := context.Background()
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "carol"})

	store := revocation.NewMemory(revocation.MemoryConfig{})
	signOut, err := signout.New(pool.Client(), nil, store, signout.Config{UserPoolID: pool.PoolID()})
	if err != nil {
		log.Fatal(err)
	}
	sub, err := signOut.AdminDeleteUser(ctx, "carol")
	if err != nil {
		log.Fatal(err) // errors.Is(err, signout.ErrStore): not deleted; retry
	}
	_, recorded, _ := store.SignedOutAt(ctx, pool.PoolID(), sub)
	_, exists := pool.User("carol")
	fmt.Println(recorded, exists)
	// Output:
	// true false
}

// After signing the user out, send the browser to the hosted UI's logout
// endpoint to end its Cognito session cookie too.
func ExampleLogoutURL() {
	u, err := signout.LogoutURL("myapp.auth.eu-west-1.amazoncognito.com", "1example23456789", "https://app.example.com/signed-out")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	// Output:
	// https://myapp.auth.eu-west-1.amazoncognito.com/logout?client_id=1example23456789&logout_uri=https%3A%2F%2Fapp.example.com%2Fsigned-out
}

// Signing out one session (this browser) rather than the user everywhere:
// RevokeToken in Cognito, and a record of the session's origin_jti, so that
// the user's other sessions keep working.
func ExampleHelper_RevokeSession() {
	ctx := context.Background()
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	laptop := pool.SignIn("alice")
	phone := pool.SignIn("alice")

	store := revocation.NewMemory(revocation.MemoryConfig{})
	verifier, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}}, cognitoguard.Config{
		Revocation: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer verifier.Close()
	signOut, err := signout.New(pool.Client(), verifier, store, signout.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := signOut.RevokeSession(ctx, laptop.AccessToken, laptop.RefreshToken); err != nil {
		log.Fatal(err)
	}
	_, err = verifier.Verify(ctx, laptop.AccessToken)
	fmt.Println("laptop revoked:", errors.Is(err, cognitoguard.ErrRevoked))
	_, err = verifier.Verify(ctx, phone.AccessToken)
	fmt.Println("phone still valid:", err == nil)
	// Output:
	// laptop revoked: true
	// phone still valid: true
}

// MapCognitoError classifies the SDK's errors into this package's
// sentinels, keeping the SDK error inside.
func ExampleMapCognitoError() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.FailNext("AdminUserGlobalSignOut", "TooManyRequestsException", 400, 1)
	_, err := pool.Client().AdminUserGlobalSignOut(context.Background(), &cognitoidentityprovider.AdminUserGlobalSignOutInput{
		UserPoolId: aws.String(pool.PoolID()),
		Username:   aws.String("alice"),
	})
	err = signout.MapCognitoError(err)
	fmt.Println(errors.Is(err, signout.ErrCognito), errors.Is(err, signout.ErrTooManyRequests))
	// Output: true true
}

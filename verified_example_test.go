package cognitoguard_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// A service that verifies tokens with golang-jwt or go-oidc keeps doing
// so, and asks cognitoguard only whether the token is for it and whether
// its user signed out. examples/existingstack runs both stacks.
func ExampleVerifier_CheckClaims() {
	store := revocation.NewMemory(revocation.MemoryConfig{}) // in production: the shared Redis store
	guard, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{"1example23456789"},
		cognitoguard.Config{Revocation: store})
	if err != nil {
		panic(err)
	}
	defer guard.Close()

	// The claims golang-jwt (jwt.MapClaims) or go-oidc (IDToken.Claims)
	// return once they verified the signature, issuer and expiry.
	now := time.Now()
	claims := map[string]any{
		"iss":       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
		"sub":       "6f0d9c1e-1b7a-4c1e-9a55-3b0e2b1c7d11",
		"token_use": "access",
		"client_id": "1example23456789",
		"username":  "alice",
		"auth_time": float64(now.Add(-time.Minute).Unix()),
		"iat":       float64(now.Add(-time.Minute).Unix()),
		"exp":       float64(now.Add(time.Hour).Unix()),
	}
	c, err := guard.CheckClaims(context.Background(), claims)
	fmt.Println(c.Username, err)

	// alice signs out (the sign-out helper or the ops command records it).
	store.RevokeUser(context.Background(), "eu-west-1_AbCdEf123", c.Subject, now)
	_, err = guard.CheckClaims(context.Background(), claims)
	fmt.Println(errors.Is(err, cognitoguard.ErrRevoked))

	// Another app client of the same pool: access tokens have no aud, so
	// only client_id tells.
	claims["client_id"] = "another-app"
	_, err = guard.CheckClaims(context.Background(), claims)
	fmt.Println(errors.Is(err, cognitoguard.ErrClient))
	// Output:
	// alice <nil>
	// true
	// true
}

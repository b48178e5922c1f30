package cognitoguard_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

func ExampleNewVerifier() {
	// A fake user pool stands in for Cognito; in production pass your pool
	// id and app client ids, and leave Issuer empty.
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin"}})

	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{})
	if err != nil {
		panic(err)
	}
	defer v.Close()

	claims, err := v.Verify(context.Background(), pool.AccessToken("alice"))
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Username, claims.TokenUse, claims.Groups)
	// Output: alice access [admin]
}

func ExampleVerifier_Verify_errors() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{})
	if err != nil {
		panic(err)
	}
	defer v.Close()

	expired := pool.AccessToken("alice", cognitotest.WithExpiry(time.Now().Add(-time.Minute)))
	_, err = v.Verify(context.Background(), expired)
	fmt.Println(errors.Is(err, cognitoguard.ErrExpired), errors.Is(err, cognitoguard.ErrInvalidToken))

	_, err = v.Verify(context.Background(), pool.IDToken("alice"))
	fmt.Println(errors.Is(err, cognitoguard.ErrTokenUse))

	_, err = v.Verify(context.Background(), "")
	fmt.Println(cognitoguard.Class(err) == cognitoguard.ErrNoToken)
	// Output:
	// true true
	// true
	// true
}

func ExampleFromContext() {
	// The middleware stores verified claims with NewContext; handlers read
	// them back with FromContext.
	ctx := cognitoguard.NewContext(context.Background(), &cognitoguard.Claims{Subject: "sub-1", Username: "alice"})
	if c, ok := cognitoguard.FromContext(ctx); ok {
		fmt.Println(c.Username)
	}
	_, ok := cognitoguard.FromContext(context.Background())
	fmt.Println(ok)
	// Output:
	// alice
	// false
}

func ExampleNew() {
	eu := cognitotest.NewPool(cognitotest.Config{PoolID: "eu-west-1_europe"})
	defer eu.Close()
	us := cognitotest.NewPool(cognitotest.Config{PoolID: "us-east-1_america"})
	defer us.Close()
	eu.AddUser(cognitotest.User{Username: "anna"})
	us.AddUser(cognitotest.User{Username: "bill"})

	v, err := cognitoguard.New([]cognitoguard.Pool{
		{UserPoolID: eu.PoolID(), Issuers: []string{eu.Issuer()}, ClientIDs: []string{eu.ClientID()}},
		{UserPoolID: us.PoolID(), Issuers: []string{us.Issuer()}, ClientIDs: []string{us.ClientID()}},
	}, cognitoguard.Config{})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	for _, tok := range []string{eu.AccessToken("anna"), us.AccessToken("bill")} {
		c, err := v.Verify(context.Background(), tok)
		fmt.Println(c.Username, err)
	}
	// Output:
	// anna <nil>
	// bill <nil>
}

func ExampleVerifier_Authenticate() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{RequiredGroups: []string{"admin"}})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	tok := pool.AccessToken("alice")

	// Verify applies the authorization rules: alice is not an admin.
	_, err = v.Verify(context.Background(), tok)
	fmt.Println(errors.Is(err, cognitoguard.ErrInsufficientScope))

	// Authenticate only proves whose token it is (for sign-out flows).
	c, err := v.Authenticate(context.Background(), tok)
	fmt.Println(c.Username, err)
	// Output:
	// true
	// alice <nil>
}

func ExampleClass() {
	for _, err := range []error{
		cognitoguard.ErrExpired,
		fmt.Errorf("wrapped: %w", cognitoguard.ErrRevoked),
		cognitoguard.ErrInsufficientScope,
		errors.New("redis: i/o timeout"),
	} {
		fmt.Println(cognitoguard.Class(err))
	}
	// Output:
	// cognitoguard: invalid token
	// cognitoguard: invalid token
	// cognitoguard: insufficient scope
	// cognitoguard: verification unavailable
}

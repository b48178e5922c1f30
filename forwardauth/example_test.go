package forwardauth_test

import (
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/forwardauth"
)

// A proxy's sub-request for a valid token gets 200 and the identity
// headers; one without a token gets 401 and the challenge.
func ExampleNew() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Sub: "0f3c1d2e-aaaa-4bbb-8ccc-123456789abc", Groups: []string{"admin"}})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	check, err := forwardauth.New(v, forwardauth.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// nginx's auth_request sends the client's headers to the check location.
	req := httptest.NewRequest("GET", "/check", nil)
	req.Header.Set("Authorization", "Bearer "+pool.AccessToken("alice", cognitotest.WithScopes("orders/read")))
	rec := httptest.NewRecorder()
	check.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	for _, h := range []string{"X-Auth-Sub", "X-Auth-Username", "X-Auth-Groups", "X-Auth-Scope", "X-Auth-Token-Use"} {
		fmt.Printf("%s: %s\n", h, rec.Header().Get(h))
	}

	rec = httptest.NewRecorder()
	check.ServeHTTP(rec, httptest.NewRequest("GET", "/check", nil))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output:
	// 200
	// X-Auth-Sub: 0f3c1d2e-aaaa-4bbb-8ccc-123456789abc
	// X-Auth-Username: alice
	// X-Auth-Groups: admin
	// X-Auth-Scope: orders/read
	// X-Auth-Token-Use: access
	// 401 Bearer realm="api"
}

package signout_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// An administrator signs a user out over HTTP: the middleware verifies the
// caller, the handler checks the caller's group and signs the user of the
// path out in the store and in Cognito.
func ExampleNewAdminHandler() {
	pool := cognitotest.NewPool(cognitotest.Config{}) // a fake user pool, offline
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "root", Groups: []string{"admin"}})
	pool.AddUser(cognitotest.User{Username: "bob"})
	bob := pool.SignIn("bob").AccessToken

	store := revocation.NewMemory(revocation.MemoryConfig{})
	verifier, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{Revocation: store})
	if err != nil {
		log.Fatal(err)
	}
	defer verifier.Close()
	signOut, err := signout.New(pool.Client(), verifier, store, signout.Config{})
	if err != nil {
		log.Fatal(err)
	}

	auth := middleware.New(verifier, middleware.Config{})
	mux := http.NewServeMux()
	mux.Handle("POST /admin/users/{username}/signout", auth(signout.NewAdminHandler(signOut, signout.AdminConfig{})))

	for _, caller := range []string{"bob", "root"} {
		req := httptest.NewRequest(http.MethodPost, "/admin/users/bob/signout", nil)
		req.Header.Set("Authorization", "Bearer "+pool.AccessToken(caller))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(caller, rec.Code)
	}
	_, err = verifier.Verify(context.Background(), bob)
	fmt.Println(err)
	// Output:
	// bob 403
	// root 204
	// cognitoguard: token revoked: user signed out, or session or app client revoked
}

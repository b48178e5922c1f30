package signout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// A machine client's secret leaked: revoke every token issued to it so far.
// Cognito has no such call; the record in the store is the revocation.
// Rotate the secret in Cognito as well.
func ExampleHelper_RevokeClient() {
	ctx := context.Background()
	pool := cognitotest.NewPool(cognitotest.Config{Clients: []cognitotest.AppClient{{ID: "orders-worker", Secret: "s3cret",
		OAuthFlows: []string{cognitotest.OAuthFlowClientCredentials}, OAuthScopes: []string{"orders/read"}}}})
	defer pool.Close()
	// The worker's access token, from the client-credentials flow.
	res, err := http.PostForm(pool.URL()+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"orders-worker"}, "client_secret": {"s3cret"}})
	if err != nil {
		log.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil {
		log.Fatal(err)
	}

	store := revocation.NewMemory(revocation.MemoryConfig{})
	verifier, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()},
		ClientIDs: []string{"orders-worker"}}}, cognitoguard.Config{Revocation: store})
	if err != nil {
		log.Fatal(err)
	}
	defer verifier.Close()
	signOut, err := signout.New(pool.Client(), verifier, store, signout.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// A token of a machine cannot sign out: it would revoke its whole client.
	err = signOut.GlobalSignOut(ctx, tok.AccessToken)
	fmt.Println("M2M GlobalSignOut refused:", errors.Is(err, signout.ErrNotUserToken))

	if err := signOut.RevokeClient(ctx, "orders-worker"); err != nil {
		log.Fatal(err) // signout.ErrStore: not recorded, retry
	}
	_, err = verifier.Verify(ctx, tok.AccessToken)
	fmt.Println("worker token revoked:", errors.Is(err, cognitoguard.ErrRevoked))
	// Output:
	// M2M GlobalSignOut refused: true
	// worker token revoked: true
}

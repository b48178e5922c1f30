package alb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/alb"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// Example protects an app behind a load balancer: the access token the
// load balancer forwards is verified, revocation included, then its data
// token. A user who signed out is refused although the load balancer still
// vouches for her.
func Example() {
	pool := cognitotest.NewPool(cognitotest.Config{}) // a fake user pool
	defer pool.Close()
	lb := cognitotest.NewALB(cognitotest.ALBConfig{}) // a fake load balancer
	defer lb.Close()
	alice := pool.AddUser(cognitotest.User{Username: "alice"})

	store := revocation.NewMemory(revocation.MemoryConfig{})
	cv, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: pool.ClientIDs()}},
		cognitoguard.Config{Revocation: store})
	if err != nil {
		panic(err)
	}
	defer cv.Close()
	av, err := alb.NewVerifier([]string{lb.ARN()}, alb.Config{KeyURL: lb.KeyURL(), ClientIDs: pool.ClientIDs()})
	if err != nil {
		panic(err)
	}
	defer av.Close()
	access := middleware.New(cv, middleware.Config{Extractor: alb.AccessTokenExtractor})
	data := alb.NewMiddleware(av, alb.MiddlewareConfig{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := alb.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", c.Username)
	})
	handler := access(data(app))

	serve := func() {
		r := httptest.NewRequest("GET", "/", nil)
		lb.SetHeaders(r.Header, pool, "alice") // as the load balancer forwards it
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	serve()
	if err := store.RevokeUser(context.Background(), pool.PoolID(), alice.Sub, time.Now()); err != nil {
		panic(err)
	}
	serve()
	// Output:
	// 200 hello alice
	// 401 {"error":"invalid_token","error_description":"Access Token has been revoked"}
}

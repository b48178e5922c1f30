package middleware_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// newVerifier returns a Verifier of the fake pool, as production code
// would build one for a real pool with only the pool id and client ids.
func newVerifier(pool *cognitotest.Pool) *cognitoguard.Verifier {
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{})
	if err != nil {
		log.Fatal(err)
	}
	return v
}

// get sends GET path with the Authorization header auth (if any) to h and
// prints the status, the challenge and the body.
func get(h http.Handler, path, auth string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", rec.Header().Get("WWW-Authenticate"))))
	fmt.Println(" ", strings.TrimSpace(rec.Body.String()))
}

func ExampleNew() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	v := newVerifier(pool)
	defer v.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		claims, _ := cognitoguard.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", claims.Username)
	})
	h := middleware.New(v, middleware.Config{})(mux)

	get(h, "/hello", "Bearer "+pool.AccessToken("alice"))
	get(h, "/hello", "")
	get(h, "/hello", "Basic YWxpY2U6c2VjcmV0")
	get(h, "/hello", "Bearer not-a-jwt")
	// Output:
	// 200
	//   hello alice
	// 401 Bearer realm="api"
	//   {"error":"unauthorized","error_description":"A bearer token is required"}
	// 401 Bearer realm="api"
	//   {"error":"unauthorized","error_description":"A bearer token is required"}
	// 401 Bearer realm="api", error="invalid_token", error_description="The access token is malformed"
	//   {"error":"invalid_token","error_description":"The access token is malformed"}
}

// A handler behind the middleware reads the verified claims from the
// request context.
func Example_fromContext() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{
		Username: "alice",
		Sub:      "8d6b5c1e-1111-4a8e-9d7e-0a1b2c3d4e5f",
		Groups:   []string{"admin"},
	})
	v := newVerifier(pool)
	defer v.Close()

	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := cognitoguard.FromContext(r.Context())
		if !ok {
			// Only without the middleware in front.
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "sub:", claims.Subject)
		fmt.Fprintln(w, "username:", claims.Username)
		fmt.Fprintln(w, "token_use:", claims.TokenUse)
		fmt.Fprintln(w, "client:", claims.ClientID)
		fmt.Fprintln(w, "scopes:", claims.Scopes)
		fmt.Fprintln(w, "admin:", claims.InGroup("admin"))
	})
	h := middleware.New(v, middleware.Config{})(me)

	req := httptest.NewRequest(http.MethodGet, "/me", nil)
	req.Header.Set("Authorization", "Bearer "+pool.AccessToken("alice"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Body.String())
	// Output:
	// sub: 8d6b5c1e-1111-4a8e-9d7e-0a1b2c3d4e5f
	// username: alice
	// token_use: access
	// client: cognitotest-client
	// scopes: [aws.cognito.signin.user.admin]
	// admin: true
}

func ExampleRequireScopes() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	v := newVerifier(pool)
	defer v.Close()

	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "orders")
	})
	mux := http.NewServeMux()
	mux.Handle("GET /orders", middleware.RequireScopes("orders/read")(orders))
	mux.Handle("POST /orders", middleware.RequireScopes("orders/read", "orders/write")(orders))
	h := middleware.New(v, middleware.Config{})(mux)

	token := pool.AccessToken("alice", cognitotest.WithScopes("orders/read"))
	get(h, "/orders", "Bearer "+token)
	req := httptest.NewRequest(http.MethodPost, "/orders", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output:
	// 200
	//   orders
	// 403 Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders/read orders/write"
}

func ExampleRequireGroups() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin"}})
	pool.AddUser(cognitotest.User{Username: "bob"})
	v := newVerifier(pool)
	defer v.Close()

	admin := middleware.RequireGroups("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "welcome, admin")
	}))
	h := middleware.New(v, middleware.Config{})(admin)

	get(h, "/admin", "Bearer "+pool.AccessToken("alice"))
	get(h, "/admin", "Bearer "+pool.AccessToken("bob"))
	// Output:
	// 200
	//   welcome, admin
	// 403 Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant access to this resource"
	//   {"error":"insufficient_scope","error_description":"The access token does not grant access to this resource"}
}

// A custom error handler can branch on the error's sentinel and fall back
// to the default response.
func ExampleWriteError() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	v := newVerifier(pool)
	defer v.Close()

	cfg := middleware.Config{
		Realm: "orders",
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, cognitoguard.ErrExpired) {
				w.Header().Set("X-Token-Expired", "true")
			}
			middleware.WriteError(w, r, err, "orders")
		},
	}
	h := middleware.New(v, cfg)(http.NotFoundHandler())

	// Issued two hours ago, so expired one hour ago.
	expired := pool.AccessToken("alice", cognitotest.WithIssuedAt(time.Now().Add(-2*time.Hour)))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+expired)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("X-Token-Expired"))
	fmt.Println(rec.Header().Get("WWW-Authenticate"))
	// Output:
	// 401 true
	// Bearer realm="orders", error="invalid_token", error_description="The access token expired"
}

func ExampleBearerToken() {
	for _, auth := range []string{"Bearer abc.def.ghi", "bearer   abc.def.ghi ", "Basic YWxpY2U6c2VjcmV0", "Bearer a b"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", auth)
		tok, err := middleware.BearerToken(req)
		fmt.Printf("%q %v %v\n", tok, errors.Is(err, cognitoguard.ErrNoToken), errors.Is(err, cognitoguard.ErrMalformed))
	}
	// Output:
	// "abc.def.ghi" false false
	// "abc.def.ghi" false false
	// "" true false
	// "" false true
}

func ExampleRequire() {
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "ann@example.com"})
	pool.AddUser(cognitotest.User{Username: "bob@elsewhere.org"})
	v := newVerifier(pool)
	defer v.Close()

	// Only example.com accounts, on top of the token checks.
	corporate := middleware.Require(func(c *cognitoguard.Claims) error {
		if !strings.HasSuffix(c.Username, "@example.com") {
			return errors.New("not a corporate account")
		}
		return nil
	})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "welcome") })
	h := middleware.New(v, middleware.Config{})(corporate(ok))

	get(h, "/", "Bearer "+pool.AccessToken("ann@example.com"))
	get(h, "/", "Bearer "+pool.AccessToken("bob@elsewhere.org"))
	// Output:
	// 200
	//   welcome
	// 403 Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant access to this resource"
	//   {"error":"insufficient_scope","error_description":"The access token does not grant access to this resource"}
}

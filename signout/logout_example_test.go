package signout_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// A web app's "sign out" route: the user's tokens are rejected at once by
// every Verifier sharing the store, Cognito revokes the refresh tokens,
// the token cookies are expired and the browser is sent to the hosted UI
// logout endpoint.
func ExampleNewLogoutHandler() {
	pool := cognitotest.NewPool(cognitotest.Config{}) // a fake user pool, offline
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	token := pool.SignIn("alice").AccessToken

	// With a real pool: cfg, _ := config.LoadDefaultConfig(ctx);
	// client := cognitoidentityprovider.NewFromConfig(cfg).
	client := pool.Client()
	store := revocation.NewMemory(revocation.MemoryConfig{}) // redisstore.New for several instances
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
	hostedUI, err := signout.LogoutURL("auth.example.com", pool.ClientID(), "https://app.example.com/")
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("POST /logout", signout.NewLogoutHandler(signOut, signout.LogoutConfig{
		Cookie:       "__Host-access",
		ClearCookies: []string{"__Host-refresh"},
		RedirectURL:  hostedUI,
	}))

	req := httptest.NewRequest(http.MethodPost, "/logout", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-access", Value: token})
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	for _, c := range rec.Header().Values("Set-Cookie") {
		fmt.Println(c)
	}

	_, err = verifier.Verify(req.Context(), token)
	fmt.Println(err)
	// Output:
	// 303 https://auth.example.com/logout?client_id=cognitotest-client&logout_uri=https%3A%2F%2Fapp.example.com%2F
	// __Host-access=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax
	// __Host-refresh=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax
	// cognitoguard: token revoked: user signed out, or session or app client revoked
}

// A web app answers a browser with pages, not the JSON of an API: the
// ErrorHandler sees each failure's class. Here the request has no token
// cookie (already signed out): the browser goes on as after a success.
func ExampleLogoutConfig_errorHandler() {
	// Any SignOuter; this one is never reached without a token.
	var signOut signout.SignOuter = signOuterFunc(func(context.Context, string) error { return nil })
	h := signout.NewLogoutHandler(signOut, signout.LogoutConfig{
		Cookie:      "__Host-access",
		RedirectURL: "/signed-out",
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			switch {
			case errors.Is(err, signout.ErrCrossOrigin):
				http.Error(w, "Sign out from this site's own page.", http.StatusForbidden)
			case errors.Is(err, signout.ErrStore):
				http.Error(w, "Your sign-out could not be recorded; try again.", http.StatusServiceUnavailable)
			case errors.Is(err, cognitoguard.ErrNoToken), errors.Is(err, cognitoguard.ErrInvalidToken),
				errors.Is(err, signout.ErrCognito): // Cognito failed, but the sign-out is recorded
				http.Redirect(w, r, "/signed-out", http.StatusSeeOther)
			default: // the token could not be checked
				http.Error(w, "Try again shortly.", http.StatusServiceUnavailable)
			}
		},
	})

	req := httptest.NewRequest(http.MethodPost, "/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	fmt.Println(rec.Header().Get("Set-Cookie"))
	// Output:
	// 303 /signed-out
	// __Host-access=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax
}

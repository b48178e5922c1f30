package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// TestExistingStack runs both stacks against a fake pool: a signed-out
// user's still-valid token is refused, other users pass, a token of
// another app client or of the wrong token_use is refused — though
// golang-jwt and go-oidc accept all of them.
func TestExistingStack(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	alice := pool.AddUser(cognitotest.User{Username: "alice"})
	bob := pool.AddUser(cognitotest.User{Username: "bob"})
	foreign := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(foreign.Close)

	newServer := func(use cognitoguard.TokenUse) (*app, string) {
		a, err := newApp(t.Context(), pool.PoolID(), pool.Issuer(), []string{pool.ClientID()}, use, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.stop)
		srv := httptest.NewServer(a.handler)
		t.Cleanup(srv.Close)
		return a, srv.URL
	}
	accessApp, accessURL := newServer(cognitoguard.TokenUseAccess)
	idApp, idURL := newServer(cognitoguard.TokenUseID)

	// bob signs in, then out: his tokens stay valid for golang-jwt and
	// go-oidc until they expire.
	bobAccess, bobID := pool.AccessToken("bob"), pool.IDToken("bob")
	for _, a := range []*app{accessApp, idApp} {
		if err := a.store.RevokeUser(t.Context(), pool.PoolID(), bob.Sub, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		url     string
		token   string
		status  int
		wantSub string
		detail  string // in WWW-Authenticate
	}{
		{"access token", accessURL, pool.AccessToken("alice"), 200, alice.Sub, ""},
		{"signed-out user's valid access token", accessURL, bobAccess, 401, "", "revoked"},
		{"another app client's access token", accessURL, pool.AccessToken("alice", cognitotest.WithClient("intruder")), 401, "", "invalid_token"},
		{"ID token where access is wanted", accessURL, pool.IDToken("alice"), 401, "", "invalid_token"},
		{"expired", accessURL, pool.AccessToken("alice", cognitotest.WithExpiry(time.Now().Add(-time.Minute))), 401, "", "invalid_token"},
		{"no token", accessURL, "", 401, "", "realm"},
		{"signed by another key", accessURL, pool.AccessToken("alice", cognitotest.WithSigningKey(foreign.AccessSigningKey())), 401, "", "invalid_token"},
		{"ID token", idURL, pool.IDToken("alice"), 200, alice.Sub, ""},
		{"signed-out user's valid ID token", idURL, bobID, 401, "", "revoked"},
		{"another app client's ID token", idURL, pool.IDToken("alice", cognitotest.WithClient("intruder")), 401, "", "invalid_token"},
		{"access token where ID is wanted", idURL, pool.AccessToken("alice"), 401, "", "invalid_token"},
	}
	for _, tc := range tests {
		for _, route := range []string{"/jwt/me", "/oidc/me"} {
			t.Run(tc.name+" "+route, func(t *testing.T) {
				req, _ := http.NewRequestWithContext(t.Context(), "GET", tc.url+route, nil)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var body map[string]string
				json.NewDecoder(res.Body).Decode(&body)
				if res.StatusCode != tc.status || body["sub"] != tc.wantSub {
					t.Fatalf("status %d, body %v; want %d, sub %q", res.StatusCode, body, tc.status, tc.wantSub)
				}
				if wa := res.Header.Get("WWW-Authenticate"); !strings.Contains(wa, tc.detail) {
					t.Errorf("WWW-Authenticate %q lacks %q", wa, tc.detail)
				}
			})
		}
	}
}

// TestRun starts the program as main does, on a free port, and stops it.
func TestRun(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	pool.AddUser(cognitotest.User{Username: "alice"})
	ctx, cancel := context.WithCancel(t.Context())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	var log strings.Builder
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-user-pool-id", pool.PoolID(), "-client-id", pool.ClientID(), "-issuer", pool.Issuer()},
			&log, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("run: %v", err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr+"/jwt/me", nil)
	req.Header.Set("Authorization", "Bearer "+pool.AccessToken("alice"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("status %d", res.StatusCode)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("run: %v", err)
	}
}

package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// The OAuth tests drive the fake pool's OAuth endpoints with
// golang.org/x/oauth2, as an application would against Cognito's managed
// login, and verify the tokens with cognitoguard.

const (
	oauthCallback = "http://localhost:8080/callback"
	userAdmin     = "aws.cognito.signin.user.admin"
)

func oauthPool(t *testing.T) *cognitotest.Pool {
	t.Helper()
	p := cognitotest.NewPool(cognitotest.Config{Clients: []cognitotest.AppClient{
		{ID: "web", CallbackURLs: []string{oauthCallback}},
		{ID: "m2m", Secret: "m2m-secret", OAuthFlows: []string{cognitotest.OAuthFlowClientCredentials}, OAuthScopes: []string{"orders/read", "orders/write"}},
	}})
	t.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Password: "Alice-pw-1"})
	return p
}

func webConfig(p *cognitotest.Pool) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    "web",
		Endpoint:    oauth2.Endpoint{AuthURL: p.URL() + "/oauth2/authorize", TokenURL: p.URL() + "/oauth2/token"},
		RedirectURL: oauthCallback,
		Scopes:      []string{"openid", userAdmin},
	}
}

func verifierFor(t *testing.T, p *cognitotest.Pool, clients ...string) *cognitoguard.Verifier {
	t.Helper()
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: clients}}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// signInBrowser plays the browser: it follows authURL to the login page,
// signs in and returns the code of the redirect to the callback.
func signInBrowser(t *testing.T, authURL, user, password string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), oauthCallback) {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	res, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("login page: %s %s", res.Status, page)
	}
	res, err = c.PostForm(res.Request.URL.String(), url.Values{"username": {user}, "password": {password}, "_csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in: %s to %q, want the callback with a code", res.Status, res.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func wantRetrieveError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Fatalf("error %v, want an oauth2.RetrieveError %s", err, code)
	}
}

// TestOAuth2PKCE: the authorization-code flow with PKCE through
// x/oauth2: a wrong verifier is refused, the right one gets tokens that
// cognitoguard verifies, with the scopes asked for; refreshing keeps them.
func TestOAuth2PKCE(t *testing.T) {
	p := oauthPool(t)
	conf := webConfig(p)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})

	wrong := signInBrowser(t, conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice", "Alice-pw-1")
	_, err := conf.Exchange(ctx, wrong, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantRetrieveError(t, err, "invalid_grant")

	verifier := oauth2.GenerateVerifier()
	code := signInBrowser(t, conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)), "alice", "Alice-pw-1")
	_, err = conf.Exchange(ctx, code)
	wantRetrieveError(t, err, "invalid_grant") // no verifier, and the code is burnt
	code = signInBrowser(t, conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier)), "alice", "Alice-pw-1")
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil || tok.Expiry.IsZero() {
		t.Fatalf("token %+v: want refresh and ID tokens and an expiry", tok)
	}
	v := verifierFor(t, p, "web")
	c, err := v.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "alice" || !slices.Equal(c.Scopes, []string{"openid", userAdmin}) {
		t.Errorf("access token: user %q scopes %q", c.Username, c.Scopes)
	}
	var raw struct {
		Version int `json:"version"`
	}
	if err := c.Decode(&raw); err != nil || raw.Version != 2 {
		t.Errorf("version %d (%v), want 2", raw.Version, err)
	}
	idv, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{"web"}}},
		cognitoguard.Config{TokenUse: cognitoguard.TokenUseID})
	if err != nil {
		t.Fatal(err)
	}
	defer idv.Close()
	if _, err := idv.Verify(ctx, tok.Extra("id_token").(string)); err != nil {
		t.Errorf("ID token: %v", err)
	}

	// Refresh: x/oauth2 refreshes an expired token by itself.
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	fc, err := v.Verify(ctx, fresh.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken ||
		fc.OriginJTI != c.OriginJTI || !fc.AuthTime.Equal(c.AuthTime) || !slices.Equal(fc.Scopes, c.Scopes) {
		t.Errorf("refreshed token: origin_jti %q auth_time %v scopes %q; want %q %v %q", fc.OriginJTI, fc.AuthTime, fc.Scopes, c.OriginJTI, c.AuthTime, c.Scopes)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: "x.y.z.a.b"}).Token()
	wantRetrieveError(t, err, "invalid_grant")
}

// TestOAuth2ClientCredentials: a machine client gets an access token
// through x/oauth2/clientcredentials whose sub is its client ID, without
// username, with the custom scopes asked for; a wrong secret is refused.
func TestOAuth2ClientCredentials(t *testing.T) {
	p := oauthPool(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: "m2m", ClientSecret: "m2m-secret", TokenURL: p.URL() + "/oauth2/token",
			Scopes: []string{"orders/read"}, AuthStyle: style}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := verifierFor(t, p, "m2m").Verify(ctx, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "m2m" || c.ClientID != "m2m" || c.Username != "" || !slices.Equal(c.Scopes, []string{"orders/read"}) {
			t.Errorf("M2M token: sub %q client %q username %q scopes %q", c.Subject, c.ClientID, c.Username, c.Scopes)
		}
		cc.ClientSecret = "wrong"
		_, err = cc.Token(ctx)
		wantRetrieveError(t, err, "invalid_client")
		cc.ClientSecret, cc.Scopes = "m2m-secret", []string{"openid"}
		_, err = cc.Token(ctx)
		wantRetrieveError(t, err, "invalid_scope")
	}
}

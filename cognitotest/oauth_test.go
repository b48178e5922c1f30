package cognitotest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

const (
	callback  = "http://localhost:8080/callback"
	signedOut = "http://localhost:8080/signed-out"
	verifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-more"
)

// oauthPool is a pool with a public web client (code flow, PKCE), a
// machine client (client credentials) and alice.
func oauthPool(t *testing.T) (*cognitotest.Pool, func(time.Duration)) {
	t.Helper()
	p, clock := newPool(t, cognitotest.Config{Clients: []cognitotest.AppClient{
		{ID: "web", CallbackURLs: []string{callback}, LogoutURLs: []string{signedOut}},
		{ID: "m2m", Secret: "m2m-secret", OAuthFlows: []string{cognitotest.OAuthFlowClientCredentials}, OAuthScopes: []string{"orders/read", "orders/write"}},
		{ID: "api-only"},
	}})
	p.AddUser(cognitotest.User{Username: "alice", Password: "Alice-pw-1", Email: "alice@example.com"})
	return p, clock.Advance
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t, &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	s, _ := io.ReadAll(res.Body)
	return res, string(s)
}

// authorizeURL is an authorization request of client web with PKCE.
func authorizeURL(p *cognitotest.Pool, extra url.Values) string {
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {callback}, "state": {"st-1"},
		"scope": {"openid email aws.cognito.signin.user.admin"}, "nonce": {"n-1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return p.URL() + "/oauth2/authorize?" + q.Encode()
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login follows an authorization request to the login page and signs in,
// returning the answer to the sign-in.
func (b *browser) login(p *cognitotest.Pool, authorize, user, password string) (*http.Response, string) {
	b.t.Helper()
	res, _ := b.do("GET", authorize, nil)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login?") {
		b.t.Fatalf("authorize without a session: %s to %q, want a redirect to /login", res.Status, loc)
	}
	res, page := b.do("GET", p.URL()+loc, nil)
	m := csrfField.FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		b.t.Fatalf("login page: %s %s", res.Status, page)
	}
	return b.do("POST", p.URL()+loc, url.Values{"username": {user}, "password": {password}, "_csrf": {m[1]}})
}

// codeFrom returns the code of a redirect to the callback, checking state.
func codeFrom(t *testing.T, res *http.Response) string {
	t.Helper()
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), callback+"?") {
		t.Fatalf("%s to %q, want a redirect to the callback", res.Status, res.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
		t.Fatalf("callback query %v, want a code and state st-1", loc.Query())
	}
	return loc.Query().Get("code")
}

// postForm posts form to the pool's endpoint path, authenticated as
// user:secret (HTTP Basic) when user is set. The caller closes the body.
func postForm(t *testing.T, p *cognitotest.Pool, path string, form url.Values, user, secret string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", p.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// token posts a token request and decodes the JSON answer.
func token(t *testing.T, p *cognitotest.Pool, form url.Values, user, secret string) (int, map[string]any) {
	t.Helper()
	res := postForm(t, p, "/oauth2/token", form, user, secret)
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatalf("token answer %s: %v", res.Status, err)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer without Cache-Control: no-store")
	}
	return res.StatusCode, m
}

func codeForm(code, v string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {"web"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {v}}
}

// TestOAuthCodeFlow: the managed login signs alice in with her password,
// a wrong PKCE verifier is refused and burns the code, the session cookie
// signs her in again without a password with her first auth_time, and
// the tokens carry the scopes asked for and version 2.
func TestOAuthCodeFlow(t *testing.T) {
	p, advance := oauthPool(t)
	b := newBrowser(t)
	signInAt := t0.Unix()
	res, page := b.login(p, authorizeURL(p, nil), "alice", "wrong")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Incorrect username or password.") {
		t.Fatalf("wrong password: %s %s", res.Status, page)
	}
	code := codeFrom(t, must(b.login(p, authorizeURL(p, nil), "alice", "Alice-pw-1")))
	if st, m := token(t, p, codeForm(code, strings.Replace(verifier, "d", "e", 1)), "", ""); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v, want 400 invalid_grant", st, m)
	}
	if st, m := token(t, p, codeForm(code, verifier), "", ""); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("a code tried once: %d %v, want 400 invalid_grant", st, m)
	}

	advance(10 * time.Minute)
	code = codeFrom(t, must(b.do("GET", authorizeURL(p, nil), nil))) // the cookie: no password
	st, m := token(t, p, codeForm(code, verifier), "", "")
	if st != 200 || m["token_type"] != "Bearer" || m["expires_in"] != 3600.0 || m["refresh_token"] == nil {
		t.Fatalf("token: %d %v", st, m)
	}
	at, id := m["access_token"].(string), m["id_token"].(string)
	keys := fetchJWKS(t, p.JWKSURL())
	for _, tok := range []string{at, id} {
		if err := verifyWithJWKS(t, tok, keys); err != nil {
			t.Fatal(err)
		}
	}
	ac, ic := claims(t, at), claims(t, id)
	if ac["scope"] != "openid email aws.cognito.signin.user.admin" || ac["version"] != num(2) || ac["username"] != "alice" ||
		ac["client_id"] != "web" || ac["auth_time"] != num(signInAt) || ac["iat"] != num(t0.Add(10*time.Minute).Unix()) {
		t.Errorf("access token claims %v", ac)
	}
	sum := sha256.Sum256([]byte(at))
	if ic["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:16]) || ic["nonce"] != "n-1" || ic["aud"] != "web" || ic["auth_time"] != num(signInAt) {
		t.Errorf("ID token claims %v", ic)
	}
	if o := keyOrder(t, segment(t, at, 1)); !slices.Equal(o[:5], []string{"sub", "iss", "version", "client_id", "origin_jti"}) {
		t.Errorf("access token claim order %v", o)
	}

	// GlobalSignOut accepts the token (it has aws.cognito.signin.user.admin)
	// and does not end the managed-login session, as in Cognito.
	if _, err := sdkClient(p).GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: aws.String(at)}); err != nil {
		t.Fatal(err)
	}
	codeFrom(t, must(b.do("GET", authorizeURL(p, nil), nil)))
	// prompt=login asks for the password all the same.
	res, _ = b.do("GET", authorizeURL(p, url.Values{"prompt": {"login"}}), nil)
	if !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Errorf("prompt=login: redirect to %q, want the login page", res.Header.Get("Location"))
	}
	// The session ends after an hour.
	advance(cognitotest.LoginSessionTTL)
	res, _ = b.do("GET", authorizeURL(p, nil), nil)
	if !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Errorf("after the session's hour: redirect to %q, want the login page", res.Header.Get("Location"))
	}
}

func must(res *http.Response, _ string) *http.Response { return res }

// TestOAuthLogout: /logout clears the session (cookie and server side) and
// redirects to a registered sign-out URL; the next authorization asks for
// the password. An unregistered logout_uri is refused and signs no one out.
func TestOAuthLogout(t *testing.T) {
	p, _ := oauthPool(t)
	b := newBrowser(t)
	codeFrom(t, must(b.login(p, authorizeURL(p, nil), "alice", "Alice-pw-1")))
	cookie := b.c.Jar.Cookies(mustURL(t, p.URL()))

	res, _ := b.do("GET", p.URL()+"/logout?"+url.Values{"client_id": {"web"}, "logout_uri": {"https://evil.example/"}}.Encode(), nil)
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
		t.Fatalf("unregistered logout_uri: %s to %q, want 400", res.Status, res.Header.Get("Location"))
	}
	codeFrom(t, must(b.do("GET", authorizeURL(p, nil), nil)))

	res, _ = b.do("GET", p.URL()+"/logout?"+url.Values{"client_id": {"web"}, "logout_uri": {signedOut}}.Encode(), nil)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != signedOut {
		t.Fatalf("logout: %s to %q, want a redirect to %s", res.Status, res.Header.Get("Location"), signedOut)
	}
	res, _ = b.do("GET", authorizeURL(p, nil), nil)
	if !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Fatalf("authorize after logout: redirect to %q, want the login page", res.Header.Get("Location"))
	}
	// The old cookie, replayed, no longer signs in.
	replay := newBrowser(t)
	replay.c.Jar.SetCookies(mustURL(t, p.URL()), cookie)
	res, _ = replay.do("GET", authorizeURL(p, nil), nil)
	if !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Fatalf("replayed session cookie after logout: redirect to %q, want the login page", res.Header.Get("Location"))
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestOAuthRefresh: the refresh_token grant keeps the session's scopes,
// auth_time and origin_jti and returns no new refresh token; a revoked
// refresh token is invalid_grant.
func TestOAuthRefresh(t *testing.T) {
	p, advance := oauthPool(t)
	b := newBrowser(t)
	code := codeFrom(t, must(b.login(p, authorizeURL(p, url.Values{"scope": {"openid aws.cognito.signin.user.admin"}}), "alice", "Alice-pw-1")))
	_, first := token(t, p, codeForm(code, verifier), "", "")
	advance(time.Minute)
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {"web"}, "refresh_token": {first["refresh_token"].(string)}}
	st, m := token(t, p, refresh, "", "")
	if st != 200 || m["refresh_token"] != nil || m["id_token"] == nil {
		t.Fatalf("refresh: %d %v", st, m)
	}
	a, b0 := claims(t, m["access_token"].(string)), claims(t, first["access_token"].(string))
	if a["scope"] != "openid aws.cognito.signin.user.admin" || a["version"] != num(2) || a["auth_time"] != b0["auth_time"] ||
		a["origin_jti"] != b0["origin_jti"] || a["iat"] == b0["iat"] {
		t.Errorf("refreshed %v, first %v", a, b0)
	}
	other := url.Values{"grant_type": {"refresh_token"}, "refresh_token": refresh["refresh_token"]}
	if st, m := token(t, p, other, "m2m", "m2m-secret"); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("another client's refresh token: %d %v, want invalid_grant", st, m)
	}
	if _, err := sdkClient(p).GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: aws.String(m["access_token"].(string))}); err != nil {
		t.Fatal(err)
	}
	if st, m := token(t, p, refresh, "", ""); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("revoked refresh token: %d %v, want invalid_grant", st, m)
	}
}

// TestOAuthClientCredentials: a confidential client with the
// client_credentials flow gets an access token whose sub is its client ID,
// without username, with its custom scopes and version 2.
func TestOAuthClientCredentials(t *testing.T) {
	p, _ := oauthPool(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	st, m := token(t, p, cc, "m2m", "m2m-secret")
	if st != 200 || m["id_token"] != nil || m["refresh_token"] != nil || m["expires_in"] != 3600.0 {
		t.Fatalf("client credentials: %d %v", st, m)
	}
	at := m["access_token"].(string)
	if err := verifyWithJWKS(t, at, fetchJWKS(t, p.JWKSURL())); err != nil {
		t.Fatal(err)
	}
	c := claims(t, at)
	if c["sub"] != "m2m" || c["client_id"] != "m2m" || c["username"] != nil || c["token_use"] != "access" ||
		c["scope"] != "orders/read orders/write" || c["version"] != num(2) || c["iss"] != p.Issuer() {
		t.Errorf("M2M token claims %v", c)
	}
	// ClientToken mints the same token without the endpoint.
	direct := claims(t, p.ClientToken("m2m"))
	for _, k := range []string{"sub", "client_id", "token_use", "scope", "version", "iss", "username"} {
		if direct[k] != c[k] {
			t.Errorf("ClientToken claim %s = %v, the endpoint's %v", k, direct[k], c[k])
		}
	}
	for _, id := range []string{"nobody", "web"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ClientToken(%q) did not panic", id)
				}
			}()
			p.ClientToken(id)
		}()
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"orders/read"}, "client_id": {"m2m"}, "client_secret": {"m2m-secret"}}
	if st, m := token(t, p, form, "", ""); st != 200 || claims(t, m["access_token"].(string))["scope"] != "orders/read" {
		t.Errorf("secret in the body, one scope: %d %v", st, m)
	}
	for _, tc := range []struct {
		name, user, secret, scope, want string
	}{
		{"wrong secret", "m2m", "wrong", "", "invalid_client"},
		{"no secret", "m2m", "", "", "invalid_client"},
		{"unknown client", "nobody", "x", "", "invalid_client"},
		{"public client", "web", "", "", "unauthorized_client"},
		{"standard scope", "m2m", "m2m-secret", "openid", "invalid_scope"},
		{"scope not allowed", "m2m", "m2m-secret", "orders/delete", "invalid_scope"},
	} {
		f := url.Values{"grant_type": {"client_credentials"}}
		if tc.scope != "" {
			f.Set("scope", tc.scope)
		}
		if st, m := token(t, p, f, tc.user, tc.secret); st != 400 || m["error"] != tc.want {
			t.Errorf("%s: %d %v, want 400 %s", tc.name, st, m, tc.want)
		}
	}
}

// TestOAuthAuthorizeErrors: an unknown client or an unregistered redirect
// URI gets an error page (never a redirect there); other errors go to the
// redirect URI with error and state.
func TestOAuthAuthorizeErrors(t *testing.T) {
	p, _ := oauthPool(t)
	b := newBrowser(t)
	for _, tc := range []struct {
		name  string
		extra url.Values
		want  string // "" for an error page
	}{
		{"unknown client", url.Values{"client_id": {"nobody"}}, ""},
		{"unregistered redirect", url.Values{"redirect_uri": {"https://evil.example/cb"}}, ""},
		{"client without OAuth", url.Values{"client_id": {"api-only"}}, ""},
		{"implicit flow", url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		{"scope not allowed", url.Values{"scope": {"openid orders/read"}}, "invalid_scope"},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, "invalid_request"},
	} {
		res, _ := b.do("GET", authorizeURL(p, tc.extra), nil)
		loc := res.Header.Get("Location")
		if tc.want == "" {
			if res.StatusCode != http.StatusBadRequest || loc != "" {
				t.Errorf("%s: %s to %q, want an error page", tc.name, res.Status, loc)
			}
			continue
		}
		u := mustURL(t, loc)
		if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, callback+"?") || u.Query().Get("error") != tc.want || u.Query().Get("state") != "st-1" {
			t.Errorf("%s: %s to %q, want a redirect with error=%s", tc.name, res.Status, loc, tc.want)
		}
	}
	// The login form needs its CSRF token.
	res, _ := b.do("POST", p.URL()+"/login?"+mustURL(t, authorizeURL(p, nil)).RawQuery, url.Values{"username": {"alice"}, "password": {"Alice-pw-1"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("login without a CSRF token: %s, want 403", res.Status)
	}
}

// TestOAuthTokenErrors: malformed token requests get Cognito's errors.
func TestOAuthTokenErrors(t *testing.T) {
	p, _ := oauthPool(t)
	for _, tc := range []struct {
		name, user string
		form       url.Values
		want       string
	}{
		{"no grant type", "web", url.Values{}, "invalid_request"},
		{"unknown grant", "web", url.Values{"grant_type": {"password"}}, "unsupported_grant_type"},
		{"no client", "", url.Values{"grant_type": {"client_credentials"}}, "invalid_request"},
		{"unknown code", "web", codeForm("not-a-code", verifier), "invalid_grant"},
		{"code without redirect_uri", "web", url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}, "invalid_request"},
		{"unknown refresh token", "web", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y.z.a.b"}}, "invalid_grant"},
	} {
		if st, m := token(t, p, tc.form, tc.user, ""); st != 400 || m["error"] != tc.want {
			t.Errorf("%s: %d %v, want 400 %s", tc.name, st, m, tc.want)
		}
	}
	res, err := http.Post(p.URL()+"/oauth2/token", "application/json", strings.NewReader(`{"grant_type":"client_credentials"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("JSON token request: %s, want 400", res.Status)
	}
	res, err = http.Get(p.URL() + "/oauth2/token")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /oauth2/token: %s, want 405", res.Status)
	}
}

// TestOAuthAPIClient: a client created through CreateUserPoolClient with
// OAuth settings gets codes; OAuth flows are off without
// AllowedOAuthFlowsUserPoolClient, and client_credentials cannot be
// combined with code.
func TestOAuthAPIClient(t *testing.T) {
	p, _ := oauthPool(t)
	c := sdkClient(p)
	create := func(enabled bool, flows ...types.OAuthFlowType) (string, error) {
		out, err := c.CreateUserPoolClient(t.Context(), &cip.CreateUserPoolClientInput{
			UserPoolId: aws.String(p.PoolID()), ClientName: aws.String("spa"), GenerateSecret: len(flows) > 1,
			AllowedOAuthFlows: flows, AllowedOAuthFlowsUserPoolClient: enabled,
			AllowedOAuthScopes: []string{"openid", "orders/read"}, CallbackURLs: []string{callback},
		})
		if err != nil {
			return "", err
		}
		if got := aws.ToBool(out.UserPoolClient.AllowedOAuthFlowsUserPoolClient); got != enabled {
			t.Errorf("AllowedOAuthFlowsUserPoolClient %v, want %v", got, enabled)
		}
		return aws.ToString(out.UserPoolClient.ClientId), nil
	}
	on, err := create(true, types.OAuthFlowTypeCode)
	if err != nil {
		t.Fatal(err)
	}
	off, err := create(false, types.OAuthFlowTypeCode)
	if err != nil {
		t.Fatal(err)
	}
	_, err = create(true, types.OAuthFlowTypeCode, types.OAuthFlowTypeClientCredentials)
	wantAPIError(t, err, "InvalidOAuthFlowException", "")

	b := newBrowser(t)
	res, _ := b.login(p, authorizeURL(p, url.Values{"client_id": {on}, "scope": {"openid"}}), "alice", "Alice-pw-1")
	codeFrom(t, res)
	res, _ = b.do("GET", authorizeURL(p, url.Values{"client_id": {off}, "scope": {"openid"}}), nil)
	if u := mustURL(t, res.Header.Get("Location")); u.Query().Get("error") != "unauthorized_client" {
		t.Errorf("client without AllowedOAuthFlowsUserPoolClient: redirect to %q, want error=unauthorized_client", u)
	}
}

// TestOAuthClientCredentialsTokenAtTheAPI: the user-pool API refuses a
// machine token (it names no user and lacks
// aws.cognito.signin.user.admin) with NotAuthorizedException.
func TestOAuthClientCredentialsTokenAtTheAPI(t *testing.T) {
	p, _ := oauthPool(t)
	_, m := token(t, p, url.Values{"grant_type": {"client_credentials"}}, "m2m", "m2m-secret")
	_, err := sdkClient(p).GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: aws.String(m["access_token"].(string))})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token does not have required scopes")
}

// TestOAuthRefreshRotation: for a client with refresh token rotation, the
// refresh_token grant also returns a new refresh token, and the one
// presented stops working after the grace period.
func TestOAuthRefreshRotation(t *testing.T) {
	p, clock := newPool(t, cognitotest.Config{Clients: []cognitotest.AppClient{
		{ID: "web", CallbackURLs: []string{callback}, RefreshTokenRotation: true, RetryGracePeriod: 10 * time.Second},
	}})
	p.AddUser(cognitotest.User{Username: "alice", Password: "Alice-pw-1"})
	code := codeFrom(t, must(newBrowser(t).login(p, authorizeURL(p, url.Values{"scope": {"openid"}}), "alice", "Alice-pw-1")))
	_, first := token(t, p, codeForm(code, verifier), "", "")
	refresh := func(rt any) (int, map[string]any) {
		return token(t, p, url.Values{"grant_type": {"refresh_token"}, "client_id": {"web"}, "refresh_token": {rt.(string)}}, "", "")
	}
	st, second := refresh(first["refresh_token"])
	if st != 200 || second["refresh_token"] == nil || second["refresh_token"] == first["refresh_token"] {
		t.Fatalf("rotating refresh: %d %v", st, second)
	}
	clock.Advance(11 * time.Second)
	if st, m := refresh(first["refresh_token"]); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("rotated-out refresh token after the grace period: %d %v", st, m)
	}
	if st, _ := refresh(second["refresh_token"]); st != 200 {
		t.Errorf("new refresh token: %d", st)
	}
}

// TestOAuthLoginPageFormAction checks the login page's form-action: it
// allows the client's callback origin (browsers apply form-action to the
// redirect that follows the sign-in POST; with 'self' alone Chromium
// aborts it) and nothing the request could smuggle in.
func TestOAuthLoginPageFormAction(t *testing.T) {
	p, _ := oauthPool(t)
	b := newBrowser(t)
	res, _ := b.do("GET", authorizeURL(p, nil), nil)
	res, _ = b.do("GET", p.URL()+res.Header.Get("Location"), nil)
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' http://localhost:8080;") {
		t.Errorf("login page policy %q: form-action does not allow the callback's origin", csp)
	}
	q := url.Values{"redirect_uri": {"http://a.example; script-src *"}}
	res, _ = b.do("GET", p.URL()+"/login?"+q.Encode(), nil)
	if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "a.example") || strings.Contains(csp, "script-src") {
		t.Errorf("login page policy %q carries the request's text", csp)
	}
}

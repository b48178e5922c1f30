package cognitotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// codeTokens signs alice in through the managed login with scope and
// returns the token endpoint's answer.
func codeTokens(t *testing.T, p *cognitotest.Pool, scope string) map[string]any {
	t.Helper()
	code := codeFrom(t, must(newBrowser(t).login(p, authorizeURL(p, url.Values{"scope": {scope}}), "alice", "Alice-pw-1")))
	st, m := token(t, p, codeForm(code, verifier), "", "")
	if st != 200 {
		t.Fatalf("token: %d %v", st, m)
	}
	return m
}

func revoke(t *testing.T, p *cognitotest.Pool, form url.Values, user, secret string) (int, string) {
	t.Helper()
	res := postForm(t, p, "/oauth2/revoke", form, user, secret)
	defer res.Body.Close()
	var m map[string]string
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m["error"]
}

// TestOAuthRevoke: /oauth2/revoke revokes a refresh token's session (its
// refresh then fails); an unknown token succeeds (RFC 7009); an access
// token, another client's token or a wrong secret is refused.
func TestOAuthRevoke(t *testing.T) {
	p, _ := oauthPool(t)
	m := codeTokens(t, p, "openid")
	rt := m["refresh_token"].(string)
	for _, tc := range []struct {
		name, user, secret string
		form               url.Values
		status             int
		err                string
	}{
		{"access token", "", "", url.Values{"client_id": {"web"}, "token": {m["access_token"].(string)}}, 400, "unsupported_token_type"},
		{"no token", "", "", url.Values{"client_id": {"web"}}, 400, "invalid_request"},
		{"wrong secret", "m2m", "wrong", url.Values{"token": {rt}}, 400, "invalid_client"},
		{"another client's token", "m2m", "m2m-secret", url.Values{"token": {rt}}, 400, "unauthorized_client"},
		{"unknown token", "", "", url.Values{"client_id": {"web"}, "token": {"a.b.c.d.e"}}, 200, ""},
	} {
		if st, e := revoke(t, p, tc.form, tc.user, tc.secret); st != tc.status || e != tc.err {
			t.Errorf("%s: %d %q, want %d %q", tc.name, st, e, tc.status, tc.err)
		}
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {"web"}, "refresh_token": {rt}}
	if st, _ := token(t, p, refresh, "", ""); st != 200 {
		t.Fatalf("refresh before revocation: %d", st)
	}
	if st, e := revoke(t, p, url.Values{"client_id": {"web"}, "token": {rt}}, "", ""); st != 200 {
		t.Fatalf("revoke: %d %q", st, e)
	}
	if st, m := token(t, p, refresh, "", ""); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("refresh after revocation: %d %v", st, m)
	}
	if origin := claims(t, m["access_token"].(string))["origin_jti"].(string); !p.OriginRevoked(origin) {
		t.Error("the session's origin_jti is not revoked")
	}
}

// TestOAuthUserInfo: /oauth2/userInfo answers the user's attributes for an
// access token with openid, and 401 invalid_token otherwise.
func TestOAuthUserInfo(t *testing.T) {
	p, _ := oauthPool(t)
	get := func(auth string) (int, map[string]string, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "GET", p.URL()+"/oauth2/userInfo", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]string
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m, res.Header.Get("WWW-Authenticate")
	}
	alice, _ := p.User("alice")
	st, info, _ := get("Bearer " + codeTokens(t, p, "openid email")["access_token"].(string))
	if st != 200 || info["sub"] != alice.Sub || info["username"] != "alice" || info["email"] != "alice@example.com" {
		t.Errorf("userInfo: %d %v", st, info)
	}
	for name, auth := range map[string]string{
		"no token":      "",
		"no openid":     "Bearer " + codeTokens(t, p, "aws.cognito.signin.user.admin")["access_token"].(string),
		"not a token":   "Bearer x.y.z",
		"API token":     "Bearer " + p.AccessToken("alice"),
		"Basic instead": "Basic YWxpY2U6eA==",
	} {
		if st, m, www := get(auth); st != 401 || m["error"] != "invalid_token" || !strings.HasPrefix(www, `Bearer error="invalid_token"`) {
			t.Errorf("%s: %d %v %q, want 401 invalid_token", name, st, m, www)
		}
	}
}

package cognitotest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// tokenError is an error answer of /oauth2/token: HTTP 400 and
// {"error": code}, as Cognito gives them.
type tokenError string

func (e tokenError) write(w http.ResponseWriter) {
	writeTokenJSON(w, http.StatusBadRequest, map[string]string{"error": string(e)})
}

func writeTokenJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tokenResponse is a successful answer of /oauth2/token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

// serveToken serves /oauth2/token: the authorization_code (with PKCE),
// refresh_token and client_credentials grants.
func (p *Pool) serveToken(w http.ResponseWriter, r *http.Request) {
	if !parseOAuthForm(w, r) {
		return
	}
	c, e := p.oauthClient(r)
	if e != "" {
		e.write(w)
		return
	}
	var res *tokenResponse
	switch f := r.PostForm; f.Get("grant_type") {
	case "authorization_code":
		res, e = p.codeGrant(c, f)
	case "refresh_token":
		res, e = p.refreshGrant(c, f)
	case "client_credentials":
		res, e = p.clientCredentialsGrant(c, f)
	case "":
		e = "invalid_request"
	default:
		e = "unsupported_grant_type"
	}
	if e != "" {
		e.write(w)
		return
	}
	writeTokenJSON(w, http.StatusOK, res)
}

// oauthClient authenticates the client of a token request: HTTP Basic
// (client_id and secret form-urlencoded, as RFC 6749 says) or client_id
// and client_secret in the body. A client with a secret must present it;
// one without must not present any.
func (p *Pool) oauthClient(r *http.Request) (*AppClient, tokenError) {
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, pw, ok := r.BasicAuth(); ok {
		bu, err1 := url.QueryUnescape(u)
		bp, err2 := url.QueryUnescape(pw)
		if err1 != nil || err2 != nil || id != "" && id != bu || secret != "" {
			return nil, "invalid_client"
		}
		id, secret = bu, bp
	}
	if id == "" {
		return nil, "invalid_request"
	}
	c, ok := p.client(id)
	if !ok || c.Secret == "" && secret != "" || c.Secret != "" && !hmac.Equal([]byte(secret), []byte(c.Secret)) {
		return nil, "invalid_client"
	}
	return c, ""
}

// codeGrant redeems an authorization code, once, and starts a session
// whose auth_time is that of the managed-login sign-in.
func (p *Pool) codeGrant(c *AppClient, f url.Values) (*tokenResponse, tokenError) {
	code := f.Get("code")
	if code == "" || f.Get("redirect_uri") == "" {
		return nil, "invalid_request"
	}
	if !c.allowsOAuth(OAuthFlowCode) {
		return nil, "unauthorized_client"
	}
	p.mu.Lock()
	ac := p.codes[code]
	delete(p.codes, code) // a code is redeemed once, whatever the outcome
	now := p.now()
	var u *userRecord
	if ac != nil {
		u = p.userBySubLocked(ac.sub)
	}
	switch {
	case ac == nil || !now.Before(ac.expires) || ac.clientID != c.ID || ac.redirectURI != f.Get("redirect_uri"),
		ac.challenge != "" && !pkceMatches(ac.challenge, f.Get("code_verifier")),
		u == nil || signInStatus(u) != nil:
		p.mu.Unlock()
		return nil, "invalid_grant"
	}
	s := p.newSessionLocked(u, c.ID, now)
	s.authTime, s.scopes, s.oauth = ac.authTime, ac.scopes, true
	mi := p.mintInputLocked(u, s, now)
	p.mu.Unlock()
	res := mi.oauthTokens(ac.nonce)
	res.RefreshToken = s.refreshToken
	return res, ""
}

// pkceMatches checks an S256 code verifier (RFC 7636: 43 to 128
// characters of the unreserved set) against its challenge.
func pkceMatches(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || strings.Trim(verifier,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return hmac.Equal([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge))
}

// refreshGrant refreshes a session as REFRESH_TOKEN_AUTH does, keeping its
// scopes; a client with rotation also gets a new refresh token.
func (p *Pool) refreshGrant(c *AppClient, f url.Values) (*tokenResponse, tokenError) {
	rt := f.Get("refresh_token")
	if rt == "" {
		return nil, "invalid_request"
	}
	p.mu.Lock()
	now := p.now()
	s, u, e := p.refreshSessionLocked(c.ID, rt, now, func(*userRecord) *apiError { return nil })
	if e != nil {
		p.mu.Unlock()
		return nil, "invalid_grant"
	}
	s, rotated := p.rotateForLocked(c, s, now)
	mi := p.mintInputLocked(u, s, now)
	p.mu.Unlock()
	res := mi.oauthTokens("")
	res.RefreshToken = rotated
	return res, ""
}

// ClientToken mints the access token the OAuth token endpoint's
// client_credentials grant gives app client clientID for all of its custom
// scopes: sub is the client ID, no username. It panics, as the other
// minting helpers do, unless clientID is an app client allowed that flow
// (see [AppClient.OAuthFlows]).
func (p *Pool) ClientToken(clientID string) string {
	c, ok := p.client(clientID)
	if !ok {
		panic("cognitotest: no app client " + clientID)
	}
	res, e := p.clientCredentialsGrant(c, url.Values{})
	if e != "" {
		panic("cognitotest: client_credentials for " + clientID + ": " + string(e))
	}
	return res.AccessToken
}

// clientCredentialsGrant mints a machine-to-machine access token: sub is
// the client ID, no username, only custom (resource server) scopes.
func (p *Pool) clientCredentialsGrant(c *AppClient, f url.Values) (*tokenResponse, tokenError) {
	if !c.allowsOAuth(OAuthFlowClientCredentials) || c.Secret == "" {
		return nil, "unauthorized_client"
	}
	allowed := slices.DeleteFunc(slices.Clone(c.OAuthScopes), func(s string) bool { return !strings.Contains(s, "/") })
	scopes := strings.Fields(f.Get("scope"))
	if len(scopes) == 0 {
		scopes = allowed
	}
	for _, s := range scopes {
		if !slices.Contains(allowed, s) {
			return nil, "invalid_scope"
		}
	}
	p.mu.Lock()
	now, key, issuer, ttl := p.now(), p.accessKey, p.issuer, p.accessTTL
	p.mu.Unlock()
	var cl object
	cl.set("sub", c.ID)
	cl.set("token_use", "access")
	cl.set("scope", strings.Join(scopes, " "))
	cl.set("auth_time", now.Unix())
	cl.set("iss", issuer)
	cl.set("exp", now.Add(ttl).Unix())
	cl.set("iat", now.Unix())
	cl.set("version", 2)
	cl.set("jti", newUUID())
	cl.set("client_id", c.ID)
	return &tokenResponse{AccessToken: sign(key, cl, new(tokenOptions)), ExpiresIn: int64(ttl / time.Second), TokenType: "Bearer"}, ""
}

// oauthTokens mints the tokens of an OAuth session: an access token with
// the session's scopes and version 2, and an ID token (with at_hash, and
// nonce when given) if the scopes include openid.
func (in mintInput) oauthTokens(nonce string) *tokenResponse {
	res := &tokenResponse{AccessToken: in.access(new(tokenOptions)), ExpiresIn: int64(in.accessTTL / time.Second), TokenType: "Bearer"}
	if in.s.oauth && !slices.Contains(in.s.scopes, "openid") {
		return res
	}
	sum := sha256.Sum256([]byte(res.AccessToken))
	o := &tokenOptions{atHash: base64.RawURLEncoding.EncodeToString(sum[:16])}
	if nonce != "" {
		o.claims = map[string]any{"nonce": nonce}
	}
	res.IDToken = in.id(o)
	return res
}

package cognitotest

import (
	"mime"
	"net/http"
	"strings"
)

// parseOAuthForm parses the form of a POST to /oauth2/token or
// /oauth2/revoke, its body bounded by maxRequestBody. Otherwise it answers
// the request (405, or 400 invalid_request) and returns false.
func parseOAuthForm(w http.ResponseWriter, r *http.Request) bool {
	if !allowMethods(w, r, http.MethodPost) {
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		tokenError("invalid_request").write(w)
		return false
	}
	return true
}

// serveRevoke serves /oauth2/revoke (RFC 7009): it revokes a refresh
// token and the tokens minted from it, as RevokeToken does. The client
// authenticates as at /oauth2/token.
func (p *Pool) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if !parseOAuthForm(w, r) {
		return
	}
	c, e := p.oauthClient(r)
	tok := r.PostForm.Get("token")
	switch {
	case e != "":
	case tok == "" || c.DisableTokenRevocation:
		e = "invalid_request"
	case strings.Count(tok, ".") == 2:
		e = "unsupported_token_type"
	}
	if e != "" {
		e.write(w)
		return
	}
	p.mu.Lock()
	s := p.sessions[tok]
	switch {
	case s == nil: // unknown or malformed: success, as RFC 7009 prescribes
	case s.clientID != c.ID:
		e = "unauthorized_client"
	default:
		p.revokeSessionLocked(s)
	}
	p.mu.Unlock()
	if e != "" {
		e.write(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// serveUserInfo serves /oauth2/userInfo: the attributes of the user of a
// bearer access token with the openid scope, as Cognito answers them
// (strings, email_verified and phone_number_verified included).
func (p *Pool) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	u, e := p.checkTokenScopeLocked(strings.TrimSpace(raw), p.now(), "openid")
	var info map[string]string
	if ok && e == nil {
		info = map[string]string{"username": u.Username}
		for _, a := range userAttributes(u) {
			info[a.Name] = a.Value
		}
	}
	p.mu.Unlock()
	if !ok || e != nil {
		desc := "Access token is missing"
		if e != nil {
			desc = e.message
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.ReplaceAll(desc, `"`, "'")+`"`)
		writeTokenJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
		return
	}
	writeTokenJSON(w, http.StatusOK, info)
}

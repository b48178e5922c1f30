package cognitotest

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// loopbackName reports whether host (a Host header or URL host, with or
// without a port) names the local machine: localhost or a name under
// .localhost (RFC 6761; browsers resolve them to loopback themselves), or
// a loopback IP literal.
func loopbackName(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// loopbackOrigin reports whether an Origin header names a page served from
// the local machine ("null", the opaque origin, does not).
func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && loopbackName(u.Host)
}

// refuseForeign answers 403 and reports true when the pool serves
// loopback requests only ([Config.LoopbackOnly]) and r was addressed to
// another name or sent by a page of another origin.
func (p *Pool) refuseForeign(w http.ResponseWriter, r *http.Request) bool {
	if !p.loopbackOnly {
		return false
	}
	switch origin, hasOrigin := r.Header["Origin"]; {
	case !loopbackName(r.Host):
		http.Error(w, "cognitotest: this pool answers loopback host names only (Host is not localhost or a loopback address)", http.StatusForbidden)
	case hasOrigin && (len(origin) != 1 || !loopbackOrigin(origin[0])):
		http.Error(w, "cognitotest: this pool answers pages of loopback origins only", http.StatusForbidden)
	default:
		return false
	}
	return true
}

// corsPath reports whether path is an endpoint that a browser app calls
// with fetch, which Cognito opens to cross-origin requests: the user-pool
// API, the token, revocation and userInfo endpoints, and the key set.
func (p *Pool) corsPath(path string) bool {
	switch path {
	case "/", "/oauth2/token", "/oauth2/revoke", "/oauth2/userInfo", p.jwksPath, p.oidcConfigPath:
		return true
	}
	return false
}

// cors lets pages of loopback origins, such as a single-page app under
// test on localhost, read the answers of the endpoints browser apps call,
// as Cognito lets browser apps call them. Pages of other origins get no
// CORS grant, so that a web site cannot read what the fake answers. It
// answers a preflight request and reports whether it did.
func (p *Pool) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !p.corsPath(r.URL.Path) || !loopbackOrigin(origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "X-Amzn-Requestid, X-Amzn-Errortype, X-Amzn-Errormessage")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

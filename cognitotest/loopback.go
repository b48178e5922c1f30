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

package signout

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// LogoutURL returns the address of the hosted UI (managed login) logout
// endpoint, https://{domain}/logout?client_id=…&logout_uri=…, to which a
// browser must be redirected to end its Cognito session: no API call
// clears the session cookie of the hosted UI, so without this redirect
// the next "sign in" goes through without a password even after
// [Helper.GlobalSignOut]. Cognito then redirects the browser to
// logoutURI, which MUST be one of the app client's allowed sign-out URLs.
//
// domain is the pool's domain, host name only: a prefix domain such as
// "myapp.auth.eu-west-1.amazoncognito.com" or a custom domain such as
// "auth.example.com" (no scheme, port, path or trailing dot). clientID is
// the app client. logoutURI must be an absolute https URL, or http to a
// loopback host (localhost, 127.0.0.0/8, ::1) for development, without
// user info or fragment.
func LogoutURL(domain, clientID, logoutURI string) (string, error) {
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	if clientID == "" {
		return "", errors.New("signout: LogoutURL: empty client id")
	}
	if strings.ContainsAny(clientID, " \t\r\n/?#&=") {
		return "", fmt.Errorf("signout: LogoutURL: client id %q is malformed", clientID)
	}
	if err := checkLogoutURI(logoutURI); err != nil {
		return "", err
	}
	u := url.URL{
		Scheme:   "https",
		Host:     strings.ToLower(domain),
		Path:     "/logout",
		RawQuery: url.Values{"client_id": {clientID}, "logout_uri": {logoutURI}}.Encode(),
	}
	return u.String(), nil
}

// checkDomain accepts a DNS host name: dot-separated labels of letters,
// digits and hyphens, at most 63 bytes each and 253 in all.
func checkDomain(d string) error {
	bad := func(why string) error {
		return fmt.Errorf("signout: LogoutURL: domain %q %s (want a host name such as myapp.auth.eu-west-1.amazoncognito.com)", d, why)
	}
	if d == "" {
		return bad("is empty")
	}
	if len(d) > 253 {
		return bad("is too long")
	}
	if strings.Contains(d, "://") {
		return bad("has a scheme")
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 {
			return bad("has an empty or too long label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return bad("has a label starting or ending with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return bad("is not a host name")
			}
		}
	}
	if net.ParseIP(d) != nil {
		return bad("is an IP address")
	}
	return nil
}

func checkLogoutURI(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("signout: LogoutURL: logout URI %q %s", s, why)
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("does not parse")
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return bad("is not an absolute URL")
	case u.User != nil:
		return bad("has user info")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return bad("has a fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); strings.EqualFold(h, "localhost") || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return bad("must be https (http only to a loopback host)")
	default:
		return bad("must be https (http only to a loopback host)")
	}
}

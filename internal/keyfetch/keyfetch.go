// Package keyfetch is the one policy for fetching verification keys over
// HTTP, shared by package jwks (Cognito's JSON Web Key Sets) and package
// alb (the load balancers' PEM keys): which URLs may serve keys
// ([CheckURL]), the client that fetches them ([Client]), and the lifetime
// of a fetch shared by several callers ([Start]).
//
// Keys are the root of trust: whoever can alter a key response can make a
// verifier accept tokens of their choosing. Hence https everywhere but on
// loopback (tests, emulators), and never a redirect from https to clear
// text, whatever client the application supplies.
package keyfetch

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// maxRedirects bounds the redirects the default client follows.
const maxRedirects = 3

// CheckURL parses raw and requires an absolute URL that is https, or http
// to a loopback host (localhost, 127.0.0.0/8, ::1): keys fetched in clear
// text over a network could be replaced by anyone on the path. Its errors
// name raw and carry no package prefix: callers add theirs.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("key URL %q: %w", raw, err)
	}
	if u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("key URL %q is not an absolute http(s) URL with a host", raw)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("key URL %q must be https (http only to a loopback host)", raw)
	}
	return u, nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Client returns the client that fetches keys. With c nil, a new client
// with Timeout timeout and http.DefaultTransport that follows at most 3
// redirects (never http.DefaultClient, which has no timeout). Otherwise a
// copy of c (c itself is not modified) whose redirect policy first refuses
// a redirect from https to anything else, then applies c's own
// CheckRedirect, or net/http's default of at most 10 redirects.
func Client(c *http.Client, timeout time.Duration) *http.Client {
	if c == nil {
		return &http.Client{Timeout: timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return errors.New("too many redirects")
			}
			return refuseDowngrade(req, via)
		}}
	}
	cc := *c
	own := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := refuseDowngrade(req, via); err != nil {
			return err
		}
		if own != nil {
			return own(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cc
}

// ErrDowngrade is the cause of a fetch redirected from https to another
// scheme.
var ErrDowngrade = errors.New("redirect from https to clear text refused")

// refuseDowngrade refuses a redirect to anything but https once a hop was
// https.
func refuseDowngrade(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme == "https" {
		return nil
	}
	for _, v := range via {
		if v.URL.Scheme == "https" {
			return fmt.Errorf("%w (to %s)", ErrDowngrade, req.URL.Scheme)
		}
	}
	return nil
}

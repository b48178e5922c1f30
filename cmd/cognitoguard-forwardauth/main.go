// Command cognitoguard-forwardauth is the check endpoint of reverse proxies
// — nginx auth_request, Caddy forward_auth, Traefik ForwardAuth, Envoy
// ext_authz (HTTP) — for services in any language: a request's token is
// verified with the same rules and the same shared revocation store as the
// Go services, so a sign-out anywhere rejects it at once behind the proxy
// too.
//
// Usage:
//
//	cognitoguard-forwardauth -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789 \
//	    [-region eu-west-1] [-issuer URL] [-cognito-endpoint URL] \
//	    [-redis-addr host:6379[,host:6379,…]] [-redis-master NAME] \
//	    [-redis-tls] [-redis-ca FILE] \
//	    [-wait-replicas N] [-wait-instances] \
//	    [-token-use access|id|any] [-addr 127.0.0.1:9091] [-signout-addr 127.0.0.1:9092] \
//	    [-cookie NAME] [-realm api] [-require-scope S,…] [-require-group G,…] \
//	    [-header-sub X-Auth-Sub] [-header-username …] [-header-groups …] \
//	    [-header-scope …] [-header-token-use …] [-max-identity-bytes 16384] \
//	    [-admin-group admin]
//
// The flags -addr to -token-use mean what they mean for examples/api.
// Redis credentials come from the environment variables REDIS_USERNAME and
// REDIS_PASSWORD, never from flags.
//
// Both listeners are on loopback unless told otherwise: -addr defaults to
// 127.0.0.1:9091, where a proxy on the same host reaches it, and
// -signout-addr is off.
//
// The listener -addr answers every method and path as a check (see package
// forwardauth): 200 with the identity headers, 401, 403 or 503. It has no
// other route, so that no path a client asks for through the proxy can
// reach anything else. A token whose identity headers would exceed
// -max-identity-bytes is refused with 403 (error_description "The identity
// is too large to forward"): the proxy's buffer for the check's answer
// must hold that many bytes and 1 KiB more (examples/forwardauth holds the
// default, 16 KiB). The sign-out routes, for applications that cannot
// use the Go helper, are on the listener -signout-addr (off by default);
// keep it off the public network or expose only /logout through the proxy:
//
//	GET  /healthz                          200 once keys and store are ready, else 503
//	POST /logout                           the bearer's own global sign-out (204)
//	POST /admin/users/{username}/signout   callers in -admin-group only: signs the user out (204)
//
// AWS credentials (for AdminGetUser and the Cognito sign-outs) come from
// the default chain. Logs are JSON lines on stderr. SIGINT or SIGTERM shuts
// the servers down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/cognitoguard/cognitoguard/internal/wiring"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cognitoguard/cognitoguard/forwardauth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second signal kills the process
	wiring.LogRedisTo(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cognitoguard-forwardauth:", err)
		}
		os.Exit(2)
	}
}

// options are the parsed flags.
type options struct {
	wiring.Flags
	addr, signoutAddr, cookie, realm, adminGroup string
	scopes, groups                               []string
	headers                                      forwardauth.Headers
	maxIdentity                                  int
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("cognitoguard-forwardauth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var scopes, groups string
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9091", "check endpoint listen `address` (loopback unless told otherwise)")
	fs.StringVar(&o.signoutAddr, "signout-addr", "", "sign-out routes and /healthz listen `address` (empty: none)")
	o.Register(fs)
	fs.StringVar(&o.cookie, "cookie", "", "cookie `name` holding the token when the request has no Authorization header")
	fs.StringVar(&o.realm, "realm", "api", "`realm` of the WWW-Authenticate challenges")
	fs.StringVar(&scopes, "require-scope", "", "`scopes` every token must have, comma-separated (403 otherwise)")
	fs.StringVar(&groups, "require-group", "", "`groups` of which the user must be in one, comma-separated (403 otherwise)")
	fs.StringVar(&o.adminGroup, "admin-group", "admin", "`group` allowed to sign other users out")
	fs.StringVar(&o.headers.Subject, "header-sub", forwardauth.DefaultSubjectHeader, "identity header `name` of the sub")
	fs.StringVar(&o.headers.Username, "header-username", forwardauth.DefaultUsernameHeader, "identity header `name` of the username")
	fs.StringVar(&o.headers.Groups, "header-groups", forwardauth.DefaultGroupsHeader, "identity header `name` of the groups (space-separated)")
	fs.StringVar(&o.headers.Scope, "header-scope", forwardauth.DefaultScopeHeader, "identity header `name` of the scopes (space-separated)")
	fs.StringVar(&o.headers.TokenUse, "header-token-use", forwardauth.DefaultTokenUseHeader, "identity header `name` of the token use")
	fs.IntVar(&o.maxIdentity, "max-identity-bytes", forwardauth.DefaultMaxIdentityBytes,
		"largest identity headers of a 200 answer, in `bytes` (403 beyond); the proxy's buffers must hold it")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.maxIdentity <= 0 {
		return nil, fmt.Errorf("-max-identity-bytes %d must be positive", o.maxIdentity)
	}
	o.scopes, o.groups = wiring.SplitList(scopes), wiring.SplitList(groups)
	return &o, nil
}

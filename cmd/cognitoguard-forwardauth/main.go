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
//	    [-wait-replicas N] [-wait-instances] \
//	    [-token-use access|id|any] [-addr :9091] [-signout-addr 127.0.0.1:9092] \
//	    [-cookie NAME] [-realm api] [-require-scope S,…] [-require-group G,…] \
//	    [-header-sub X-Auth-Sub] [-header-username …] [-header-groups …] \
//	    [-header-scope …] [-header-token-use …] [-admin-group admin]
//
// The flags -addr to -token-use mean what they mean for examples/api.
// Redis credentials come from the environment variables REDIS_USERNAME and
// REDIS_PASSWORD, never from flags.
//
// The listener -addr answers every method and path as a check (see package
// forwardauth): 200 with the identity headers, 401, 403 or 503. It has no
// other route, so that no path a client asks for through the proxy can
// reach anything else. The sign-out routes, for applications that cannot
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
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/forwardauth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second signal kills the process
	redis.SetLogger(redisLogger{slog.New(slog.NewJSONHandler(os.Stderr, nil))})
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cognitoguard-forwardauth:", err)
		}
		os.Exit(2)
	}
}

// redisLogger adapts slog to go-redis's logging interface.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}

// options are the parsed flags.
type options struct {
	addr, signoutAddr, region, poolID, endpoint string
	clientIDs, issuers, redisAddrs              []string
	redisMaster, cookie, realm, adminGroup      string
	scopes, groups                              []string
	waitReplicas                                int
	waitInstances                               bool
	tokenUse                                    cognitoguard.TokenUse
	headers                                     forwardauth.Headers
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("cognitoguard-forwardauth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var clients, issuers, redisAddr, tokenUse, scopes, groups string
	fs.StringVar(&o.addr, "addr", ":9091", "check endpoint listen `address`")
	fs.StringVar(&o.signoutAddr, "signout-addr", "", "sign-out routes and /healthz listen `address` (empty: none)")
	fs.StringVar(&o.region, "region", "", "AWS `region` of the user pool (default: the pool id's prefix)")
	fs.StringVar(&o.poolID, "user-pool-id", "", "Cognito user pool `id`, such as eu-west-1_AbCdEf123 (required)")
	fs.StringVar(&clients, "client-id", "", "allowed app client `ids`, comma-separated (required)")
	fs.StringVar(&issuers, "issuer", "", "the pool's accepted token issuer `URLs`, comma-separated; replaces the defaults (the original and updated Cognito issuer formats of the pool's region)")
	fs.StringVar(&o.endpoint, "cognito-endpoint", "", "Cognito API endpoint `URL` override (emulators, tests)")
	fs.StringVar(&redisAddr, "redis-addr", "", "Redis `host:port`; several comma-separated seed nodes: a Redis Cluster; empty: in-process store (one instance only)")
	fs.StringVar(&o.redisMaster, "redis-master", "", "Sentinel master `name` (-redis-addr then lists the Sentinels)")
	fs.IntVar(&o.waitReplicas, "wait-replicas", 0, "a sign-out succeeds only once this `many` Redis replicas hold it")
	fs.BoolVar(&o.waitInstances, "wait-instances", false, "a sign-out succeeds only once every instance has applied it")
	fs.StringVar(&tokenUse, "token-use", "access", "accepted tokens: `access`, id or any")
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
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.poolID == "" {
		return nil, errors.New("-user-pool-id is required")
	}
	if o.clientIDs = splitList(clients); len(o.clientIDs) == 0 {
		return nil, errors.New("-client-id is required")
	}
	o.redisAddrs, o.scopes, o.groups = splitList(redisAddr), splitList(scopes), splitList(groups)
	switch {
	case o.waitReplicas < 0:
		return nil, errors.New("-wait-replicas must not be negative")
	case len(o.redisAddrs) == 0 && (o.redisMaster != "" || o.waitReplicas > 0 || o.waitInstances):
		return nil, errors.New("-redis-master, -wait-replicas and -wait-instances need -redis-addr")
	}
	switch cognitoguard.TokenUse(tokenUse) {
	case cognitoguard.TokenUseAccess, cognitoguard.TokenUseID, cognitoguard.TokenUseAny:
		o.tokenUse = cognitoguard.TokenUse(tokenUse)
	default:
		return nil, fmt.Errorf("-token-use %q: want access, id or any", tokenUse)
	}
	if o.region == "" {
		region, err := cognitoguard.PoolRegion(o.poolID)
		if err != nil {
			return nil, fmt.Errorf("-region is required: %w", err)
		}
		o.region = region
	}
	for _, iss := range splitList(issuers) {
		o.issuers = append(o.issuers, strings.TrimSuffix(iss, "/"))
	}
	return &o, nil
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Command cognitotest runs a fake Amazon Cognito user pool (package
// cognitotest) on a loopback port, so that a service such as examples/api
// can be run and tried locally without AWS.
//
// Usage:
//
//	cognitotest [-addr 127.0.0.1:9229] [-pool-id ID] [-client-id ID] [-token-ttl 1h] \
//	    [-api-addr 127.0.0.1:8080] [-user NAME[:PASSWORD[:GROUP,GROUP…]]]… \
//	    [-callback-url URL]… [-logout-url URL]…
//
// It serves the pool's JWKS and Cognito API (the operations the package
// documents: sign-in, refresh, sign-outs, AdminGetUser, RevokeToken) and
// prints the issuer, the Cognito endpoint, the pool and client IDs, a
// ready-to-paste command line running examples/api against the pool, the
// Go settings of one's own service for the pool (the README's "Local
// development"), and an access token per user, as shell variables. -api-addr is the address
// that command line gives examples/api. It runs until SIGINT or SIGTERM.
//
// Each -user adds a user; without any, the users are alice (password
// Alice-Passw0rd!, group admin) and bob (password Bob-Passw0rd!). A user
// with a password can also sign in through the API (InitiateAuth
// USER_PASSWORD_AUTH), for example with the AWS CLI's --endpoint-url.
//
// Each -callback-url makes the app client accept that redirect URI at the
// pool's managed-login endpoints (authorization code with PKCE: /oauth2/authorize,
// /login, /oauth2/token), and each -logout-url that logout_uri at /logout;
// the endpoints are printed with the rest.
//
// The pool checks no credentials and accepts any signature of its API
// calls: -addr must be a loopback address, and it answers only requests
// addressed to a loopback name (localhost, *.localhost, 127.0.0.0/8,
// [::1]) and, when they carry an Origin, sent by a page of such a name
// (cognitotest.Config.LoopbackOnly), so that a web page of another site
// cannot reach it through DNS rebinding or a cross-site form; a
// single-page app under test on localhost can. The keys are new on every run,
// so tokens of an earlier run do not verify.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cognitotest:", err)
		}
		os.Exit(2)
	}
}

// defaultUsers are the users of a run without -user.
var defaultUsers = []cognitotest.User{
	{Username: "alice", Email: "alice@example.com", Password: "Alice-Passw0rd!", Groups: []string{"admin"}},
	{Username: "bob", Email: "bob@example.com", Password: "Bob-Passw0rd!"},
}

// options are the parsed flags.
type options struct {
	addr, apiAddr, poolID, clientID string
	ttl                             time.Duration
	users                           []cognitotest.User
	callbackURLs, logoutURLs        []string
}

// urlFlag collects absolute http(s) URLs.
type urlFlag struct{ urls *[]string }

func (f urlFlag) String() string { return "" }

func (f urlFlag) Set(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("%q: want an absolute http or https URL without a fragment", s)
	}
	*f.urls = append(*f.urls, s)
	return nil
}

// userFlag collects -user values.
type userFlag struct{ users *[]cognitotest.User }

func (f userFlag) String() string { return "" }

func (f userFlag) Set(s string) error {
	name, rest, _ := strings.Cut(s, ":")
	password, groups, _ := strings.Cut(rest, ":")
	if name == "" || strings.ContainsAny(name, ":, \t") {
		return fmt.Errorf("%q: want NAME[:PASSWORD[:GROUP,GROUP…]] with a non-empty NAME", s)
	}
	for _, u := range *f.users {
		if shellName(u.Username) == shellName(name) {
			return fmt.Errorf("users %q and %q: given twice, or their token variables would clash", u.Username, name)
		}
	}
	u := cognitotest.User{Username: name, Password: password}
	for g := range strings.SplitSeq(groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			u.Groups = append(u.Groups, g)
		}
	}
	*f.users = append(*f.users, u)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("cognitotest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9229", "loopback `address` to serve the pool on (port 0: a free one)")
	fs.StringVar(&o.apiAddr, "api-addr", "127.0.0.1:8080", "listen `address` written into the printed examples/api command")
	fs.StringVar(&o.poolID, "pool-id", cognitotest.DefaultPoolID, "user pool `ID` (region_id)")
	fs.StringVar(&o.clientID, "client-id", cognitotest.DefaultClientID, "app client `ID`")
	fs.DurationVar(&o.ttl, "token-ttl", cognitotest.DefaultTokenTTL, "lifetime of access and ID tokens")
	fs.Var(urlFlag{&o.callbackURLs}, "callback-url", "a redirect `URL` the app client accepts at /oauth2/authorize (repeatable)")
	fs.Var(urlFlag{&o.logoutURLs}, "logout-url", "a logout_uri `URL` the app client accepts at /logout (repeatable)")
	fs.Var(userFlag{&o.users}, "user", "add a user: `NAME[:PASSWORD[:GROUP,GROUP…]]` (repeatable; default alice and bob)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if _, err := cognitoguard.PoolRegion(o.poolID); err != nil {
		return nil, fmt.Errorf("-pool-id: %w (such as us-east-1_cognitotest)", err)
	}
	if o.clientID == "" || strings.ContainsAny(o.clientID, ", \t") {
		return nil, fmt.Errorf("-client-id %q: want a non-empty ID without commas or spaces", o.clientID)
	}
	if o.ttl <= 0 {
		return nil, errors.New("-token-ttl must be positive")
	}
	if len(o.users) == 0 {
		o.users = defaultUsers
	}
	return &o, nil
}

// run serves the pool until ctx is done, writing what to paste to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	l, err := listenLoopback(o.addr)
	if err != nil {
		return err
	}
	pool := cognitotest.NewPool(cognitotest.Config{
		Listener:       l,
		LoopbackOnly:   true,
		PoolID:         o.poolID,
		Clients:        []cognitotest.AppClient{{ID: o.clientID, CallbackURLs: o.callbackURLs, LogoutURLs: o.logoutURLs}},
		AccessTokenTTL: o.ttl,
		IDTokenTTL:     o.ttl,
	})
	defer pool.Close()
	for _, u := range o.users {
		pool.AddUser(u)
	}
	printPool(stdout, pool, o)
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nStopped.")
	return nil
}

// listenLoopback listens on addr, which must be a loopback address: the
// fake pool authenticates no one.
func listenLoopback(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if a, ok := l.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		l.Close()
		return nil, fmt.Errorf("-addr %q is not a loopback address (such as 127.0.0.1:9229): the fake pool authenticates no one", addr)
	}
	return l, nil
}

// printPool writes the pool's settings, the examples/api command line and
// a token per user, in one Write.
func printPool(w io.Writer, pool *cognitotest.Pool, o *options) {
	var b strings.Builder
	defer func() { io.WriteString(w, b.String()) }()
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("Fake Cognito user pool serving until Ctrl-C (tokens valid for %s).", o.ttl)
	p("")
	p("issuer            %s", pool.Issuer())
	p("jwks              %s", pool.JWKSURL())
	p("cognito endpoint  %s", pool.URL())
	p("user pool id      %s", pool.PoolID())
	p("client id         %s", pool.ClientID())
	if len(o.callbackURLs) > 0 {
		p("authorize         %s/oauth2/authorize (callback %s)", pool.URL(), strings.Join(o.callbackURLs, ", "))
		p("token             %s/oauth2/token", pool.URL())
	}
	if len(o.callbackURLs)+len(o.logoutURLs) > 0 {
		p("logout            %s/logout", pool.URL())
	}
	p("")
	p("Run examples/api against it (the fake pool ignores the AWS credentials, the SDK needs some):")
	p("")
	p("AWS_ACCESS_KEY_ID=fake AWS_SECRET_ACCESS_KEY=fake go run ./examples/api -addr %s -user-pool-id %s -client-id %s -issuer %s -cognito-endpoint %s",
		o.apiAddr, pool.PoolID(), pool.ClientID(), pool.Issuer(), pool.URL())
	p("")
	p("%s", localDevText(pool))
	p("Access tokens, for a shell:")
	p("")
	var first string
	for _, u := range o.users {
		name := shellName(u.Username)
		if first == "" {
			first = name
		}
		p("%s='%s'", name, pool.AccessToken(u.Username))
	}
	p("")
	p("Then try:")
	p("")
	p(`curl -i -H "Authorization: Bearer $%s" http://%s/me`, first, o.apiAddr)
	p("")
	p("Users:")
	for _, u := range o.users {
		p("  %-16s password %-18q groups %s", u.Username, u.Password, strings.Join(u.Groups, ","))
	}
}

// shellName turns a username into a shell variable name: upper case, any
// other character than a letter or digit an underscore, prefixed with
// TOKEN_ (so that it never starts with a digit nor clobbers PATH or HOME).
func shellName(username string) string {
	return "TOKEN_" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, username)
}

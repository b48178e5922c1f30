package hostedui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// ClientSecretEnv names the environment variable holding the app client's
// secret, if it has one (a flag would show it in the process list).
const ClientSecretEnv = "HOSTEDUI_CLIENT_SECRET"

// Run runs one of the example's two services, args[0] "web" (the web app)
// or "api" (the API service), with the flags that follow, until ctx is
// done; then it shuts the server down gracefully. ready, if not nil, is
// called with the listening address. Logs go to stderr.
//
// Flags of both:
//
//	-addr              listen address (default 127.0.0.1:8080 web, 127.0.0.1:8081 api)
//	-user-pool-id      user pool id (required)
//	-client-id         app client id (required)
//	-region            AWS region (default: from -user-pool-id)
//	-issuer            accepted issuer (default: from region and pool)
//	-cognito-endpoint  Cognito API endpoint override (emulators, tests)
//	-redis-addr        Redis host:port of the revocation store shared by the
//	                   services (default: in-process, which the other service
//	                   never sees); REDIS_USERNAME and REDIS_PASSWORD if set
//	-v                 debug logging
//
// Flags of web:
//
//	-domain            managed login, https://{domain} (required)
//	-public-url        this app as browsers reach it (default http://{listen address})
//	-api-url           the API service (default http://127.0.0.1:8081)
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) error {
	if len(args) == 0 || (args[0] != "web" && args[0] != "api") {
		fmt.Fprintln(stderr, "usage: hostedui web|api -user-pool-id ID -client-id ID [flags]")
		return flag.ErrHelp
	}
	f, err := parseFlags(args[0], args[1:], stderr)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	store, closeStore, err := newStore(ctx, f.redisAddr, log)
	if err != nil {
		return err
	}
	defer closeStore()

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", f.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	handler, closeHandler, err := f.handler(ctx, ln.Addr().String(), store, log)
	if err != nil {
		return err
	}
	defer closeHandler()
	fmt.Fprintf(stdout, "hostedui %s listening on http://%s\n", f.role, ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}
	return serve(ctx, ln, handler, log)
}

// serve serves h on ln until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

// flags are Run's parsed arguments.
type flags struct {
	role            string
	cfg             Config // PublicURL empty: from the listen address
	addr, redisAddr string
	verbose         bool
}

func parseFlags(role string, args []string, stderr io.Writer) (*flags, error) {
	fs := flag.NewFlagSet("hostedui "+role, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &flags{role: role}
	cfg := &f.cfg
	defAddr := "127.0.0.1:8080"
	if role == "api" {
		defAddr = "127.0.0.1:8081"
	}
	fs.StringVar(&f.addr, "addr", defAddr, "listen `address`")
	fs.StringVar(&cfg.UserPoolID, "user-pool-id", "", "Cognito user pool id (required)")
	fs.StringVar(&cfg.ClientID, "client-id", "", "app client id (required)")
	fs.StringVar(&cfg.Region, "region", "", "AWS region (default: from -user-pool-id)")
	fs.StringVar(&cfg.Issuer, "issuer", "", "accepted token issuer (default: from region and pool)")
	fs.StringVar(&cfg.CognitoEndpoint, "cognito-endpoint", "", "Cognito API endpoint override (emulators, tests)")
	fs.StringVar(&f.redisAddr, "redis-addr", "", "Redis `host:port` of the shared revocation store (default: in-process, unshared)")
	fs.BoolVar(&f.verbose, "v", false, "debug logging")
	if role == "web" {
		fs.StringVar(&cfg.Domain, "domain", "", "managed login `URL`, such as https://myapp.auth.eu-west-1.amazoncognito.com (required)")
		fs.StringVar(&cfg.PublicURL, "public-url", "", "this app's `URL` as browsers reach it (default http://{listen address})")
		fs.StringVar(&cfg.APIURL, "api-url", "http://127.0.0.1:8081", "the API service's base `URL`")
		cfg.ClientSecret = os.Getenv(ClientSecretEnv)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("hostedui: unexpected arguments %q", fs.Args())
	}
	if cfg.UserPoolID == "" || cfg.ClientID == "" || (role == "web" && cfg.Domain == "") {
		return nil, errors.New("hostedui: -user-pool-id, -client-id and (web) -domain are required")
	}
	return f, nil
}

// handler builds the service's handler for the listen address addr, and
// the function that releases it. Its Verifier warms up (fetches the keys)
// in a goroutine that the release function stops and waits for.
func (f *flags) handler(ctx context.Context, addr string, store revocation.Store, log *slog.Logger) (http.Handler, func(), error) {
	cfg := f.cfg
	cfg.Store, cfg.Logger = store, log
	var (
		h http.Handler
		v *cognitoguard.Verifier
	)
	if f.role == "web" {
		if cfg.PublicURL == "" {
			cfg.PublicURL = "http://" + addr
		}
		app, err := New(cfg)
		if err != nil {
			return nil, nil, err
		}
		h, v = app, app.Verifier()
	} else {
		pool := cognitoguard.Pool{UserPoolID: cfg.UserPoolID, ClientIDs: []string{cfg.ClientID}}
		if cfg.Issuer != "" {
			pool.Issuers = []string{cfg.Issuer}
		}
		var err error
		if v, err = cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{Revocation: store, Logger: log}); err != nil {
			return nil, nil, err
		}
		h = NewAPI(v, log)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.WarmUp(wctx) // logs its failures; /healthz says 503 meanwhile
	}()
	return h, func() { cancel(); <-done; v.Close() }, nil
}

// newStore returns the revocation store: Redis at addr once its
// subscription is up, or in-process without addr; and its closer.
func newStore(ctx context.Context, addr string, log *slog.Logger) (revocation.Store, func(), error) {
	if addr == "" {
		return revocation.NewMemory(revocation.MemoryConfig{Logger: log}), func() {}, nil
	}
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 strings.Split(addr, ","),
		Username:              os.Getenv("REDIS_USERNAME"),
		Password:              os.Getenv("REDIS_PASSWORD"),
		ContextTimeoutEnabled: true,
	})
	st, err := redisstore.New(rdb, redisstore.Config{Logger: log})
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	closeAll := func() { st.Close(); rdb.Close() }
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.Ready(rctx); err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("hostedui: Redis at %s: %w", addr, err)
	}
	return st, closeAll, nil
}

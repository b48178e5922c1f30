package webapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Run parses args (the program's flags, without the program name), serves
// the app until ctx is done, then shuts the server down gracefully. ready,
// if not nil, is called with the listening address (host:port) once the
// server accepts connections. The listening address is printed to stdout;
// logs go to stderr.
//
// Flags:
//
//	-addr              listen address (default 127.0.0.1:8080)
//	-region            AWS region (default: from -user-pool-id)
//	-user-pool-id      user pool id (required)
//	-client-id         app client id, without secret (required)
//	-issuer            accepted issuer (default: from region and pool)
//	-cognito-endpoint  Cognito API endpoint override (emulators, tests)
//	-redis-addr        Redis host:port of the shared revocation store, comma-separated for a
//	                   Cluster (default: in-process store, one instance only)
//	-hosted-ui-domain  hosted UI domain: logout goes through https://{domain}/logout
//	-logout-url        logout endpoint override (replaces https://{domain}/logout)
//	-public-url        this app's URL as browsers see it (default http://{listen address})
//	-v                 debug logging
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg := f.cfg
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if f.redisAddr != "" {
		st, closeStore, err := newRedisStore(ctx, f.redisAddr, cfg.Logger)
		if err != nil {
			return err
		}
		defer closeStore()
		cfg.Store = st
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", f.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	listen := ln.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + listen
	}
	app, err := New(cfg)
	if err != nil {
		return err
	}
	defer app.Close()

	srv := &http.Server{
		Handler:           app,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "webapp listening on http://%s\n", listen)
	if ready != nil {
		ready(listen)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// flags are Run's parsed arguments.
type flags struct {
	cfg             Config
	addr, redisAddr string
	verbose         bool
}

// parseFlags parses and checks args.
func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	cfg := &f.cfg
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&cfg.Region, "region", "", "AWS region (default: from -user-pool-id)")
	fs.StringVar(&cfg.UserPoolID, "user-pool-id", "", "Cognito user pool id (required)")
	fs.StringVar(&cfg.ClientID, "client-id", "", "app client id, without secret, allowing USER_PASSWORD_AUTH (required)")
	fs.StringVar(&cfg.Issuer, "issuer", "", "accepted token issuer (default: https://cognito-idp.{region}.amazonaws.com/{pool})")
	fs.StringVar(&cfg.CognitoEndpoint, "cognito-endpoint", "", "Cognito API endpoint override (emulators, tests)")
	fs.StringVar(&f.redisAddr, "redis-addr", "", "Redis `host:port` of the shared revocation store; comma-separated for a cluster (default: in-process store, one instance only)")
	fs.StringVar(&cfg.HostedUIDomain, "hosted-ui-domain", "", "hosted UI (managed login) domain; logout then goes through https://{domain}/logout")
	fs.StringVar(&cfg.LogoutEndpoint, "logout-url", "", "logout endpoint replacing https://{hosted-ui-domain}/logout (tests)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "this app's base URL as browsers see it (default http://{listen address})")
	fs.BoolVar(&f.verbose, "v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("webapp: unexpected arguments %q", fs.Args())
	}
	if cfg.UserPoolID == "" || cfg.ClientID == "" {
		return nil, errors.New("webapp: -user-pool-id and -client-id are required")
	}
	return &f, nil
}

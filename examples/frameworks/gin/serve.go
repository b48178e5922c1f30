package main

// What the three framework examples share (chi, echo and gin each hold a
// copy of this file, so that one directory can be copied on its own; a
// test of the frameworks module keeps the copies identical): flags, the
// Verifier and the server's lifetime. The framework-specific code is in
// main.go.

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
	"os/signal"
	"syscall"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// options are the flags of every example.
type options struct {
	Addr       string // -addr
	UserPoolID string // -user-pool-id
	ClientID   string // -client-id
	Issuer     string // -issuer
	Verbose    bool   // -v
}

// parseOptions parses args (without the program name).
func parseOptions(name string, args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&o.UserPoolID, "user-pool-id", "", "Cognito user pool id, such as eu-west-1_AbCdEf123 (required)")
	fs.StringVar(&o.ClientID, "client-id", "", "app client id whose access tokens are accepted (required)")
	fs.StringVar(&o.Issuer, "issuer", "", "accepted issuer (default: https://cognito-idp.{region}.amazonaws.com/{pool})")
	fs.BoolVar(&o.Verbose, "v", false, "debug logging (rejected requests)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	if o.UserPoolID == "" || o.ClientID == "" {
		return o, fmt.Errorf("%s: -user-pool-id and -client-id are required", name)
	}
	return o, nil
}

// logger returns the logger of the options: text on w.
func (o options) logger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if o.Verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// newVerifier returns a Verifier of access tokens for the options' pool and
// client, honouring the sign-outs recorded in store.
func newVerifier(o options, store revocation.Store, log *slog.Logger) (*cognitoguard.Verifier, error) {
	pool := cognitoguard.Pool{UserPoolID: o.UserPoolID, ClientIDs: []string{o.ClientID}}
	if o.Issuer != "" {
		pool.Issuers = []string{o.Issuer}
	}
	return cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{
		Revocation: store,
		Logger:     log,
	})
}

// serve serves h on addr until ctx is done, then shuts down gracefully.
// ready, if not nil, gets the listening address once connections are
// accepted.
func serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, stdout io.Writer, ready func(string)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
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

// me is the body of GET /me.
type me struct {
	Sub      string   `json:"sub"`
	Username string   `json:"username"`
	TokenUse string   `json:"token_use"`
	Groups   []string `json:"groups,omitempty"`
}

// meOf returns the body of GET /me for c.
func meOf(c *cognitoguard.Claims) me {
	return me{Sub: c.Subject, Username: c.Username, TokenUse: string(c.TokenUse), Groups: c.Groups}
}

// router builds a framework's handler around the middleware.
type router func(v middleware.Verifier, log *slog.Logger) http.Handler

// runRouter parses args, builds a Verifier honouring an in-process revocation
// store, and serves newRouter's handler on the -addr address until ctx
// ends. ready, if not nil, gets the bound address.
func runRouter(ctx context.Context, name string, newRouter router, args []string, stdout, stderr io.Writer, ready func(string)) error {
	o, err := parseOptions(name, args, stderr)
	if err != nil {
		return err
	}
	log := o.logger(stderr)
	v, err := newVerifier(o, revocation.NewMemory(revocation.MemoryConfig{}), log)
	if err != nil {
		return err
	}
	defer v.Close()
	return serve(ctx, o.Addr, newRouter(v, log), log, stdout, ready)
}

// mainWith is the program's main: runRouter with the process's arguments until
// SIGINT or SIGTERM; exit status 1 on error.
func mainWith(name string, newRouter router) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runRouter(ctx, name, newRouter, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

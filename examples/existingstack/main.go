// Command existingstack shows how a service that already verifies Amazon
// Cognito tokens — with golang-jwt v5 and keyfunc v3, or with go-oidc —
// honours sign-outs with one call, [cognitoguard.Verifier.CheckClaims],
// and changes nothing else: its library keeps verifying signatures and
// expiry; cognitoguard checks token_use and client_id (access tokens have
// no aud, so an audience check alone lets every app client of the pool
// in) and asks the revocation store whether the user signed out.
//
//	go run . -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789
//
// Routes: GET /jwt/me (golang-jwt + keyfunc), GET /oidc/me (go-oidc): JSON
// {"sub", "username", "token_use"}; 401 for a token of a signed-out user,
// of another app client or of the wrong token_use.
//
// The store here is the in-process one (revocation.NewMemory), which only
// sign-outs recorded in this process reach. In production every instance
// shares the Redis store (revocation.NewRedis) that the sign-out helper,
// the ops command and the events consumer write to.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/MicahParks/keyfunc/v3"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "existingstack:", err)
		os.Exit(1)
	}
}

// app is the service: the guard, the store and the two routes.
type app struct {
	guard   *cognitoguard.Verifier
	store   revocation.Store
	handler http.Handler
	stop    func() // ends keyfunc's refresh goroutine
}

// newApp wires both stacks for one pool. issuer is the exact iss of the
// pool's tokens, its keys at issuer + "/.well-known/jwks.json".
func newApp(ctx context.Context, poolID, issuer string, clientIDs []string, use cognitoguard.TokenUse, log *slog.Logger) (*app, error) {
	store := revocation.NewMemory(revocation.MemoryConfig{Logger: log})
	guard, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: poolID, Issuers: []string{issuer}, ClientIDs: clientIDs}},
		cognitoguard.Config{TokenUse: use, Revocation: store, Logger: log})
	if err != nil {
		return nil, err
	}
	kctx, cancel := context.WithCancel(ctx)
	jwksURL := issuer + "/.well-known/jwks.json"
	kf, err := keyfunc.NewDefaultCtx(kctx, []string{jwksURL})
	if err != nil {
		cancel()
		guard.Close()
		return nil, err
	}
	mw := middleware.Config{Logger: log}
	jwtMW := middleware.New(&JWTVerifier{Keyfunc: kf.Keyfunc, Issuer: issuer, Guard: guard}, mw)
	oidcMW := middleware.New(&OIDCVerifier{OIDC: NewOIDC(kctx, issuer, jwksURL), Guard: guard}, mw)
	mux := http.NewServeMux()
	mux.Handle("GET /jwt/me", jwtMW(http.HandlerFunc(me)))
	mux.Handle("GET /oidc/me", oidcMW(http.HandlerFunc(me)))
	return &app{guard: guard, store: store, handler: mux, stop: func() { cancel(); guard.Close() }}, nil
}

// me answers with the caller's claims, put in the context by the
// middleware.
func me(w http.ResponseWriter, r *http.Request) {
	c, _ := cognitoguard.FromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"sub": c.Subject, "username": c.Username, "token_use": string(c.TokenUse)})
}

// run parses args and serves until ctx ends; ready, if not nil, receives
// the listening address.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(string)) error {
	fs := flag.NewFlagSet("existingstack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address`")
	poolID := fs.String("user-pool-id", "", "Cognito user pool `id` (required)")
	clients := fs.String("client-id", "", "allowed app client `ids`, comma-separated (required)")
	issuer := fs.String("issuer", "", "the tokens' issuer `URL` (default: the pool's original-format issuer)")
	use := fs.String("token-use", "access", "accepted tokens: `access`, id or any")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *poolID == "" || *clients == "" {
		return errors.New("-user-pool-id and -client-id are required")
	}
	if *issuer == "" {
		iss, err := cognitoguard.DefaultIssuers(*poolID)
		if err != nil {
			return err
		}
		*issuer = iss[0]
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	a, err := newApp(ctx, *poolID, strings.TrimSuffix(*issuer, "/"), strings.Split(*clients, ","), cognitoguard.TokenUse(*use), log)
	if err != nil {
		return err
	}
	defer a.stop()
	return serve(ctx, *addr, a.handler, ready)
}

// serve runs an http.Server with timeouts on addr until ctx ends, then
// shuts it down gracefully.
func serve(ctx context.Context, addr string, h http.Handler, ready func(string)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	if ready != nil {
		ready(l.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

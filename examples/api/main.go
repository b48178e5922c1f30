// Command api is the skeleton of a service protected by cognitoguard: every
// route but /healthz and /livez needs a valid Amazon Cognito token, and a sign-out —
// the caller's own (POST /logout) or one by an administrator (POST
// /admin/users/{username}/signout) — makes every instance sharing the
// revocation store reject the user's unexpired tokens at once.
//
// Usage:
//
//	api -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789 \
//	    [-region eu-west-1] [-issuer URL] [-cognito-endpoint URL] \
//	    [-redis-addr host:6379[,host:6379,…]] [-redis-master NAME] \
//	    [-redis-tls] [-redis-ca FILE] \
//	    [-wait-replicas N] [-wait-instances] [-token-use access|id|any] [-addr :8080]
//
// Without -redis-addr the sign-outs are kept in process (one instance
// only); with one address they go to that Redis, with several to a Redis
// Cluster; with -redis-master the addresses are Sentinels and NAME the
// master they watch; -redis-tls connects with TLS verified by the system's
// roots, -redis-ca FILE by the CAs in FILE instead, and the credentials
// come from the environment variables REDIS_USERNAME and REDIS_PASSWORD.
// -wait-replicas N makes a sign-out succeed only once N
// replicas hold it (so that a failover cannot lose it), -wait-instances
// only once every instance has applied it (so that when the logout
// answers, no instance accepts the old tokens); see redisstore.Config.
// AWS credentials (for AdminGetUser and AdminUserGlobalSignOut)
// come from the default chain: environment, shared files, SSO, instance
// role.
//
// Routes:
//
//	GET  /healthz                          no auth; readiness: 200 once keys and store are ready, else 503
//	GET  /livez                            no auth; liveness: 200 while the process serves, store up or down
//	GET  /me                               the caller's verified claims as JSON
//	POST /logout                           the caller signs out everywhere (204)
//	POST /admin/users/{username}/signout   group "admin" only (403 otherwise): signs the user out (204)
//
// Logs are JSON lines on stderr. SIGINT or SIGTERM shuts the server down
// gracefully.
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/signout"
)

// shutdownTimeout bounds the graceful shutdown: requests still running
// after it are cut.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second signal during the graceful shutdown kills the process.
	context.AfterFunc(ctx, stop)
	// go-redis logs connection failures through a process-wide logger;
	// make those JSON lines on stderr too.
	logRedisTo(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "api:", err)
		}
		os.Exit(2)
	}
}

// options are the parsed flags.
type options struct {
	addr string
	serviceFlags
}

// parseFlags parses and checks args.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.addr, "addr", ":8080", "listen `address`")
	o.Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.Check(); err != nil {
		return nil, err
	}
	return &o, nil
}

// run serves the API until ctx is done, then shuts down gracefully. ready,
// if not nil, is called with the listening address once the listener is
// bound (the service answers /healthz 503 until its keys and store are
// ready).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	d, err := o.Services(log)
	if err != nil {
		return err
	}
	defer d.Close()
	cognito, err := o.Cognito(ctx)
	if err != nil {
		return err
	}
	so, err := signout.New(cognito, d.Auth, d.Store, signout.Config{UserPoolID: o.PoolID})
	if err != nil {
		return err
	}

	rd := &readiness{verifiers: []*cognitoguard.Verifier{d.V}}
	if d.Auth != d.V {
		rd.verifiers = append(rd.verifiers, d.Auth)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newHandler(d.V, so, log, rd),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.Any("issuers", d.V.Issuers()),
		slog.Any("client_ids", o.ClientIDs), slog.String("token_use", string(o.TokenUse)),
		slog.String("store", o.StoreName()))
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}
	defer d.WarmUp(ctx)()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	rd.stopping.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-serveErr
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// readiness is what /healthz asks: every Verifier ready (keys of the
// pool's home issuer, the store trusted) and the server not stopping.
type readiness struct {
	verifiers []*cognitoguard.Verifier
	stopping  atomic.Bool
}

func (r *readiness) Ready(ctx context.Context) error {
	if r.stopping.Load() {
		return errors.New("shutting down")
	}
	for _, v := range r.verifiers {
		if err := v.Ready(ctx); err != nil {
			return err
		}
	}
	return nil
}

// newHandler builds the routes; /healthz answers 200 once ready is.
func newHandler(v *cognitoguard.Verifier, so *signout.Helper, log *slog.Logger, ready middleware.Readier) http.Handler {
	auth := middleware.New(v, middleware.Config{}) // logs where v logs

	app := http.NewServeMux()
	app.HandleFunc("GET /me", me)
	app.Handle("POST /admin/users/{username}/signout",
		signout.NewAdminHandler(so, signout.AdminConfig{Groups: []string{"admin"}}))

	root := http.NewServeMux()
	root.Handle("GET /healthz", middleware.NewReadyHandler(ready, log))
	root.Handle("GET /livez", middleware.NewLiveHandler())
	// The logout handler verifies the token itself (a retried sign-out, with
	// a token already revoked, must still succeed), so it is not behind auth;
	// it answers 405 to methods other than POST.
	root.Handle("/logout", signout.NewLogoutHandler(so, signout.LogoutConfig{}))
	root.Handle("/", auth(app))
	return root
}

// me answers the caller's verified claims.
func me(w http.ResponseWriter, r *http.Request) {
	c, ok := cognitoguard.FromContext(r.Context())
	if !ok { // not behind the middleware: a wiring mistake, fail closed
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	body := map[string]any{
		"sub":        c.Subject,
		"username":   c.Username,
		"token_use":  c.TokenUse,
		"client_id":  c.ClientID,
		"groups":     nonNil(c.Groups),
		"scopes":     nonNil(c.Scopes),
		"issuer":     c.Issuer,
		"auth_time":  c.AuthTime.Unix(),
		"expires_at": c.Expiry.Unix(),
	}
	if c.Email != "" {
		body["email"] = c.Email
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

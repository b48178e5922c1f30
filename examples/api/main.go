// Command api is the skeleton of a service protected by cognitoguard: every
// route but /healthz needs a valid Amazon Cognito token, and a sign-out —
// the caller's own (POST /logout) or one by an administrator (POST
// /admin/users/{username}/signout) — makes every instance sharing the
// revocation store reject the user's unexpired tokens at once.
//
// Usage:
//
//	api -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789 \
//	    [-region eu-west-1] [-issuer URL] [-cognito-endpoint URL] \
//	    [-redis-addr host:6379[,host:6379,…]] [-redis-master NAME] \
//	    [-wait-replicas N] [-wait-instances] [-token-use access|id|any] [-addr :8080]
//
// Without -redis-addr the sign-outs are kept in process (one instance
// only); with one address they go to that Redis, with several to a Redis
// Cluster; with -redis-master the addresses are Sentinels and NAME the
// master they watch. -wait-replicas N makes a sign-out succeed only once N
// replicas hold it (so that a failover cannot lose it), -wait-instances
// only once every instance has applied it (so that when the logout
// answers, no instance accepts the old tokens); see revocation.RedisConfig.
// AWS credentials (for AdminGetUser and AdminUserGlobalSignOut)
// come from the default chain: environment, shared files, SSO, instance
// role.
//
// Routes:
//
//	GET  /healthz                          no auth; 200 once keys and store are ready, else 503
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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
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
	redis.SetLogger(redisLogger{slog.New(slog.NewJSONHandler(os.Stderr, nil))})
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "api:", err)
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
	addr, region, poolID, endpoint string
	clientIDs, issuers, redisAddrs []string
	redisMaster                    string
	waitReplicas                   int
	waitInstances                  bool
	tokenUse                       cognitoguard.TokenUse
}

// parseFlags parses and checks args.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var clients, issuers, redisAddr, tokenUse string
	fs.StringVar(&o.addr, "addr", ":8080", "listen `address`")
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
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.poolID == "" {
		return nil, errors.New("-user-pool-id is required")
	}
	o.clientIDs = splitList(clients)
	if len(o.clientIDs) == 0 {
		return nil, errors.New("-client-id is required")
	}
	o.redisAddrs = splitList(redisAddr)
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

	// Resources are released in this order once the server has stopped:
	// the store (its subscriber), the verifiers (key fetchers), the Redis
	// client.
	var (
		store      revocation.Store
		closeStore = func() error { return nil }
		client     redis.UniversalClient
		v, auth    *cognitoguard.Verifier
	)
	defer func() {
		errs := []error{closeStore()}
		if v != nil {
			errs = append(errs, v.Close())
		}
		if auth != nil && auth != v {
			errs = append(errs, auth.Close())
		}
		if client != nil {
			errs = append(errs, client.Close())
		}
		if err := errors.Join(errs...); err != nil {
			log.Warn("close", slog.String("error", err.Error()))
		}
	}()

	// The revocation store: in process, or Redis shared by every instance.
	if len(o.redisAddrs) == 0 {
		store = revocation.NewMemory(revocation.MemoryConfig{Logger: log})
	} else {
		// One address: a standalone client; several: a cluster client;
		// with a master name: a Sentinel-backed failover client.
		client = redis.NewUniversalClient(&redis.UniversalOptions{Addrs: o.redisAddrs, MasterName: o.redisMaster, ContextTimeoutEnabled: true})
		rs, err := revocation.NewRedis(client, revocation.RedisConfig{
			WaitReplicas: o.waitReplicas, WaitInstances: o.waitInstances, Logger: log,
		})
		if err != nil {
			return err
		}
		store, closeStore = rs, rs.Close
	}

	pool := cognitoguard.Pool{UserPoolID: o.poolID, Issuers: o.issuers, ClientIDs: o.clientIDs}
	v, err = cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{
		TokenUse:   o.tokenUse,
		Revocation: store,
		Logger:     log,
	})
	if err != nil {
		return err
	}
	// POST /logout needs the caller's access token (Cognito's GlobalSignOut
	// takes nothing else): with -token-use id the sign-out gets a verifier
	// of its own for access tokens.
	auth = v
	if o.tokenUse == cognitoguard.TokenUseID {
		if auth, err = cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{Revocation: store, Logger: log}); err != nil {
			return err
		}
	}

	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.region))
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	cognito := cognitoidentityprovider.NewFromConfig(awsCfg, func(opt *cognitoidentityprovider.Options) {
		if o.endpoint != "" {
			opt.BaseEndpoint = aws.String(o.endpoint)
		}
	})
	so, err := signout.New(cognito, auth, store, signout.Config{UserPoolID: o.poolID})
	if err != nil {
		return err
	}

	rd := &readiness{verifiers: []*cognitoguard.Verifier{v}}
	if auth != v {
		rd.verifiers = append(rd.verifiers, auth)
	}
	h := newHandler(v, so, log, rd)

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
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
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.Any("issuers", v.Issuers()),
		slog.Any("client_ids", o.clientIDs), slog.String("token_use", string(o.tokenUse)),
		slog.String("store", storeName(o.redisAddrs, o.redisMaster)))
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}

	// Warm up: keys fetched and the store's view subscribed, retried with
	// backoff; /healthz answers 503 until then (requests are served
	// meanwhile, fetching keys on first use).
	wctx, stopWarm := context.WithCancel(ctx)
	warm := make(chan struct{})
	go func() {
		defer close(warm)
		for _, v := range rd.verifiers {
			if v.WarmUp(wctx) != nil {
				return
			}
		}
		log.Info("ready")
	}()
	defer func() { stopWarm(); <-warm }()

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

func storeName(addrs []string, master string) string {
	switch {
	case len(addrs) == 0:
		return "memory"
	case master != "":
		return "redis sentinel " + master + " via " + strings.Join(addrs, ",")
	case len(addrs) == 1:
		return "redis " + addrs[0]
	default:
		return "redis cluster " + strings.Join(addrs, ",")
	}
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

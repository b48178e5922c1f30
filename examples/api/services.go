package main

// The flags this service shares with cmd/cognitoguard-forwardauth, and what
// they build: the Redis client, the revocation store, the Verifiers and
// the Cognito client. Only the public API is used, so this file can be
// copied with main.go.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// serviceFlags are the parsed shared flags.
type serviceFlags struct {
	Region, PoolID, Endpoint       string
	ClientIDs, Issuers, RedisAddrs []string
	RedisMaster, RedisCA           string
	RedisTLS                       bool
	WaitReplicas                   int
	WaitInstances                  bool
	TokenUse                       cognitoguard.TokenUse

	clients, issuers, redisAddr, tokenUse string
}

// Register defines the shared flags on fs.
func (f *serviceFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Region, "region", "", "AWS `region` of the user pool (default: the pool id's prefix)")
	fs.StringVar(&f.PoolID, "user-pool-id", "", "Cognito user pool `id`, such as eu-west-1_AbCdEf123 (required)")
	fs.StringVar(&f.clients, "client-id", "", "allowed app client `ids`, comma-separated (required)")
	fs.StringVar(&f.issuers, "issuer", "", "the pool's accepted token issuer `URLs`, comma-separated; replaces the defaults (the original and updated Cognito issuer formats of the pool's region)")
	fs.StringVar(&f.Endpoint, "cognito-endpoint", "", "Cognito API endpoint `URL` override (emulators, tests)")
	fs.StringVar(&f.redisAddr, "redis-addr", "", "Redis `host:port`; several comma-separated seed nodes: a Redis Cluster; empty: in-process store (one instance only)")
	fs.StringVar(&f.RedisMaster, "redis-master", "", "Sentinel master `name` (-redis-addr then lists the Sentinels)")
	fs.BoolVar(&f.RedisTLS, "redis-tls", false, "connect to Redis with TLS (the system's roots verify its certificate)")
	fs.StringVar(&f.RedisCA, "redis-ca", "", "PEM `file` of the CAs that verify Redis's certificate instead of the system's roots (implies -redis-tls)")
	fs.IntVar(&f.WaitReplicas, "wait-replicas", 0, "a sign-out succeeds only once this `many` Redis replicas hold it")
	fs.BoolVar(&f.WaitInstances, "wait-instances", false, "a sign-out succeeds only once every instance has applied it")
	fs.StringVar(&f.tokenUse, "token-use", "access", "accepted tokens: `access`, id or any")
}

// Check validates the parsed flags and fills the derived fields: the
// lists, the token use, and the region from the pool ID when -region is
// not given.
func (f *serviceFlags) Check() error {
	if f.PoolID == "" {
		return errors.New("-user-pool-id is required")
	}
	if f.ClientIDs = splitList(f.clients); len(f.ClientIDs) == 0 {
		return errors.New("-client-id is required")
	}
	f.RedisAddrs = splitList(f.redisAddr)
	switch {
	case f.WaitReplicas < 0:
		return errors.New("-wait-replicas must not be negative")
	case len(f.RedisAddrs) == 0 && (f.RedisMaster != "" || f.RedisTLS || f.RedisCA != "" || f.WaitReplicas > 0 || f.WaitInstances):
		return errors.New("-redis-master, -redis-tls, -redis-ca, -wait-replicas and -wait-instances need -redis-addr")
	}
	switch cognitoguard.TokenUse(f.tokenUse) {
	case cognitoguard.TokenUseAccess, cognitoguard.TokenUseID, cognitoguard.TokenUseAny:
		f.TokenUse = cognitoguard.TokenUse(f.tokenUse)
	default:
		return fmt.Errorf("-token-use %q: want access, id or any", f.tokenUse)
	}
	if f.Region == "" {
		region, err := cognitoguard.PoolRegion(f.PoolID)
		if err != nil {
			return fmt.Errorf("-region is required: %w", err)
		}
		f.Region = region
	}
	f.Issuers = nil
	for _, iss := range splitList(f.issuers) {
		f.Issuers = append(f.Issuers, strings.TrimSuffix(iss, "/"))
	}
	return nil
}

// Pool returns the Verifier pool the flags describe.
func (f *serviceFlags) Pool() cognitoguard.Pool {
	return cognitoguard.Pool{UserPoolID: f.PoolID, Issuers: f.Issuers, ClientIDs: f.ClientIDs}
}

// Redis returns the Redis connection settings the flags describe.
func (f *serviceFlags) Redis() redisOptions {
	return redisOptions{Addrs: f.RedisAddrs, Master: f.RedisMaster, TLS: f.RedisTLS, CAFile: f.RedisCA}
}

// StoreName describes the revocation store the flags select, for logs.
func (f *serviceFlags) StoreName() string {
	switch {
	case len(f.RedisAddrs) == 0:
		return "memory"
	case f.RedisMaster != "":
		return "redis sentinel " + f.RedisMaster + " via " + strings.Join(f.RedisAddrs, ",")
	case len(f.RedisAddrs) == 1:
		return "redis " + f.RedisAddrs[0]
	default:
		return "redis cluster " + strings.Join(f.RedisAddrs, ",")
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// services are what the flags describe: the revocation store and the
// Verifiers of a service. Close releases them.
type services struct {
	Store revocation.Store
	V     *cognitoguard.Verifier // accepts the tokens of -token-use
	// Auth verifies the access token of a caller's own sign-out (Cognito's
	// GlobalSignOut takes nothing else): V, or with -token-use id a
	// Verifier of its own.
	Auth *cognitoguard.Verifier

	log        *slog.Logger
	closeStore func() error
	client     redis.UniversalClient
}

// Services builds the store (in process, or Redis shared by every
// instance) and the Verifiers; on error it releases what it built.
func (f *serviceFlags) Services(log *slog.Logger) (s *services, err error) {
	s = &services{log: log, closeStore: func() error { return nil }}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if len(f.RedisAddrs) == 0 {
		s.Store = revocation.NewMemory(revocation.MemoryConfig{Logger: log})
	} else {
		if s.client, err = newRedisClient(f.Redis()); err != nil {
			return s, err
		}
		rs, err := redisstore.New(s.client, redisstore.Config{
			WaitReplicas: f.WaitReplicas, WaitInstances: f.WaitInstances, Logger: log,
		})
		if err != nil {
			return s, err
		}
		s.Store, s.closeStore = rs, rs.Close
	}
	pool := f.Pool()
	s.V, err = cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{
		TokenUse: f.TokenUse, Revocation: s.Store, Logger: log,
	})
	if err != nil {
		return s, err
	}
	s.Auth = s.V
	if f.TokenUse == cognitoguard.TokenUseID {
		s.Auth, err = cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{Revocation: s.Store, Logger: log})
	}
	return s, err
}

// Close releases s in order: the store (its subscriber), the Verifiers
// (key fetchers), the Redis client. A failure is logged.
func (s *services) Close() {
	errs := []error{s.closeStore()}
	if s.V != nil {
		errs = append(errs, s.V.Close())
	}
	if s.Auth != nil && s.Auth != s.V {
		errs = append(errs, s.Auth.Close())
	}
	if s.client != nil {
		errs = append(errs, s.client.Close())
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Warn("close", slog.String("error", err.Error()))
	}
}

// WarmUp fetches the keys and waits for the store's view to be subscribed
// in the background, retrying with backoff (requests are served
// meanwhile, fetching keys on first use), and logs "ready" once done. The
// returned function stops it and waits for it.
func (s *services) WarmUp(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := s.V.WarmUp(ctx)
		if err == nil && s.Auth != s.V {
			err = s.Auth.WarmUp(ctx)
		}
		if err == nil {
			s.log.Info("ready")
		}
	}()
	return func() { cancel(); <-done }
}

// Cognito returns a Cognito client for the pool's region (see
// [newCognitoClient]).
func (f *serviceFlags) Cognito(ctx context.Context) (*cognitoidentityprovider.Client, error) {
	return newCognitoClient(ctx, f.Region, f.PoolID, f.Endpoint)
}

// newCognitoClient returns a Cognito client with AWS credentials from the
// default chain (environment, shared files, SSO, instance role). The
// region is region, else the one poolID names, else the chain's (an
// emulator's pool ID need not name one); none is an error. endpoint, if
// not empty, overrides Cognito's (emulators, tests).
func newCognitoClient(ctx context.Context, region, poolID, endpoint string) (*cognitoidentityprovider.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region == "" {
		region, _ = cognitoguard.PoolRegion(poolID)
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: the user pool ID %q names none; set -region or AWS_REGION", poolID)
	}
	return cognitoidentityprovider.NewFromConfig(cfg, func(o *cognitoidentityprovider.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// redisOptions are a command's Redis connection settings.
type redisOptions struct {
	Addrs  []string // one: standalone; several: Cluster seeds, or Sentinels with Master
	Master string   // Sentinel master name
	TLS    bool     // connect with TLS, verified by the system's roots
	CAFile string   // PEM file of the CAs that verify Redis instead (implies TLS)
	// Timeout bounds dialling, reads and writes; 0: go-redis's defaults.
	Timeout time.Duration
}

// newRedisClient returns the client o describes: addresses, Sentinel
// master, TLS. Credentials come from
// the environment variables REDIS_USERNAME and REDIS_PASSWORD, never from
// flags (which other users of the machine can read). Calls honour their
// context's deadline (ContextTimeoutEnabled).
func newRedisClient(o redisOptions) (redis.UniversalClient, error) {
	ro := &redis.UniversalOptions{
		Addrs:                 o.Addrs,
		MasterName:            o.Master,
		Username:              os.Getenv("REDIS_USERNAME"),
		Password:              os.Getenv("REDIS_PASSWORD"),
		DialTimeout:           o.Timeout,
		ReadTimeout:           o.Timeout,
		WriteTimeout:          o.Timeout,
		ContextTimeoutEnabled: true,
	}
	if o.TLS || o.CAFile != "" {
		ro.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("-redis-ca: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-redis-ca: no PEM certificate in %s", o.CAFile)
		}
		ro.TLSConfig.RootCAs = roots
	}
	return redis.NewUniversalClient(ro), nil
}

// logRedisTo sends go-redis's process-wide log lines (connection
// failures) to l at Warn, so that a service's logs stay one stream.
func logRedisTo(l *slog.Logger) { redis.SetLogger(redisLogger{l}) }

// redisLogger adapts slog to go-redis's logging interface.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}

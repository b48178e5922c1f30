package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/forwardauth"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// shutdownTimeout bounds the graceful shutdown.
const shutdownTimeout = 10 * time.Second

// app holds what run builds; close releases it.
type app struct {
	log        *slog.Logger
	store      revocation.Store
	closeStore func() error
	client     redis.UniversalClient
	v, auth    *cognitoguard.Verifier // auth verifies access tokens for /logout
}

func (a *app) close() {
	errs := []error{a.closeStore()}
	if a.v != nil {
		errs = append(errs, a.v.Close())
	}
	if a.auth != nil && a.auth != a.v {
		errs = append(errs, a.auth.Close())
	}
	if a.client != nil {
		errs = append(errs, a.client.Close())
	}
	if err := errors.Join(errs...); err != nil {
		a.log.Warn("close", slog.String("error", err.Error()))
	}
}

// build creates the store and the Verifiers.
func build(o *options, log *slog.Logger) (*app, error) {
	a := &app{log: log, closeStore: func() error { return nil }}
	if len(o.RedisAddrs) == 0 {
		a.store = revocation.NewMemory(revocation.MemoryConfig{Logger: log})
	} else {
		a.client = redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: o.RedisAddrs, MasterName: o.RedisMaster,
			Username: os.Getenv("REDIS_USERNAME"), Password: os.Getenv("REDIS_PASSWORD"),
		})
		rs, err := revocation.NewRedis(a.client, revocation.RedisConfig{
			WaitReplicas: o.WaitReplicas, WaitInstances: o.WaitInstances, Logger: log,
		})
		if err != nil {
			a.close()
			return nil, err
		}
		a.store, a.closeStore = rs, rs.Close
	}
	pool := o.Pool()
	var err error
	if a.v, err = cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{TokenUse: o.TokenUse, Revocation: a.store, Logger: log}); err != nil {
		a.close()
		return nil, err
	}
	// Cognito's GlobalSignOut takes an access token: with -token-use id,
	// /logout gets a Verifier of its own.
	a.auth = a.v
	if o.TokenUse == cognitoguard.TokenUseID {
		if a.auth, err = cognitoguard.New([]cognitoguard.Pool{pool}, cognitoguard.Config{Revocation: a.store, Logger: log}); err != nil {
			a.close()
			return nil, err
		}
	}
	return a, nil
}

// run serves until ctx is done, then shuts down gracefully. ready, if not
// nil, is called with the bound addresses (signout "" when off).
func run(ctx context.Context, args []string, stderr io.Writer, ready func(check, signout string)) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	a, err := build(o, log)
	if err != nil {
		return err
	}
	defer a.close()

	check, err := forwardauth.New(a.v, forwardauth.Config{
		Headers:        o.headers,
		Auth:           middleware.Config{Realm: o.realm, Cookie: o.cookie, Logger: log},
		RequiredScopes: o.scopes,
		RequiredGroups: o.groups,
	})
	if err != nil {
		return err
	}
	servers := []*server{{name: "check", addr: o.addr, h: check}}
	if o.signoutAddr != "" {
		h, err := a.signoutRoutes(ctx, o)
		if err != nil {
			return err
		}
		servers = append(servers, &server{name: "signout", addr: o.signoutAddr, h: h})
	}
	serveErr := make(chan error, len(servers))
	for _, s := range servers {
		if err := s.listen(ctx, log); err != nil {
			_ = shutdown(servers)
			return err
		}
		go s.serve(serveErr)
		log.Info("listening", slog.String("listener", s.name), slog.String("addr", s.ln.Addr().String()))
	}
	if ready != nil {
		ready(servers[0].ln.Addr().String(), servers[len(servers)-1].boundIfSignout())
	}

	defer a.warmUp(ctx)()

	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if serr := shutdown(servers); err == nil {
		err = serr
	}
	return err
}

// warmUp fetches the keys and subscribes the store's view in the
// background, retrying with backoff (checks are answered meanwhile,
// fetching keys on first use). The returned function stops it and waits.
func (a *app) warmUp(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := a.v.WarmUp(ctx)
		if err == nil && a.auth != a.v {
			err = a.auth.WarmUp(ctx)
		}
		if err == nil {
			a.log.Info("ready")
		}
	}()
	return func() { cancel(); <-done }
}

// signoutRoutes builds the handler of the sign-out listener.
func (a *app) signoutRoutes(ctx context.Context, o *options) (http.Handler, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.Region))
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	cognito := cognitoidentityprovider.NewFromConfig(awsCfg, func(opt *cognitoidentityprovider.Options) {
		if o.Endpoint != "" {
			opt.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	so, err := signout.New(cognito, a.auth, a.store, signout.Config{
		UserPoolID: o.PoolID, Logger: a.log,
	})
	if err != nil {
		return nil, err
	}
	return signoutHandler(a.v, so, o.realm, o.adminGroup, a.log), nil
}

// server is one listener and its http.Server.
type server struct {
	name, addr string
	h          http.Handler
	ln         net.Listener
	srv        *http.Server
	done       chan struct{} // closed when Serve has returned
}

func (s *server) listen(ctx context.Context, log *slog.Logger) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("%s listener: %w", s.name, err)
	}
	s.ln = ln
	s.done = make(chan struct{})
	s.srv = &http.Server{
		Handler:           s.h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	return nil
}

// serve serves until Shutdown; an unexpected end is sent to failed.
func (s *server) serve(failed chan<- error) {
	defer close(s.done)
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		failed <- fmt.Errorf("%s listener: %w", s.name, err)
	}
}

func (s *server) boundIfSignout() string {
	if s.name != "signout" {
		return ""
	}
	return s.ln.Addr().String()
}

// shutdown stops the servers that listen and waits for their Serve calls.
func shutdown(servers []*server) error {
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if s.srv == nil {
			continue
		}
		if err := s.srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("%s shutdown: %w", s.name, err))
		}
		<-s.done
	}
	return errors.Join(errs...)
}

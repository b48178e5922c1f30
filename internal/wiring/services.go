package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// Services are what the flags describe: the revocation store and the
// Verifiers of a service. Close releases them.
type Services struct {
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
func (f *Flags) Services(log *slog.Logger) (s *Services, err error) {
	s = &Services{log: log, closeStore: func() error { return nil }}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if len(f.RedisAddrs) == 0 {
		s.Store = revocation.NewMemory(revocation.MemoryConfig{Logger: log})
	} else {
		if s.client, err = NewRedisClient(f.Redis()); err != nil {
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
func (s *Services) Close() {
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
func (s *Services) WarmUp(ctx context.Context) (stop func()) {
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
// [NewCognitoClient]).
func (f *Flags) Cognito(ctx context.Context) (*cognitoidentityprovider.Client, error) {
	return NewCognitoClient(ctx, f.Region, f.PoolID, f.Endpoint)
}

// NewCognitoClient returns a Cognito client with AWS credentials from the
// default chain (environment, shared files, SSO, instance role). The
// region is region, else the one poolID names, else the chain's (an
// emulator's pool ID need not name one); none is an error. endpoint, if
// not empty, overrides Cognito's (emulators, tests).
func NewCognitoClient(ctx context.Context, region, poolID, endpoint string) (*cognitoidentityprovider.Client, error) {
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

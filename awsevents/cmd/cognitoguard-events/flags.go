package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/wiring"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// common are the flags every subcommand shares.
type common struct {
	region, pools, replicas                          string
	redisAddr, redisMaster, redisCA, redisPrefix     string
	redisTLS, passwords, sessions                    bool
	waitReplicas                                     int
	cognitoEndpoint, sqsEndpoint, cloudtrailEndpoint string
	poolIDs, replicaRegions, redisAddrs              []string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.region, "region", "", "AWS `region` of the queue and of the API calls (default: the first pool's)")
	fs.StringVar(&c.pools, "user-pool-id", "", "Cognito user pool `ids` whose sign-outs are recorded, comma-separated (required)")
	fs.StringVar(&c.replicas, "replica-region", "", "replica `regions` of the pools (multi-Region replication), comma-separated")
	fs.StringVar(&c.redisAddr, "redis-addr", "", "Redis `host:port` of the services' store; several comma-separated seed nodes: a Redis Cluster (required)")
	fs.StringVar(&c.redisMaster, "redis-master", "", "Sentinel master `name` (-redis-addr then lists the Sentinels)")
	fs.BoolVar(&c.redisTLS, "redis-tls", false, "connect to Redis with TLS (the system's roots verify its certificate)")
	fs.StringVar(&c.redisCA, "redis-ca", "", "PEM `file` of the CAs that verify Redis's certificate (implies -redis-tls)")
	fs.StringVar(&c.redisPrefix, "redis-prefix", "", "key `prefix` of the store; MUST be the services' (default: the store's)")
	fs.IntVar(&c.waitReplicas, "wait-replicas", 0, "a sign-out is durable (and its message deleted) only once this `many` Redis replicas hold it")
	fs.BoolVar(&c.passwords, "passwords", false, "honour password changes and resets as sign-outs")
	fs.BoolVar(&c.sessions, "sessions", false, "honour RevokeToken and [Admin]RevokeUserSession as sign-outs of the whole user")
	fs.StringVar(&c.cognitoEndpoint, "cognito-endpoint", "", "Cognito API endpoint `URL` override (emulators, tests)")
	fs.StringVar(&c.sqsEndpoint, "sqs-endpoint", "", "SQS endpoint `URL` override (emulators, tests)")
	fs.StringVar(&c.cloudtrailEndpoint, "cloudtrail-endpoint", "", "CloudTrail endpoint `URL` override (emulators, tests)")
}

// check validates the parsed flags and fills the lists and the region.
func (c *common) check() error {
	c.poolIDs = wiring.SplitList(c.pools)
	c.replicaRegions = wiring.SplitList(c.replicas)
	c.redisAddrs = wiring.SplitList(c.redisAddr)
	switch {
	case len(c.poolIDs) == 0:
		return fmt.Errorf("%w: -user-pool-id is required", errUsage)
	case len(c.redisAddrs) == 0:
		return fmt.Errorf("%w: -redis-addr is required (the services' shared store)", errUsage)
	case c.waitReplicas < 0:
		return fmt.Errorf("%w: -wait-replicas must not be negative", errUsage)
	}
	for _, id := range c.poolIDs {
		if _, err := cognitoguard.PoolRegion(id); err != nil {
			return fmt.Errorf("%w: -user-pool-id: %w", errUsage, err)
		}
	}
	if c.region == "" {
		c.region, _ = cognitoguard.PoolRegion(c.poolIDs[0])
	}
	return nil
}

// eventPools are the consumer's pools.
func (c *common) eventPools() []events.Pool {
	var out []events.Pool
	for _, id := range c.poolIDs {
		out = append(out, events.Pool{ID: id, Regions: c.replicaRegions})
	}
	return out
}

// logger is the JSON logger of every subcommand.
func logger(stderr io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(stderr, nil)) }

// store is the Redis client and a write-only revocation store on it: the
// consumer verifies no token, so it holds no subscription, view nor
// acknowledgements, and never waits for instances (WaitInstances is not
// durability; WaitReplicas is).
type store struct {
	client redis.UniversalClient
	*redisstore.Store
}

func (c *common) openStore(log *slog.Logger) (*store, error) {
	client, err := wiring.NewRedisClient(wiring.RedisOptions{Addrs: c.redisAddrs, Master: c.redisMaster, TLS: c.redisTLS, CAFile: c.redisCA})
	if err != nil {
		return nil, err
	}
	rs, err := redisstore.New(client, redisstore.Config{Prefix: c.redisPrefix, WaitReplicas: c.waitReplicas, WriteOnly: true, Logger: log})
	if err != nil {
		client.Close()
		return nil, err
	}
	return &store{client: client, Store: rs}, nil
}

// Close closes the store, then the client.
func (s *store) Close() error { return errors.Join(s.Store.Close(), s.client.Close()) }

// reconcileKey is the key prefix of the reconciliation's lock and state:
// awsevents' default, or under -redis-prefix when it is set.
func (c *common) reconcileKey() string {
	if c.redisPrefix == "" {
		return awsevents.DefaultReconcileKey
	}
	return c.redisPrefix + "events:reconcile"
}

// consumer is the events consumer of the flags over s.
func (c *common) consumer(s *store, visibility time.Duration, log *slog.Logger, onEvent func(context.Context, events.Result)) (*events.Consumer, error) {
	return events.New(s, c.eventPools(), events.Config{
		Passwords: c.passwords, Sessions: c.sessions, Visibility: visibility, Logger: log, OnEvent: onEvent,
	})
}

// outcomes counts the consumer's outcomes, for the logs.
type outcomes struct {
	mu sync.Mutex
	n  map[events.Outcome]int64
}

func (o *outcomes) add(_ context.Context, r events.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[events.Outcome]int64{}
	}
	o.n[r.Outcome]++
}

// attr is the counts as a log attribute.
func (o *outcomes) attr() slog.Attr {
	o.mu.Lock()
	defer o.mu.Unlock()
	var as []any
	for _, k := range events.Outcomes {
		as = append(as, slog.Int64(string(k), o.n[k]))
	}
	return slog.Group("outcomes", as...)
}

// awsConfig loads the default AWS configuration for region.
func awsConfig(ctx context.Context, region string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}

func (c *common) sqsClient(cfg aws.Config) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if c.sqsEndpoint != "" {
			o.BaseEndpoint = aws.String(c.sqsEndpoint)
		}
	})
}

func (c *common) cognitoClient(cfg aws.Config) *cognitoidentityprovider.Client {
	return cognitoidentityprovider.NewFromConfig(cfg, func(o *cognitoidentityprovider.Options) {
		if c.cognitoEndpoint != "" {
			o.BaseEndpoint = aws.String(c.cognitoEndpoint)
		}
	})
}

// backfill is the CloudTrail backfill of the pools' regions.
func (c *common) backfill(cfg aws.Config, cons *events.Consumer, s *store, log *slog.Logger) (*awsevents.Backfill, error) {
	pools := c.eventPools()
	regions, err := awsevents.Regions(pools)
	if err != nil {
		return nil, err
	}
	clients := map[string]awsevents.CloudTrailAPI{}
	for _, r := range regions {
		clients[r] = cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
			o.Region = r
			if c.cloudtrailEndpoint != "" {
				o.BaseEndpoint = aws.String(c.cloudtrailEndpoint)
			}
		})
	}
	return awsevents.NewBackfill(cons, s, pools, clients, awsevents.BackfillConfig{
		Passwords: c.passwords, Sessions: c.sessions, Logger: log,
	})
}

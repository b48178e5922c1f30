// Package wiring turns the command-line flags that this module's commands
// share (cmd/cognitoguard, cmd/cognitoguard-forwardauth,
// awsevents/cmd/cognitoguard-events) into what they run on: the Redis
// client, the revocation store, the Verifiers and the Cognito client.
// Flag names are a contract (DESIGN.md): flags may be added, never
// renamed. examples/api defines the same flags with the public API only
// (so a user can copy it); its tests check that the two agree.
package wiring

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/cognitoguard/cognitoguard"
)

// Flags are the parsed shared flags.
type Flags struct {
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
func (f *Flags) Register(fs *flag.FlagSet) {
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
func (f *Flags) Check() error {
	if f.PoolID == "" {
		return errors.New("-user-pool-id is required")
	}
	if f.ClientIDs = SplitList(f.clients); len(f.ClientIDs) == 0 {
		return errors.New("-client-id is required")
	}
	f.RedisAddrs = SplitList(f.redisAddr)
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
	for _, iss := range SplitList(f.issuers) {
		f.Issuers = append(f.Issuers, strings.TrimSuffix(iss, "/"))
	}
	return nil
}

// Pool returns the Verifier pool the flags describe.
func (f *Flags) Pool() cognitoguard.Pool {
	return cognitoguard.Pool{UserPoolID: f.PoolID, Issuers: f.Issuers, ClientIDs: f.ClientIDs}
}

// Redis returns the Redis connection settings the flags describe.
func (f *Flags) Redis() RedisOptions {
	return RedisOptions{Addrs: f.RedisAddrs, Master: f.RedisMaster, TLS: f.RedisTLS, CAFile: f.RedisCA}
}

// StoreName describes the revocation store the flags select, for logs.
func (f *Flags) StoreName() string {
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

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

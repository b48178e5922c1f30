package redisstore

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation"
)

// Defaults of [Config].
const (
	DefaultPrefix     = "cognitoguard:"
	DefaultTimeout    = 250 * time.Millisecond
	DefaultStaleness  = time.Second
	DefaultMaxEntries = 100_000
	DefaultChannels   = 6
)

// Config holds the optional settings of [New]. Its zero value is
// the default.
type Config struct {
	// Prefix starts every key and channel name. Default
	// [DefaultPrefix]. It must not contain '{' or '}'. Services that
	// must honour each other's sign-outs MUST share Prefix, Channels and
	// Redis.
	Prefix string

	// TTL is how long a record lives after its time T (and the key after
	// its last change). Default [revocation.DefaultTTL]. It MUST be at least the
	// longest token lifetime of the pools.
	TTL time.Duration

	// Timeout bounds every Redis call the store makes for a caller
	// (lookups of first-seen users, writes, publishes, SignedOutAt), even
	// if the client ignores context deadlines: the caller then gets
	// revocation.ErrUnavailable at Timeout while the abandoned call ends within the
	// client's own timeouts. Default [DefaultTimeout].
	Timeout time.Duration

	// Staleness bounds the age of the proof that the local view holds every
	// sign-out. Each subscription proves it by a pub/sub ping every
	// Staleness/4; every lookup checks the oldest proof against the
	// monotonic clock and, past Staleness, fails with revocation.ErrUnavailable (fail
	// closed) until a subscription proves it again. Default
	// [DefaultStaleness]; at least 20ms.
	Staleness time.Duration

	// MaxEntries bounds the users held in the local view (an arbitrary
	// entry is evicted to make room; Redis stays authoritative, so an
	// evicted user costs one more round trip), and the sign-outs kept to
	// restore Redis after a data loss. Default [DefaultMaxEntries].
	// BENCHMARKS.md gives the bytes per entry.
	MaxEntries int

	// Channels is the number of sign-out channels, K: a user's sign-outs
	// always go through the same one, and on a Cluster the channels sit in
	// slots of different masters, spreading the fan-out. Each instance
	// subscribes to all of them: on one connection, or on a Cluster one
	// per master, carrying the channels of its slots (formed again when
	// slots move); other sharded clients use one per channel.
	// Default [DefaultChannels], which spreads evenly over 1, 2, 3 and
	// 6 masters. Every instance MUST use the same value.
	Channels int

	// Sharded selects sharded pub/sub (SSUBSCRIBE/SPUBLISH, Redis 7). Nil
	// means automatic: sharded for a *redis.ClusterClient, classic
	// SUBSCRIBE/PUBLISH otherwise. Every instance MUST use the same mode.
	Sharded *bool

	// WaitReplicas, when positive, makes every write wait until at least
	// that many replicas of the key's master have it (Redis WAIT on the
	// write's own connection, within Timeout). A shortfall is returned
	// wrapping [revocation.ErrUnavailable] and [revocation.ErrUnconfirmed]; the write is applied
	// and published, and retrying is safe. Without it a failover can lose a
	// sign-out the old master acknowledged (see SECURITY.md). It needs a
	// *redis.Client (standalone or Sentinel) or a *redis.ClusterClient.
	// Default 0.
	WaitReplicas int

	// AllowEviction accepts a Redis that may evict keys (maxmemory set and
	// maxmemory-policy other than noeviction). By default such a Redis is
	// refused: lookups fail with revocation.ErrUnavailable naming maxmemory-policy and
	// writes are returned as revocation.ErrUnconfirmed, since an evicted record
	// un-revokes its user. Set it only if Redis can never fill up.
	AllowEviction bool

	// WaitInstances makes every write wait, within Timeout, until every
	// instance subscribed to the user's channel (this one included) has
	// applied it: when RevokeUser returns nil, no instance answers from a
	// view that lacks the sign-out. A shortfall is returned wrapping
	// [revocation.ErrUnavailable] and [revocation.ErrUnconfirmed]; retrying is safe. Any other
	// subscriber of the channel counts as an instance that never
	// acknowledges. The acknowledgements come back on this instance's own
	// subscription: a write made before it is up (a store just created, a
	// reconnect) first waits for it, within Timeout, and without it is
	// published all the same and returned as revocation.ErrUnconfirmed. It is
	// refused with a Cluster client that reads from
	// replicas (ReadOnly, RouteByLatency, RouteRandomly): SPUBLISH counts
	// the master's subscribers only. Default false.
	WaitInstances bool

	// Now is the clock deciding record expiry. Default time.Now. Freshness
	// (Staleness) is measured with the monotonic clock, never with Now.
	Now func() time.Time

	// Logger receives Warn records when the view stops being trusted and
	// Info records when it is trusted again. Nil discards.
	Logger *slog.Logger

	// TrustUnverifiedEviction trusts a Redis whose eviction policy cannot
	// be read (INFO memory and CONFIG GET both refused, as by an ACL). By
	// default such a Redis is refused like an evicting one. Default false.
	TrustUnverifiedEviction bool

	// WriteOnly makes a store that only records sign-outs, for a process
	// that never verifies tokens (e.g. an AWS Lambda consuming sign-out
	// events): no subscription, no local view, no health check, no
	// acknowledgements, no goroutine. RevokeUser and RevokeSession write
	// and publish as every store does (latest T wins, TTL, WaitReplicas
	// honoured); WaitInstances is refused with it; Revoked fails with
	// [ErrWriteOnly]. Redis' eviction policy and data-loss markers are
	// checked by the stores that read. Default false.
	WriteOnly bool
}

// settings is a validated Config with its defaults applied.
type settings struct {
	Config
	wire           wire
	ttl            time.Duration
	maxEntries     int
	sharded        bool
	restoreStagger time.Duration
}

// configure validates cfg for client and applies its defaults.
func configure(client redis.UniversalClient, cfg Config) (settings, error) {
	if client == nil {
		return settings{}, errors.New("redisstore: nil Redis client")
	}
	st := settings{Config: cfg}
	prefix := cmp.Or(cfg.Prefix, DefaultPrefix)
	if strings.ContainsAny(prefix, "{}") {
		return st, fmt.Errorf("redisstore: Redis prefix %q contains a brace", prefix)
	}
	st.ttl, st.Timeout, st.Staleness = cmp.Or(cfg.TTL, revocation.DefaultTTL), cmp.Or(cfg.Timeout, DefaultTimeout), cmp.Or(cfg.Staleness, DefaultStaleness)
	st.maxEntries, st.Channels = cmp.Or(cfg.MaxEntries, DefaultMaxEntries), cmp.Or(cfg.Channels, DefaultChannels)
	switch {
	case st.ttl < time.Second:
		return st, fmt.Errorf("redisstore: TTL %v is below one second", st.ttl)
	case st.Timeout < 0:
		return st, errors.New("redisstore: negative Timeout")
	case st.Staleness < 20*time.Millisecond:
		return st, fmt.Errorf("redisstore: Staleness %v is below 20ms", st.Staleness)
	case st.maxEntries < 0:
		return st, errors.New("redisstore: negative MaxEntries")
	case st.Channels < 1 || st.Channels > 256:
		return st, fmt.Errorf("redisstore: Channels %d is not in [1, 256]", st.Channels)
	case cfg.WaitReplicas < 0:
		return st, errors.New("redisstore: negative WaitReplicas")
	case cfg.WriteOnly && cfg.WaitInstances:
		return st, errors.New("redisstore: WaitInstances needs a subscription, which a WriteOnly store does not have")
	}
	st.restoreStagger = min(2*st.Staleness, 5*time.Second)
	st.wire = newWire(prefix, st.Channels)
	if cfg.Sharded != nil {
		st.sharded = *cfg.Sharded
	} else {
		_, st.sharded = client.(*redis.ClusterClient)
	}
	if st.Now == nil {
		st.Now = time.Now
	}
	if st.Logger == nil {
		st.Logger = slog.New(slog.DiscardHandler)
	}
	return st, checkClient(client, cfg)
}

// checkClient refuses clients the store cannot bound or count on.
func checkClient(client redis.UniversalClient, cfg Config) error {
	var read, write time.Duration
	switch c := client.(type) {
	case *redis.Client:
		read, write = c.Options().ReadTimeout, c.Options().WriteTimeout
	case *redis.ClusterClient:
		o := c.Options()
		read, write = o.ReadTimeout, o.WriteTimeout
		if cfg.WaitInstances && (o.ReadOnly || o.RouteByLatency || o.RouteRandomly) {
			return errors.New("redisstore: WaitInstances with a Cluster client reading from replicas: SPUBLISH would count the master's subscribers only")
		}
	case *redis.Ring:
		// Each shard holds part of the keys and channels, found by a hash
		// the store cannot see: the health check (eviction, data loss)
		// would read one shard, a subscription would miss the channels of
		// the others, and a shard marked down moves both unnoticed.
		return errors.New("redisstore: a *redis.Ring is not supported (its shards would hide sign-outs from the health check and the subscriptions); use a Redis Cluster (*redis.ClusterClient) to spread the load")
	default:
		return fmt.Errorf("redisstore: unsupported Redis client %T: use a *redis.Client (standalone, or Sentinel through NewFailoverClient) or a *redis.ClusterClient", client)
	}
	if read <= 0 || write <= 0 { // as normalised by go-redis: 0 or less is no timeout
		return fmt.Errorf("redisstore: client without a read or write timeout (ReadTimeout %v, WriteTimeout %v): a subscription could block forever", read, write)
	}
	return nil
}

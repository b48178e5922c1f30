package redisstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/cognitoguard/cognitoguard/revocation"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
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
}

// Stats are counters of a [Redis] store since it was created.
type Stats struct {
	MemoryHits      uint64 // Revoked answered from the local view, without Redis
	Lookups         uint64 // Revoked calls that read Redis
	RoundTrips      uint64 // Redis commands sent for callers: lookups, writes, publishes, SignedOutAt
	Messages        uint64 // messages received on the sign-out channels
	Rebuilds        uint64 // view resets after a resubscription (lost connection)
	StaleRejections uint64 // Revoked calls failed with revocation.ErrUnavailable: view not fresh, or Redis refused
	Unconfirmed     uint64 // writes recorded but returned as revocation.ErrUnconfirmed (WaitReplicas, WaitInstances)
	AcksSent        uint64 // acknowledgements published, of any writer's sign-out (WaitInstances)
	AcksDropped     uint64 // acknowledgements dropped: queue full or publish failed
	DataLosses      uint64 // data losses of Redis detected (marker absent or changed)
	Restored        uint64 // sign-outs re-written from the journal after a data loss
	Entries         int    // users in the local view now
	Trusted         bool   // the view answers lookups now

	// EvictionPolicy is what the last check found: "noeviction", the
	// evicting masters' policies, or "unknown" (INFO refused or incomplete:
	// trusted, and logged at Warn once). Empty before the first check.
	EvictionPolicy string

	// Floor, when not zero, rejects every token authenticated at or before
	// it: the time of a data loss the journal could not prove restored.
	Floor time.Time

	// FreshnessAge is the age of the oldest subscription's last proof that
	// the view is complete (the store's age before the first proof). Past
	// Config.Staleness, lookups fail closed.
	FreshnessAge time.Duration
}

// Store is a [revocation.Store] shared by every instance using the same Redis
// (standalone, Sentinel or Cluster, through [redis.UniversalClient]).
//
// Each user's records are one Redis hash; writes keep the latest time with
// a Lua script and publish the result. Each instance keeps a bounded local
// view of the users it has seen, kept current by pub/sub, so that Revoked
// for a known user makes no network round trip; a first-seen user costs
// one HGETALL. The package documentation states the freshness guarantees.
//
// Redis owns its goroutines (the subscriptions and their supervisor, the
// health check, the acknowledger),
// started by [New] and stopped by [Store.Close]. It is safe for
// concurrent use.
type Store struct {
	client    redis.UniversalClient
	wire      wire
	ttl       time.Duration
	ttlMs     int64
	timeout   time.Duration
	staleness time.Duration
	sharded   bool
	replicas  int
	instances bool // WaitInstances
	now       func() time.Time
	log       *slog.Logger
	id        string // this instance's random id, naming its acknowledgement channels

	view           *view
	trust          *trust
	subs           []*subscription
	channelIndex   map[string]int // sign-out channel name → index
	everSubscribed []atomic.Bool  // per channel: subscribed once (a new subscription is a rebuild)
	acks           *acks

	allowEviction  bool
	health         *health
	kick           chan struct{} // asks the health goroutine for a check
	checks         atomic.Uint64 // rechecks asked
	slotsMoved     atomic.Bool   // the subscriptions regrouped: the health check reads the masters again
	journal        *journal
	floor          atomic.Int64 // Unix ms; see Stats.Floor
	floorDue       atomic.Int64 // Unix ms of a floor to record on every master; 0: none
	restoreStagger time.Duration

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	psMu   sync.Mutex // guards every subscription's ps

	flightMu sync.Mutex
	flights  map[userKey]*flight

	hits, lookups, trips, messages, rebuilds, stale, unconfirmed, losses, restored atomic.Uint64
}

// New returns a store using client, and starts its subscriptions and
// health check. It makes no call itself: call [Store.Ready] to wait until
// the store is trusted. Until then, and for at most Staleness, Revoked
// reads Redis directly once it has been checked (waiting, within Timeout,
// for the first check). client is a *redis.Client (standalone, or Sentinel
// through NewFailoverClient) or a *redis.ClusterClient (Cluster, or Sentinel
// through NewFailoverClusterClient); a *redis.Ring is refused. It refuses a
// client whose timeouts could block a subscription forever (ReadTimeout or
// WriteTimeout -1 or -2: none). The caller MUST call [Store.Close]; it does
// not close client.
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil Redis client")
	}
	r := &Store{client: client, now: cfg.Now, log: cfg.Logger, instances: cfg.WaitInstances,
		flights: make(map[userKey]*flight), acks: newAcks(), id: rand.Text(),
		allowEviction: cfg.AllowEviction, health: &health{gens: make(map[string]string)},
		kick: make(chan struct{}, 1)}
	if err := r.configure(cfg); err != nil {
		return nil, err
	}
	if err := checkClient(client, cfg); err != nil {
		return nil, err
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.startSubscriptions()
	r.trust.refuse(refuseUnchecked, errUnchecked)
	r.wg.Add(2)
	go r.runAcker()
	go r.runHealth()
	return r, nil
}

// configure validates cfg and applies its defaults.
func (r *Store) configure(cfg Config) error {
	prefix := cmp.Or(cfg.Prefix, DefaultPrefix)
	if strings.ContainsAny(prefix, "{}") {
		return fmt.Errorf("redisstore: Redis prefix %q contains a brace", prefix)
	}
	r.ttl, r.timeout, r.staleness = cmp.Or(cfg.TTL, revocation.DefaultTTL), cmp.Or(cfg.Timeout, DefaultTimeout), cmp.Or(cfg.Staleness, DefaultStaleness)
	maxEntries, channels := cmp.Or(cfg.MaxEntries, DefaultMaxEntries), cmp.Or(cfg.Channels, DefaultChannels)
	switch {
	case r.ttl < time.Second:
		return fmt.Errorf("redisstore: TTL %v is below one second", r.ttl)
	case r.timeout < 0:
		return errors.New("redisstore: negative Timeout")
	case r.staleness < 20*time.Millisecond:
		return fmt.Errorf("redisstore: Staleness %v is below 20ms", r.staleness)
	case maxEntries < 0:
		return errors.New("redisstore: negative MaxEntries")
	case channels < 1 || channels > 256:
		return fmt.Errorf("redisstore: Channels %d is not in [1, 256]", channels)
	case cfg.WaitReplicas < 0:
		return errors.New("redisstore: negative WaitReplicas")
	}
	r.ttlMs = r.ttl.Milliseconds()
	r.replicas = cfg.WaitReplicas
	r.view = newView(maxEntries)
	r.journal = &journal{max: maxEntries, ttlMs: r.ttl.Milliseconds()}
	r.restoreStagger = min(2*r.staleness, 5*time.Second)
	r.wire = newWire(prefix, channels)
	if cfg.Sharded != nil {
		r.sharded = *cfg.Sharded
	} else {
		_, r.sharded = r.client.(*redis.ClusterClient)
	}
	return nil
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

// startSubscriptions starts the goroutine that runs the subscriptions
// (see runSubscriptions). Trust is kept per channel.
func (r *Store) startSubscriptions() {
	k := len(r.wire.tags)
	r.channelIndex = make(map[string]int, k)
	for i := range k {
		r.channelIndex[r.wire.channel(i)] = i
	}
	r.trust = newTrust(k, r.staleness)
	r.everSubscribed = make([]atomic.Bool, k)
	r.wg.Add(1)
	go r.runSubscriptions()
}

// Ready waits until the view is trusted (every subscription subscribed and
// fresh, Redis not refused), or ctx ends, or r is closed.
func (r *Store) Ready(ctx context.Context) error {
	for {
		ch := r.trust.wait()
		if r.trust.fresh(r.trust.now()) {
			return nil
		}
		if err := r.trust.refusal(refuseClosed); err != nil {
			return fmt.Errorf("%w: %w", revocation.ErrUnavailable, err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if err := r.trust.check(r.trust.now()); err != nil {
				return fmt.Errorf("%w (%w)", err, ctx.Err())
			}
			return fmt.Errorf("%w: not subscribed: %w", revocation.ErrUnavailable, ctx.Err())
		}
	}
}

// Stats returns the store's counters.
func (r *Store) Stats() Stats {
	return Stats{
		MemoryHits:      r.hits.Load(),
		Lookups:         r.lookups.Load(),
		RoundTrips:      r.trips.Load(),
		Messages:        r.messages.Load(),
		Rebuilds:        r.rebuilds.Load(),
		StaleRejections: r.stale.Load(),
		Unconfirmed:     r.unconfirmed.Load(),
		AcksSent:        r.acks.sent.Load(),
		AcksDropped:     r.acks.dropped.Load(),
		DataLosses:      r.losses.Load(),
		Restored:        r.restored.Load(),
		EvictionPolicy:  r.health.policySummary(),
		Floor:           r.floorTime(),
		Entries:         r.view.len(),
		Trusted:         r.trust.fresh(r.trust.now()),
		FreshnessAge:    time.Duration(r.trust.now() - r.trust.oldest.Load()),
	}
}

// errClosed is the refusal of a closed store.
var errClosed = errors.New("store closed")

// Close stops the store's goroutines and waits for them and for the Redis
// calls in flight, which end within the client's dial and read timeouts.
// It is idempotent and does not close the client.
func (r *Store) Close() error {
	r.once.Do(func() {
		r.trust.refuse(refuseClosed, errClosed)
		r.cancel()
		r.closeConnections(r.subs)
	})
	r.wg.Wait()
	return nil
}

// floorTime is the live floor, or zero.
func (r *Store) floorTime() time.Time {
	if f := r.floor.Load(); f != 0 && f+r.ttlMs >= r.now().UnixMilli() {
		return time.UnixMilli(f)
	}
	return time.Time{}
}

// Logger returns the store's logger (Config.Logger, or a discarding
// one). A Verifier given this store logs there unless configured
// otherwise.
func (r *Store) Logger() *slog.Logger { return r.log }

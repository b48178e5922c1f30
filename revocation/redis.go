package revocation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
)

// Defaults of [RedisConfig].
const (
	DefaultRedisPrefix     = "cognitoguard:"
	DefaultRedisTimeout    = 250 * time.Millisecond
	DefaultRedisStaleness  = time.Second
	DefaultRedisMaxEntries = 100_000
)

// maxInflight bounds the Redis reads of distinct users in flight at once; a
// Revoked call needing one more fails with ErrUnavailable.
const maxInflight = 1024

// RedisConfig holds the optional settings of [NewRedis]. Its zero value is
// the default.
type RedisConfig struct {
	// Prefix starts every key and the channel name. Default
	// [DefaultRedisPrefix] ("cognitoguard:"). It must not contain '{' or
	// '}' (the keys carry their own hash tag). Services that must honour
	// each other's sign-outs MUST share Prefix and Redis.
	Prefix string

	// TTL is how long a record lives after its time T (and the key after
	// its last change). Default [DefaultTTL] (24h5m). It MUST be at least
	// the longest token lifetime of the pools.
	TTL time.Duration

	// Timeout bounds every Redis call the store makes for a caller
	// (lookups of first-seen users, writes, publishes, SignedOutAt), even
	// if the client does not honour context deadlines
	// (redis.Options.ContextTimeoutEnabled): the caller then gets
	// ErrUnavailable at Timeout while the abandoned call ends within the
	// client's own timeouts. Default [DefaultRedisTimeout] (250ms).
	Timeout time.Duration

	// Staleness bounds how old the proof that the local view is complete
	// may be. The subscriber proves it by a pub/sub ping every Staleness/4;
	// when the last proof is older than Staleness (subscription lost, Redis
	// stopped or unreachable), Revoked fails with ErrUnavailable (fail
	// closed) until the subscription is healthy again. Default
	// [DefaultRedisStaleness] (1s).
	Staleness time.Duration

	// MaxEntries bounds the users held in the local view (an arbitrary
	// entry is evicted to make room; Redis stays authoritative, so an
	// evicted user costs one more round trip). Default
	// [DefaultRedisMaxEntries] (100 000). An entry costs about 120 bytes of
	// heap (measured for a 36-byte sub; issuers are shared), plus about 260
	// bytes if the user has revoked sessions: about 12 MB at the default.
	MaxEntries int

	// Sharded selects sharded pub/sub (SSUBSCRIBE/SPUBLISH, Redis 7). Nil
	// means automatic: sharded for a *redis.ClusterClient, classic
	// SUBSCRIBE/PUBLISH otherwise. Every instance MUST use the same mode.
	Sharded *bool

	// WaitReplicas, when positive, makes every write wait until at least
	// that many replicas of the key's master have it (Redis WAIT, sent on
	// the write's own connection, within Timeout). A write that fewer
	// replicas acknowledged is still applied and published but returned as
	// an error wrapping [ErrUnavailable] and [ErrUnconfirmed] naming the
	// count; retrying is safe.
	// Redis replicates asynchronously, so without it a Sentinel or Cluster
	// failover can lose a sign-out the old master acknowledged, and every
	// instance would accept the user's tokens again once its view is
	// rebuilt from the new master. Set it to 1 when the master has
	// replicas; leave it 0 for a master without replicas (WAIT would never
	// be satisfied). It needs a *redis.Client (standalone or Sentinel
	// failover client) or a *redis.ClusterClient. Default 0.
	WaitReplicas int

	// WaitInstances makes every write of this instance wait until every
	// instance subscribed to the channel when it was published (this one
	// included) has applied it to its view: when RevokeUser returns nil,
	// no instance answers from a view that lacks the sign-out. After the
	// sign-out message the writer publishes an acknowledgement request;
	// each instance answers it, having applied the messages before it, on
	// this instance's own channel (all instances do, whatever their own
	// setting: N messages for N instances); the writer waits, within
	// Timeout, for as many acknowledgements as PUBLISH counted receivers
	// of the request. Every instance must run a version that knows
	// requests (older ones ignore them). A shortfall is
	// returned wrapping [ErrUnavailable] and [ErrUnconfirmed], naming the
	// counts (the record is kept and published; retrying is safe). Any
	// other subscriber of the channel (a redis-cli SUBSCRIBE) counts as an
	// instance that never acknowledges. Without it, instances learn of a
	// sign-out about one pub/sub delivery later (milliseconds; bounded by
	// Staleness). Default false.
	WaitInstances bool

	// Now is the clock deciding record expiry. Default time.Now. Freshness
	// (Staleness) is measured with the monotonic clock, never with Now.
	Now func() time.Time

	// Logger receives Warn records when the view stops being trusted and
	// Info records when it is trusted again. Nil discards.
	Logger *slog.Logger
}

// RedisStats are counters of a [Redis] store since it was created.
type RedisStats struct {
	MemoryHits      uint64 // Revoked answered from the local view, without Redis
	Lookups         uint64 // Revoked calls that read Redis (first-seen users; every call while the view is rebuilt)
	RoundTrips      uint64 // Redis commands sent for callers: lookups, writes, publishes, SignedOutAt
	Messages        uint64 // sign-out messages received from pub/sub
	Rebuilds        uint64 // view resets after a resubscription (lost connection)
	StaleRejections uint64 // Revoked calls failed with ErrUnavailable because the view could be stale
	Unconfirmed     uint64 // writes recorded but returned as ErrUnconfirmed (WaitReplicas, WaitInstances)
	AcksSent        uint64 // acknowledgements published, of any writer's sign-out (see WaitInstances)
	AcksDropped     uint64 // acknowledgements dropped: queue full or publish failed
	Entries         int    // users in the local view now
	Trusted         bool   // the view is subscribed and fresh now
}

// Redis is a [Store] shared by every instance using the same Redis
// (standalone, Sentinel or Cluster, through [redis.UniversalClient]).
//
// Each user's records are one Redis hash; writes keep the latest time with
// a Lua script and publish the result. Each instance keeps a bounded local
// view of the users it has seen, kept current by pub/sub, so that Revoked
// for a known user makes no network round trip; a first-seen user costs
// one HGETALL. See the package documentation for the freshness guarantees.
//
// Redis owns two goroutines, the subscriber and the acknowledger, started
// by [NewRedis] and stopped by [Redis.Close]. It is safe for concurrent
// use.
type Redis struct {
	client    redis.UniversalClient
	prefix    string
	channel   string
	ttl       time.Duration
	ttlMs     int64
	timeout   time.Duration
	staleness time.Duration
	sharded   bool
	replicas  int
	instances bool // WaitInstances
	now       func() time.Time
	log       *slog.Logger

	view *view

	// Freshness. lastHealthy is monotonic ns since start of the last proof
	// that every sign-out published before it has reached the view.
	start       time.Time
	trusted     atomic.Bool
	lastHealthy atomic.Int64
	readyMu     sync.Mutex
	readyCh     chan struct{} // closed while trusted

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the subscriber has returned
	wg     sync.WaitGroup
	once   sync.Once
	psMu   sync.Mutex
	ps     *redis.PubSub // current subscription, guarded by psMu

	flightMu sync.Mutex
	flights  map[userKey]*flight

	id         string       // this instance's random id, naming its acknowledgement channel
	ackChannel string       // ackChannel(channel, id)
	ackQ       chan ackSend // acknowledgements to send, by the acker goroutine
	ackMu      sync.Mutex
	acks       map[string]*ackWait // this instance's writes awaiting acknowledgements, by nonce

	hits, lookups, trips, messages, rebuilds, stale atomic.Uint64
	unconfirmed, acksSent, acksDropped              atomic.Uint64
}

// ackSend is an acknowledgement to publish: nonce on channel.
type ackSend struct{ channel, nonce string }

// ackWait counts the acknowledgements of one published write.
type ackWait struct {
	got, need int64 // need is -1 until PUBLISH has answered
	done      chan struct{}
}

// ackQueue bounds the acknowledgements waiting to be sent; beyond it they
// are dropped (the publisher then reports a shortfall: safe).
const ackQueue = 1024

// flight is one HGETALL shared by the concurrent lookups of a user.
type flight struct {
	done chan struct{}
	e    entry
	err  error
}

// NewRedis returns a store using client, and starts its subscriber. It
// makes no call itself: call [Redis.Ready] to wait for the subscription.
// Until the first subscription is confirmed, and for at most Staleness,
// Revoked reads Redis directly. The caller MUST call [Redis.Close]; it does
// not close client.
func NewRedis(client redis.UniversalClient, cfg RedisConfig) (*Redis, error) {
	if client == nil {
		return nil, errors.New("revocation: nil Redis client")
	}
	r := &Redis{
		client:    client,
		prefix:    cfg.Prefix,
		ttl:       cfg.TTL,
		timeout:   cfg.Timeout,
		staleness: cfg.Staleness,
		now:       cfg.Now,
		log:       cfg.Logger,
		flights:   make(map[userKey]*flight),
		instances: cfg.WaitInstances,
		ackQ:      make(chan ackSend, ackQueue),
		acks:      make(map[string]*ackWait),
		readyCh:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	if r.prefix == "" {
		r.prefix = DefaultRedisPrefix
	}
	if strings.ContainsAny(r.prefix, "{}") {
		return nil, fmt.Errorf("revocation: Redis prefix %q contains a brace", r.prefix)
	}
	switch {
	case r.ttl == 0:
		r.ttl = DefaultTTL
	case r.ttl < time.Second:
		return nil, fmt.Errorf("revocation: TTL %v is below one second", r.ttl)
	}
	r.ttlMs = r.ttl.Milliseconds()
	switch {
	case r.timeout == 0:
		r.timeout = DefaultRedisTimeout
	case r.timeout < 0:
		return nil, errors.New("revocation: negative Timeout")
	}
	switch {
	case r.staleness == 0:
		r.staleness = DefaultRedisStaleness
	case r.staleness < 20*time.Millisecond:
		return nil, fmt.Errorf("revocation: Staleness %v is below 20ms", r.staleness)
	}
	max := cfg.MaxEntries
	switch {
	case max == 0:
		max = DefaultRedisMaxEntries
	case max < 0:
		return nil, errors.New("revocation: negative MaxEntries")
	}
	r.view = newView(max)
	switch {
	case cfg.WaitReplicas < 0:
		return nil, errors.New("revocation: negative WaitReplicas")
	case cfg.WaitReplicas > 0:
		switch client.(type) {
		case *redis.Client, *redis.ClusterClient: // standalone, Sentinel (failover), Cluster
		default:
			return nil, fmt.Errorf("revocation: WaitReplicas needs a *redis.Client or a *redis.ClusterClient, not %T", client)
		}
	}
	r.replicas = cfg.WaitReplicas
	if cfg.Sharded != nil {
		r.sharded = *cfg.Sharded
	} else {
		_, r.sharded = client.(*redis.ClusterClient)
	}
	r.channel = r.prefix + "signouts"
	r.id = rand.Text()
	r.ackChannel = ackChannel(r.channel, r.id)
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.start = time.Now()
	r.ctx, r.cancel = context.WithCancel(context.Background())
	go r.run()
	r.wg.Add(1)
	go r.acker()
	return r, nil
}

// mono is the monotonic time since r.start.
func (r *Redis) mono() int64 { return int64(time.Since(r.start)) }

// Revoked implements [cognitoguard.RevocationChecker]. For a user already
// in the view and a fresh view it is a read-locked map lookup, without
// allocation or network. Otherwise it reads Redis (bounded by Timeout), or
// fails with [ErrUnavailable] when the view may be stale.
func (r *Redis) Revoked(ctx context.Context, c *cognitoguard.Claims) (bool, error) {
	k, err := claimsKey(c)
	if err != nil {
		return false, err
	}
	if r.trusted.Load() {
		if e, ok := r.view.get(k); ok {
			r.hits.Add(1)
			return e.revoked(c, r.now, r.ttlMs), nil
		}
	}
	return r.revokedSlow(ctx, k, c)
}

func (r *Redis) revokedSlow(ctx context.Context, k userKey, c *cognitoguard.Claims) (bool, error) {
	if !r.trusted.Load() {
		if r.ctx.Err() != nil {
			return false, fmt.Errorf("%w: store closed", ErrUnavailable)
		}
		if age := time.Duration(r.mono() - r.lastHealthy.Load()); age > r.staleness {
			r.stale.Add(1)
			return false, fmt.Errorf("%w: revocation view may be stale (last proof of freshness %v ago, bound %v)",
				ErrUnavailable, age.Round(time.Millisecond), r.staleness)
		}
	}
	e, err := r.load(ctx, k)
	if err != nil {
		return false, err
	}
	return e.revoked(c, r.now, r.ttlMs), nil
}

// load reads the user's hash, sharing one read between concurrent callers,
// and caches it in the view if the view is trusted. The read runs in a
// goroutine owned by r, so that the caller gets its answer within Timeout
// whatever the client's own timeouts.
func (r *Redis) load(ctx context.Context, k userKey) (entry, error) {
	r.flightMu.Lock()
	f, ok := r.flights[k]
	if !ok {
		if len(r.flights) >= maxInflight {
			r.flightMu.Unlock()
			return entry{}, fmt.Errorf("%w: %d Redis lookups already in flight", ErrUnavailable, maxInflight)
		}
		k = userKey{strings.Clone(k.pool), strings.Clone(k.sub)}
		f = &flight{done: make(chan struct{})}
		r.flights[k] = f
		p := r.view.begin(k)
		r.lookups.Add(1)
		r.trips.Add(1)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			e, err := r.hgetall(k)
			if err != nil {
				r.view.abort(k, p)
			} else {
				e = r.view.finish(k, p, e, r.trusted.Load())
			}
			r.flightMu.Lock()
			delete(r.flights, k)
			r.flightMu.Unlock()
			f.e, f.err = e, err
			close(f.done)
		}()
	}
	r.flightMu.Unlock()
	if err := r.wait(ctx, f.done); err != nil {
		return entry{}, fmt.Errorf("%w: Redis lookup: %w", ErrUnavailable, err)
	}
	if f.err != nil {
		return entry{}, fmt.Errorf("%w: Redis lookup: %w", ErrUnavailable, f.err)
	}
	return f.e, nil
}

// wait waits for done, at most Timeout and while ctx lives.
func (r *Redis) wait(ctx context.Context, done <-chan struct{}) error {
	t := time.NewTimer(r.timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("no answer within %v", r.timeout)
	case <-ctx.Done():
		return ctx.Err()
	case <-r.ctx.Done():
		return errors.New("store closed")
	}
}

// call runs fn in a goroutine owned by r and waits for it as [Redis.wait]
// does. fn's context ends at Timeout or Close.
func (r *Redis) call(ctx context.Context, fn func(ctx context.Context) error) error {
	var err error
	done := make(chan struct{})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(done)
		cctx, cancel := context.WithTimeout(r.ctx, r.timeout)
		defer cancel()
		err = fn(cctx)
	}()
	if werr := r.wait(ctx, done); werr != nil {
		return werr
	}
	return err
}

func (r *Redis) hgetall(k userKey) (entry, error) {
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	m, err := r.client.HGetAll(ctx, r.key(k.pool, k.sub)).Result()
	if err != nil {
		return entry{}, err
	}
	var e entry
	for f, v := range m {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil || t <= 0 {
			continue // not ours
		}
		switch {
		case f == fieldUser:
			e.user = t
		case strings.HasPrefix(f, fieldSession):
			if e.sessions == nil {
				e.sessions = make(map[string]int64, len(m))
			}
			e.sessions[f[len(fieldSession):]] = t
		}
	}
	return e, nil
}

// Hash fields of a user's record.
const (
	fieldUser    = "u"  // latest user sign-out, Unix ms
	fieldSession = "s:" // + origin_jti: latest session revocation, Unix ms
)

// key is the user's hash: Prefix + "{" + hex(SHA-256(iss NUL sub)[:16]) + "}".
// The hash tag keeps every key in one slot of its own, and no issuer or sub
// can change the layout.
func (r *Redis) key(pool, sub string) string {
	h := sha256.New()
	h.Write([]byte(pool))
	h.Write([]byte{0})
	h.Write([]byte(sub))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return r.prefix + "{" + hex.EncodeToString(sum[:16]) + "}"
}

// writeScript raises a field of the user's hash to T, keeping the maximum,
// drops fields expired relative to the newest one, refreshes the key's TTL
// on change, and returns the field's resulting value.
//
// KEYS[1] user hash; ARGV[1] field; ARGV[2] T (Unix ms); ARGV[3] TTL (ms).
var writeScript = redis.NewScript(`
local t = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') or 0
if t > cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  cur = t
  local all = redis.call('HGETALL', KEYS[1])
  local newest = 0
  for i = 2, #all, 2 do
    local v = tonumber(all[i]) or 0
    if v > newest then newest = v end
  end
  for i = 1, #all, 2 do
    local v = tonumber(all[i + 1]) or 0
    if v + ttl < newest then redis.call('HDEL', KEYS[1], all[i]) end
  end
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return cur
`)

// RevokeUser implements [Store.RevokeUser]: it records the sign-out in
// Redis (keeping the latest time), applies it to the local view and
// publishes it to the other instances. Any failure, including a failed
// publish after a successful write, is returned wrapping [ErrUnavailable];
// retrying is safe.
func (r *Redis) RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error {
	t, err := checkArgs(poolID, sub, at)
	if err != nil {
		return err
	}
	return r.write(ctx, poolID, sub, "", t)
}

// RevokeSession implements [Store.RevokeSession], as [Redis.RevokeUser]
// does for a user.
func (r *Redis) RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error {
	t, err := checkArgs(poolID, sub, at)
	if err != nil {
		return err
	}
	if err := checkSession(originJTI); err != nil {
		return err
	}
	return r.write(ctx, poolID, sub, originJTI, t)
}

func (r *Redis) write(ctx context.Context, pool, sub, jti string, t int64) error {
	if t+r.ttlMs < r.now().UnixMilli() {
		return nil // already expired: every token it would reject has expired
	}
	field := fieldUser
	if jti != "" {
		field = fieldSession + jti
	}
	var res, acked int64
	r.trips.Add(1)
	err := r.call(ctx, func(ctx context.Context) error {
		var err error
		if r.replicas == 0 {
			res, err = writeScript.Run(ctx, r.client, []string{r.key(pool, sub)}, field, t, r.ttlMs).Int64()
		} else {
			res, acked, err = r.writeAndWait(ctx, r.key(pool, sub), field, t)
		}
		return err
	})
	if err != nil {
		// Redis failing a write is evidence that the view may be stale
		// too: stop answering from memory until the subscriber proves
		// Redis healthy again (the next pong), so that this instance fails
		// closed rather than keep accepting the tokens of the user whose
		// sign-out just failed.
		r.untrustAfterWriteFailure(ctx, err)
		return fmt.Errorf("%w: recording sign-out: %w", ErrUnavailable, err)
	}
	r.view.apply(userKey{pool, sub}, jti, res)
	msg := encodeMessage(pool, sub, jti, res)
	r.trips.Add(1)
	err = r.call(ctx, func(ctx context.Context) error {
		_, err := r.publish(ctx, r.channel, msg)
		return err
	})
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "revocation: sign-out recorded in Redis but not published; other instances may not see it until they reload the user",
			slog.String("error", err.Error()))
		r.untrustAfterWriteFailure(ctx, err)
		return fmt.Errorf("%w: sign-out recorded but not published (retry): %w", ErrUnavailable, err)
	}
	if acked < int64(r.replicas) {
		r.unconfirmed.Add(1)
		return fmt.Errorf("%w: %w: acknowledged by %d of %d replicas (retry)",
			ErrUnavailable, ErrUnconfirmed, acked, r.replicas)
	}
	if r.instances {
		if err := r.confirm(ctx); err != nil {
			r.unconfirmed.Add(1)
			return err
		}
	}
	return nil
}

// publish publishes msg on channel, sharded or not, and returns the
// number of subscribers that received it.
func (r *Redis) publish(ctx context.Context, channel, msg string) (int64, error) {
	if r.sharded {
		return r.client.SPublish(ctx, channel, msg).Result()
	}
	return r.client.Publish(ctx, channel, msg).Result()
}

// confirm publishes an acknowledgement request after a sign-out message
// and waits, within Timeout, until every subscriber it reached has
// acknowledged it. A subscriber processes its messages in order, so one
// that acknowledges the request has applied the sign-out published
// before it (or subscribed after the write, and reads Redis).
func (r *Redis) confirm(ctx context.Context) error {
	nonce := rand.Text()
	aw := r.expectAcks(nonce)
	defer r.dropAcks(nonce)
	var receivers int64
	r.trips.Add(1)
	err := r.call(ctx, func(ctx context.Context) error {
		var err error
		receivers, err = r.publish(ctx, r.channel, ackRequestPrefix+r.id+"."+nonce)
		return err
	})
	if err != nil {
		return fmt.Errorf("%w: %w: sign-out recorded and published, confirmation request not (retry): %w",
			ErrUnavailable, ErrUnconfirmed, err)
	}
	return r.awaitAcks(ctx, aw, receivers)
}

// expectAcks registers a write about to be published with nonce.
func (r *Redis) expectAcks(nonce string) *ackWait {
	aw := &ackWait{need: -1, done: make(chan struct{})}
	r.ackMu.Lock()
	r.acks[nonce] = aw
	r.ackMu.Unlock()
	return aw
}

func (r *Redis) dropAcks(nonce string) {
	r.ackMu.Lock()
	delete(r.acks, nonce)
	r.ackMu.Unlock()
}

// ackReceived counts an acknowledgement of nonce, if it is this
// instance's.
func (r *Redis) ackReceived(nonce string) {
	r.ackMu.Lock()
	defer r.ackMu.Unlock()
	aw := r.acks[nonce]
	if aw == nil {
		return
	}
	aw.got++
	if aw.got == aw.need {
		close(aw.done)
	}
}

// awaitAcks waits, within Timeout, until receivers instances have
// acknowledged the request registered as aw.
func (r *Redis) awaitAcks(ctx context.Context, aw *ackWait, receivers int64) error {
	r.ackMu.Lock()
	aw.need = receivers
	if aw.got >= receivers {
		r.ackMu.Unlock()
		return nil
	}
	r.ackMu.Unlock()
	err := r.wait(ctx, aw.done)
	if err == nil {
		return nil
	}
	r.ackMu.Lock()
	got := aw.got
	r.ackMu.Unlock()
	return fmt.Errorf("%w: %w: applied by %d of %d instances (retry): %w",
		ErrUnavailable, ErrUnconfirmed, got, receivers, err)
}

// acker publishes the acknowledgements queued by the subscriber, so that
// a slow publish never delays the subscriber. It returns at Close.
func (r *Redis) acker() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case a := <-r.ackQ:
			msg := ackPrefix + a.nonce
			ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
			var err error
			_, err = r.publish(ctx, a.channel, msg)
			cancel()
			if err == nil {
				r.acksSent.Add(1)
			} else {
				r.acksDropped.Add(1)
			}
			if err != nil && r.ctx.Err() == nil {
				r.log.LogAttrs(r.ctx, slog.LevelWarn, "revocation: could not acknowledge a sign-out (the publisher will report it)",
					slog.String("error", err.Error()))
			}
		}
	}
}

// writeAndWait runs writeScript and WAIT on one connection to the key's
// master, so that WAIT counts the replicas that have this write. It
// returns the script's result and the replicas acknowledging. On a Cluster whose slot moved (MOVED: the client's slot map is stale,
// as after resharding), it has the client reload its map and retries on
// the new master, within ctx.
func (r *Redis) writeAndWait(ctx context.Context, key, field string, t int64) (res, acked int64, err error) {
	cc, cluster := r.client.(*redis.ClusterClient)
	if !cluster {
		return r.writeAndWaitOn(ctx, r.client.(*redis.Client), key, field, t)
	}
	for attempt := 0; ; attempt++ {
		m, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return 0, 0, err
		}
		res, acked, err = r.writeAndWaitOn(ctx, m, key, field, t)
		addr, moved := redis.IsMovedError(err)
		if !moved || attempt == 2 {
			return res, acked, err
		}
		cc.ReloadState(ctx) // asynchronous: wait until the map names addr
		for {
			if m, err := cc.MasterForKey(ctx, key); err == nil && m.Options().Addr == addr {
				break
			}
			select {
			case <-ctx.Done():
				return 0, 0, fmt.Errorf("slot moved to %s: %w", addr, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

// writeAndWaitOn is writeAndWait on c, the client of the key's master:
// the script, then WAIT, on one connection, WAIT only if the write
// succeeded.
func (r *Redis) writeAndWaitOn(ctx context.Context, c *redis.Client, key, field string, t int64) (res, acked int64, err error) {
	conn := c.Conn()
	defer conn.Close()
	if res, err = writeScript.Run(ctx, conn, []string{key}, field, t, r.ttlMs).Int64(); err != nil {
		return 0, 0, err
	}
	// WAIT gets half the budget, so that its own answer (how many
	// replicas) arrives before the call's deadline; 0 would block forever.
	acked, err = conn.Wait(ctx, r.replicas, max(r.timeout/2, time.Millisecond)).Result()
	return res, acked, err
}

// SignedOutAt implements [Store.SignedOutAt]; it always reads Redis.
func (r *Redis) SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error) {
	var v string
	r.trips.Add(1)
	err := r.call(ctx, func(ctx context.Context) error {
		var err error
		v, err = r.client.HGet(ctx, r.key(poolID, sub), fieldUser).Result()
		if errors.Is(err, redis.Nil) {
			v, err = "", nil
		}
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%w: reading sign-out: %w", ErrUnavailable, err)
	}
	t, _ := strconv.ParseInt(v, 10, 64)
	e := entry{user: t}
	at, ok := e.signedOut(r.now().UnixMilli(), r.ttlMs)
	return at, ok, nil
}

// Message payload: version, kind, T, issuer, sub, origin_jti, separated by
// NUL (which none of them may contain). An acknowledgement request
// (WaitInstances) is ackRequestPrefix + "ID.nonce", published after the
// sign-out; the acknowledgement is ackPrefix + nonce, published on the
// requester's own channel ackChannel(channel, ID), so that it reaches the
// requester alone. Readers that predate requests ignore them (and so
// never acknowledge) but never miss a sign-out.
const (
	msgVersion       = "1"
	ackRequestPrefix = "r\x00"
	ackPrefix        = "a\x00"
	maxAckRequest    = 128
)

// ackChannel is the acknowledgement channel of instance id: its hash tag
// is the sign-out channel's name, so that on a Cluster both channels are
// in the same slot (one sharded subscription holds both).
func ackChannel(channel, id string) string { return "{" + channel + "}:ack:" + id }

func encodeMessage(iss, sub, jti string, t int64) string {
	kind := "u"
	if jti != "" {
		kind = "s"
	}
	return strings.Join([]string{msgVersion, kind, strconv.FormatInt(t, 10), iss, sub, jti}, "\x00")
}

func decodeMessage(p string) (k userKey, jti string, t int64, err error) {
	f := strings.Split(p, "\x00")
	if len(f) != 6 || f[0] != msgVersion || f[3] == "" || f[4] == "" {
		return k, "", 0, errors.New("malformed sign-out message")
	}
	t, err = strconv.ParseInt(f[2], 10, 64)
	if err != nil || t <= 0 {
		return k, "", 0, errors.New("malformed sign-out time")
	}
	switch {
	case f[1] == "u" && f[5] == "":
	case f[1] == "s" && f[5] != "":
		jti = f[5]
	default:
		return k, "", 0, errors.New("malformed sign-out kind")
	}
	return userKey{f[3], f[4]}, jti, t, nil
}

// decodeAckRequest parses the body of an acknowledgement request, "ID.nonce".
func decodeAckRequest(p string) (id, nonce string, err error) {
	id, nonce, ok := strings.Cut(p, ".")
	if !ok || id == "" || nonce == "" || len(p) > maxAckRequest || strings.ContainsAny(p, "\x00{}") {
		return "", "", errors.New("malformed acknowledgement request")
	}
	return id, nonce, nil
}

// Ready waits until the view is trusted (subscribed and fresh), or ctx
// ends, or r is closed.
func (r *Redis) Ready(ctx context.Context) error {
	for {
		r.readyMu.Lock()
		ch := r.readyCh
		r.readyMu.Unlock()
		if r.trusted.Load() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: not subscribed: %w", ErrUnavailable, ctx.Err())
		case <-r.done:
			return fmt.Errorf("%w: store closed", ErrUnavailable)
		}
	}
}

// Stats returns the store's counters.
func (r *Redis) Stats() RedisStats {
	return RedisStats{
		MemoryHits:      r.hits.Load(),
		Lookups:         r.lookups.Load(),
		RoundTrips:      r.trips.Load(),
		Messages:        r.messages.Load(),
		Rebuilds:        r.rebuilds.Load(),
		StaleRejections: r.stale.Load(),
		Unconfirmed:     r.unconfirmed.Load(),
		AcksSent:        r.acksSent.Load(),
		AcksDropped:     r.acksDropped.Load(),
		Entries:         r.view.len(),
		Trusted:         r.trusted.Load(),
	}
}

// Close stops the subscriber and waits for it and for the Redis calls in
// flight. It is idempotent and does not close the client.
func (r *Redis) Close() error {
	r.once.Do(func() {
		r.cancel()
		r.psMu.Lock()
		if r.ps != nil {
			_ = r.ps.Close()
			r.ps = nil
		}
		r.psMu.Unlock()
		r.untrust("closed")
	})
	<-r.done
	r.wg.Wait()
	return nil
}

// trust marks the view trusted and wakes Ready.
func (r *Redis) trust() {
	r.readyMu.Lock()
	defer r.readyMu.Unlock()
	if r.trusted.Load() || r.ctx.Err() != nil {
		return
	}
	r.trusted.Store(true)
	close(r.readyCh)
}

// untrust marks the view untrusted. It reports whether it was trusted.
func (r *Redis) untrust(string) bool {
	r.readyMu.Lock()
	defer r.readyMu.Unlock()
	if !r.trusted.Load() {
		return false
	}
	r.trusted.Store(false)
	r.readyCh = make(chan struct{})
	return true
}

// subscribe opens a new subscription, or returns nil once closed. The
// network part runs outside psMu, so that Close can interrupt it.
func (r *Redis) subscribe() *redis.PubSub {
	r.psMu.Lock()
	if r.ctx.Err() != nil {
		r.psMu.Unlock()
		return nil
	}
	var ps *redis.PubSub
	if r.sharded {
		ps = r.client.SSubscribe(r.ctx) // no channel yet: no network
	} else {
		ps = r.client.Subscribe(r.ctx)
	}
	r.ps = ps
	r.psMu.Unlock()
	// A failure here is seen again by ReceiveTimeout, which reconnects and
	// resubscribes (go-redis remembers the channel).
	if r.sharded {
		_ = ps.SSubscribe(r.ctx, r.channel, r.ackChannel)
	} else {
		_ = ps.Subscribe(r.ctx, r.channel, r.ackChannel)
	}
	return ps
}

func (r *Redis) closeSubscription(ps *redis.PubSub) {
	r.psMu.Lock()
	defer r.psMu.Unlock()
	if r.ps == ps {
		_ = ps.Close()
		r.ps = nil
	}
}

// run is the subscriber: it applies published sign-outs to the view and
// keeps proving the view fresh (see the package documentation).
func (r *Redis) run() {
	defer close(r.done)
	pingEvery := r.staleness / 4
	// A ping unanswered, or a subscription unconfirmed, for this long
	// means a dead connection: start a new one.
	hung := max(2*r.staleness, 4*r.timeout)
	maxBackoff := min(max(pingEvery, 10*time.Millisecond), time.Second)
	r.lastHealthy.Store(r.mono()) // grace period: direct reads until the first subscription
	first := true
	for {
		ps := r.subscribe()
		if ps == nil {
			return
		}
		opened := r.mono()
		subscribed := false
		var pingSent int64 = -1 // mono time of the unanswered ping, -1: none
		var lastPing int64
		var backoff time.Duration
	conn:
		for r.ctx.Err() == nil {
			now := r.mono()
			if subscribed && r.trusted.Load() && now-r.lastHealthy.Load() > int64(r.staleness) {
				r.untrust("stale")
				r.log.LogAttrs(r.ctx, slog.LevelWarn, "revocation: Redis pub/sub silent beyond the staleness bound; failing closed",
					slog.Duration("staleness", r.staleness))
			}
			switch {
			case subscribed && pingSent < 0 && now-lastPing >= int64(pingEvery):
				ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
				err := ps.Ping(ctx)
				cancel()
				if err != nil {
					r.lost(err)
					subscribed = false
					opened = r.mono()
					continue
				}
				pingSent, lastPing = now, now
			case subscribed && pingSent >= 0 && now-pingSent > int64(hung):
				r.log.LogAttrs(r.ctx, slog.LevelWarn, "revocation: Redis pub/sub ping unanswered; reconnecting", slog.Duration("after", hung))
				break conn
			case !subscribed && now-opened > int64(hung):
				r.log.LogAttrs(r.ctx, slog.LevelWarn, "revocation: Redis subscription unconfirmed; reconnecting", slog.Duration("after", hung))
				break conn
			}
			// Sleep until the next thing to do: ping, staleness deadline, hung check.
			wait := int64(hung)
			if subscribed {
				if pingSent < 0 {
					wait = min(wait, lastPing+int64(pingEvery)-now)
				} else {
					wait = min(wait, pingSent+int64(hung)-now)
				}
				if r.trusted.Load() {
					wait = min(wait, r.lastHealthy.Load()+int64(r.staleness)-now+1)
				}
			} else {
				wait = min(wait, opened+int64(hung)-now)
			}
			wait = max(wait, int64(time.Millisecond))
			msg, err := ps.ReceiveTimeout(r.ctx, time.Duration(wait))
			if err != nil {
				if isTimeout(err) {
					continue
				}
				if r.ctx.Err() != nil {
					break
				}
				// go-redis reconnects and resubscribes by itself; a new
				// confirmation will follow. Until then nothing is trusted.
				r.lost(err)
				subscribed, pingSent = false, -1
				opened = r.mono()
				backoff = min(2*backoff+5*time.Millisecond, maxBackoff)
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
				case <-r.ctx.Done():
					t.Stop()
				}
				continue
			}
			backoff = 0
			switch m := msg.(type) {
			case *redis.Subscription:
				switch m.Kind {
				case "subscribe", "ssubscribe":
					if m.Channel != r.channel {
						continue // the acknowledgement channel
					}
					// Everything published from now on reaches us; what was
					// published while we were away may not have: start over.
					r.view.reset()
					if !first {
						r.rebuilds.Add(1)
					}
					first = false
					subscribed, pingSent = true, -1
					lastPing = r.mono() - int64(pingEvery) // ping at once
					r.lastHealthy.Store(r.mono())
					if r.untrustedToTrusted() {
						r.log.LogAttrs(r.ctx, slog.LevelInfo, "revocation: subscribed to sign-outs; view trusted",
							slog.String("channel", r.channel), slog.Bool("sharded", r.sharded))
					}
				default: // unsubscribed by the server (slot moved, …)
					r.lost(fmt.Errorf("server sent %s", m.Kind))
					break conn
				}
			case *redis.Pong:
				if pingSent >= 0 {
					r.lastHealthy.Store(pingSent)
					pingSent = -1
					if subscribed && r.mono()-r.lastHealthy.Load() <= int64(r.staleness) && r.untrustedToTrusted() {
						r.log.LogAttrs(r.ctx, slog.LevelInfo, "revocation: Redis pub/sub answering again; view trusted")
					}
				}
			case *redis.Message:
				if m.Channel == r.ackChannel {
					if nonce, ok := strings.CutPrefix(m.Payload, ackPrefix); ok {
						r.ackReceived(nonce)
					}
					continue
				}
				if req, ok := strings.CutPrefix(m.Payload, ackRequestPrefix); ok {
					// Every message before this one is applied.
					id, nonce, err := decodeAckRequest(req)
					if err != nil {
						r.log.LogAttrs(r.ctx, slog.LevelWarn, "revocation: ignoring a message on the sign-out channel",
							slog.String("channel", m.Channel), slog.String("error", err.Error()))
						continue
					}
					select {
					case r.ackQ <- ackSend{ackChannel(r.channel, id), nonce}:
					default:
						r.acksDropped.Add(1)
						r.log.LogAttrs(r.ctx, slog.LevelWarn, "revocation: acknowledgement queue full; dropping one (the requester will report it)")
					}
					continue
				}
				r.messages.Add(1)
				k, jti, t, err := decodeMessage(m.Payload)
				if err != nil {
					r.log.LogAttrs(r.ctx, slog.LevelWarn, "revocation: ignoring a message on the sign-out channel",
						slog.String("channel", m.Channel), slog.String("error", err.Error()))
					continue
				}
				r.view.apply(k, jti, t)
			}
		}
		r.untrust("reconnect")
		r.closeSubscription(ps)
		if r.ctx.Err() != nil {
			return
		}
	}
}

// untrustedToTrusted trusts the view and reports whether it was not.
func (r *Redis) untrustedToTrusted() bool {
	was := r.trusted.Load()
	r.trust()
	return !was
}

// untrustAfterWriteFailure stops answering from the view after a failed
// write, until the subscriber's next pong or subscription.
func (r *Redis) untrustAfterWriteFailure(ctx context.Context, err error) {
	if r.untrust("write failed") {
		r.log.LogAttrs(ctx, slog.LevelWarn, "revocation: Redis write failed; reading Redis directly until it answers again",
			slog.String("error", err.Error()))
	}
}

// lost records a failure of the subscription.
func (r *Redis) lost(err error) {
	if r.untrust("lost") {
		r.log.LogAttrs(r.ctx, slog.LevelWarn, "revocation: Redis subscription lost; reading Redis directly until resubscribed",
			slog.String("error", err.Error()))
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

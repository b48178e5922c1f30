// Package redisstore is the Redis engine of the revocation [revocation.Store]
// contract: sign-outs shared by every instance using the same Redis
// (standalone, Sentinel or Cluster, through go-redis [redis.UniversalClient]).
// Package revocation states what is promised; this package documents how.
//
// # Quick start
//
//	client := redis.NewUniversalClient(&redis.UniversalOptions{
//		Addrs:                 []string{"redis:6379"},
//		ContextTimeoutEnabled: true,
//	})
//	store, err := redisstore.New(client, redisstore.Config{})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	if err := store.Ready(ctx); err != nil { // optional: wait for the subscription
//		return err
//	}
//	v, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{clientID},
//		cognitoguard.Config{Revocation: store})
//
// # Redis
//
// One hash per user, keyed by a digest of (pool ID, sub); writes keep the
// latest time with a Lua script and publish it on one of K sign-out
// channels (the user's, so that a user's messages stay in order), sharded
// pub/sub on a Cluster so the channels spread over the masters. Each
// instance holds one subscription connection per master (a Cluster's
// masters are read from its slot map; when a slot moves, the server's
// unsubscription or refusal makes the instance group its channels again),
// so its pings and connections grow with the masters, not with K. The keys,
// channels and messages are documented once, in redis_wire.go. A publish
// failure after a successful write is returned: retrying is idempotent.
//
// # Write-only
//
// A process that records sign-outs but never verifies tokens (the events
// consumer's AWS Lambda handler) sets [Config.WriteOnly]: no subscription,
// no local view, no health check, no acknowledgements, no goroutine.
// RevokeUser and RevokeSession write through the same script and publish
// the result, so the reading stores apply them at once; WaitReplicas is
// honoured; Revoked fails with [ErrWriteOnly].
//
// # Sign-out writes
//
// A sign-out is one round trip to Redis before its PUBLISH: the write
// script (with WaitReplicas, the script and WAIT on one connection). No
// read precedes it: [Store.RevokeUserSince], the retry of a sign-out,
// decides in the script whether a recorded time at or after the token's
// authentication is kept.
//
// # Local view
//
// Each [Store] instance keeps a view of the users it has seen: Revoked for
// such a user is a read-locked map lookup with no round trip and no
// allocation. A first-seen user costs one HGETALL (concurrent lookups of a
// user share it), and the answer is cached, "no record" included. The
// subscriptions apply every published sign-out to the user's entry, if
// present, keeping the maximum. The view holds at most MaxEntries users.
//
// The app-client revocations of a pool ([Store.RevokeClient]) are one hash
// of their own key kind, held by the view as one entry per pool and kept
// current the same way: the first lookup of a pool (after start or a view
// reset) reads it together with the user's record (two HGETALLs in flight
// at once), and then a lookup of a known user stays free of round trips
// and allocations whatever the pool's clients.
//
// # Freshness and failure
//
// The view is only as fresh as the subscriptions. Each subscription pings
// every Staleness/4 and counts a pong as proof that every sign-out
// published before its ping has been applied. Every lookup compares the
// oldest proof across subscriptions with the monotonic clock: the view
// answers only while that proof is younger than Staleness (default 1s),
// whatever a subscription goroutine is blocked in.
//
//   - Past Staleness without proof (Redis stopped, network partition, a
//     reconnect hanging), Revoked fails with [revocation.ErrUnavailable] for every
//     user, without trying Redis; the Verifier answers 503 (fail closed).
//     A later pong restores trust.
//   - When a subscription breaks (connection lost, failover, a shard
//     unsubscribing us), the view is no longer trusted; go-redis
//     reconnects and resubscribes, and on the confirmation the view is
//     cleared, since sign-outs may have been published in the gap, and
//     trusted again; it is rebuilt lazily. A ping unanswered, or a
//     subscription unconfirmed, for max(2×Staleness, 4×Timeout) starts a
//     new connection.
//   - While not trusted but within Staleness of the last proof (just after
//     a break, or at start-up), Revoked reads Redis directly, uncached.
//   - A Redis call that fails or exceeds Timeout (default 250ms) fails with
//     [revocation.ErrUnavailable]. A failed sign-out write withdraws trust until the
//     next proof, so the instance that could not record a sign-out fails
//     closed rather than keep accepting that user's tokens from memory.
//
// Sign-outs reach other instances one Redis write and one pub/sub
// delivery after the writer returns (BENCHMARKS.md). With
// [Config.WaitInstances] the sign-out message carries a request for
// acknowledgements, and the writer waits until as many instances as
// PUBLISH reached, and at least as many as are live, have acknowledged
// applying it: when RevokeUser returns nil, no instance answers from a
// view without it. Live means an entry in a set of instances in Redis
// that each reading store's health check refreshes, lapsing by Redis's
// clock 2×2 s + 4×Timeout + Staleness after its last refresh and removed
// by Close. An instance answers from its view only until Staleness before
// its entry would lapse, counted from the start of its last successful
// health check: one whose health checks keep failing reads Redis instead,
// even while its subscriptions look alive, so it is never uncounted while
// it answers from memory. An instance whose subscription Redis dropped
// without it noticing is not reached by PUBLISH, but is live, so the
// sign-out is a shortfall rather than a success while that instance
// answers "not revoked". Counting them costs the writer one more round trip. The
// price: one silent subscriber, or one instance killed
// without Close, makes every sign-out fail, recorded, until Redis drops
// it or its entry lapses; the failure is loud, never silent.
//
// # Replicas and failover
//
// Redis replicates asynchronously: a master (standalone with replicas,
// Sentinel, Cluster) acknowledges a write before any replica has it, so a
// failover right after a sign-out can promote a replica without it, and
// every instance, rebuilding its view from the new master, would accept
// the user's tokens again. With [Config.WaitReplicas] set to 1 (or
// more), each write is followed by WAIT on the same connection (the
// master of the user's slot on a Cluster), and the sign-out succeeds only
// once that many replicas hold it; a shortfall is returned wrapping
// [revocation.ErrUnavailable] (the record stays on the master, in the local view and
// published; retrying is safe). WAIT does not make Redis strongly
// consistent: with several replicas, Sentinel may promote one that had not
// acknowledged; WaitReplicas equal to the replica count closes that too,
// at the price of failing sign-outs while a replica is down.
//
// A failover itself is handled like any broken subscription: the instances
// fail closed, follow the client to the new master, clear their views and
// trust again (BENCHMARKS.md has the measured times).
//
// # What Redis must keep
//
// Redis must keep every record until it expires. A health goroutine reads
// INFO memory and a data-loss marker on every master at start, on every
// resubscription and every 2 s:
//
//   - A master that may evict keys (maxmemory set, maxmemory-policy not
//     noeviction) is refused: lookups fail with [revocation.ErrUnavailable]
//     naming maxmemory-policy, writes are attempted and returned wrapping
//     [revocation.ErrUnconfirmed], unless [Config.AllowEviction]. With INFO
//     refused (an ACL) the policy is read with CONFIG GET; if neither
//     answers, the master is refused the same way unless
//     [Config.TrustUnverifiedEviction] ([Stats.EvictionPolicy] "unknown").
//     A write made before the first check waits for it, within Timeout,
//     and is otherwise unconfirmed.
//   - A marker absent or of a new generation means the master lost its
//     data. The store fails closed, drops its view, re-writes and publishes the sign-outs
//     it received within the TTL and read back from Redis (its journal, bounded by
//     MaxEntries; see Security) and, unless that
//     journal provably holds every live sign-out, records a floor on every
//     master: every token authenticated at or before the loss is rejected,
//     by every instance, including those started later
//     ([Stats.Floor]). SECURITY.md lists what a marker cannot see.
//
// # Goroutines
//
// [New] starts one goroutine per subscription (one; on a Cluster one
// per master; K with another sharded client) and their supervisor, the
// acknowledger, the journal's verifier and the health check. Redis calls made for a caller run
// in short-lived goroutines owned by the store, so the caller gets its
// answer within Timeout even if the client ignores context deadlines.
// [Store.Close] stops them all and waits for them, within the client's dial
// and read timeouts (NewRedis refuses unbounded ones); it does not close
// the client.
//
// # Security
//
// Redis is trusted (see package revocation): whoever can write its keys
// can revoke anyone or delete records. Pub/sub messages are
// unauthenticated, raise-only notices with bounded authority: a time more
// than [revocation.MaxAhead] past the receiver's clock, a field over 1 KiB
// or a longer message is ignored and counted ([Stats.Ignored]); a
// requester counts acknowledgements on its own channels only, once per
// responder. A message is applied to the view at once (raise-only, so a
// forged one can only sign a user out, within those bounds) but is a hint
// for the journal: a goroutine re-reads the user's field from Redis and
// journals the time Redis returned, so a time Redis never held (a forged
// PUBLISH) is never restored into Redis after a data loss. A message
// whose time Redis does not hold is counted ([Stats.Unheld]) and logged,
// and, like a re-read that fails, a full queue, or messages still
// waiting, makes the journal incomplete: a loss then is healed with a
// floor. The price: one HGET per sign-out per instance, pipelined. Pool ID, sub and origin_jti are hashed or NUL-delimited,
// never interpreted. SECURITY.md says who may hold which Redis rights.
package redisstore

// Package revocation honours Amazon Cognito sign-outs in a
// [cognitoguard.Verifier]. Cognito's GlobalSignOut, AdminUserGlobalSignOut
// and RevokeToken revoke refresh tokens, but every API other than Cognito's
// own keeps accepting the access and ID tokens already issued until they
// expire (up to a day). A [Store] records the sign-outs and answers the
// Verifier's question "was this token revoked?" on every request.
//
// # Quick start
//
// One instance (or tests): the in-process store.
//
//	store := revocation.NewMemory(revocation.MemoryConfig{})
//	v, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{clientID},
//		cognitoguard.Config{Revocation: store})
//
// Several instances: share sign-outs through Redis (standalone, Sentinel or
// Cluster).
//
//	client := redis.NewUniversalClient(&redis.UniversalOptions{
//		Addrs:                 []string{"redis:6379"},
//		ContextTimeoutEnabled: true,
//	})
//	store, err := revocation.NewRedis(client, revocation.RedisConfig{})
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
// A sign-out is recorded with [Store.RevokeUser] (or [Store.RevokeSession]);
// the sign-out helper of package signout does it before calling Cognito.
//
// # Rule
//
// A sign-out of user sub of pool iss at time T rejects every token of that
// user, access and ID alike, refreshed ones included, whose authentication
// time ([cognitoguard.Claims.AuthenticatedAt]: auth_time, or iat when
// absent) is at or before T. A later sign-in passes. T is kept in
// milliseconds and auth_time is whole seconds, so the test is
// auth_time*1000 <= T: a new sign-in within the second of the sign-out is
// rejected too (fail closed). A session revocation rejects the tokens whose
// origin_jti is the revoked one (and whose auth_time is at or before its T);
// tokens without origin_jti are unaffected by it. Users of different
// issuers are distinct. Writes keep the latest T: a stale or retried write
// never lowers it. A record expires TTL after its T (default [DefaultTTL],
// 24h5m, longer than any Cognito token lives).
//
// # Memory
//
// [Memory] is a map under a read-write lock; Revoked does not allocate and
// does no I/O. It owns no goroutine: expired records are purged by writes
// (at most every TTL/8, and whenever the store is full). It holds at most
// MaxEntries records; when full of live records, RevokeUser fails with
// [ErrUnavailable] rather than forget a sign-out.
//
// # Redis layout
//
// One hash per user, at Prefix + "{" + hex(SHA-256(iss NUL sub)[:16]) + "}"
// (default prefix "cognitoguard:"): no issuer or sub can change the layout,
// every command touches one key, and the hash tag (the digest) spreads users
// over Cluster slots. Field "u" holds the latest user sign-out, field
// "s:"+origin_jti each revoked session, as Unix milliseconds, so one HGETALL
// answers everything about a user. A Lua script raises a field to max(old,
// T) atomically, drops fields older than the newest minus TTL, refreshes
// the key's TTL (PEXPIRE TTL) on change, and returns the resulting value.
// That value is then published on channel Prefix + "signouts" as
// "1 NUL kind NUL T NUL iss NUL sub NUL origin_jti" (kind "u" or "s"). A
// writer with WaitInstances then publishes "r NUL id.nonce"; every
// instance, having applied what came before, answers "a NUL nonce" on the
// writer's own channel "{" + Prefix + "signouts}:ack:" + id, whose hash
// tag puts it in the sign-out channel's Cluster slot. Both go out with
// SPUBLISH for a *redis.ClusterClient (sharded pub/sub, Redis 7) and
// PUBLISH otherwise ([RedisConfig.Sharded] overrides). A publish failure
// after a successful write is returned: the caller retries, which is
// idempotent.
//
// # Local view
//
// Each [Redis] instance keeps a view of the users it has seen: Revoked for
// such a user is a read-locked map lookup with no round trip and no
// allocation. A first-seen user costs one HGETALL (concurrent lookups of a
// user share it), and the answer is cached, "no record" included. The
// subscriber applies every published sign-out to the user's entry, if
// present, keeping the maximum. The view holds at most MaxEntries users
// (an arbitrary one is evicted to make room; an evicted user costs one
// more HGETALL): about 120 bytes per user, about 12 MB at the default.
//
// # Freshness and failure
//
// The view is only as fresh as the subscription. The subscriber goroutine
// subscribes before the view is used, pings on the subscription every
// Staleness/4, and counts a pong as proof that every sign-out published
// before its ping has been applied. The view is trusted while the last
// proof is at most Staleness old (default 1s):
//
//   - When Staleness passes without proof (Redis stopped, network
//     partition), Revoked fails with [ErrUnavailable] for every user,
//     without trying Redis; the Verifier answers 503 (fail closed). A later
//     pong on the same connection restores trust (nothing was lost on it).
//   - When the subscription breaks (connection lost, CLIENT KILL, failover,
//     a shard unsubscribing us), the view is no longer trusted; go-redis
//     reconnects and resubscribes, and on the subscription's confirmation
//     the view is cleared, since sign-outs may have been published in the
//     gap, and trusted again; it is rebuilt lazily, one HGETALL per user.
//     A ping unanswered, or a subscription unconfirmed, for max(2×Staleness,
//     4×Timeout) makes the subscriber start a new connection.
//   - While not trusted but within Staleness of the last proof (just after
//     a break, or at start-up before the first confirmation), Revoked reads
//     Redis directly for every call, without caching.
//   - A Redis call that fails or takes longer than Timeout (default 250ms)
//     fails the call with [ErrUnavailable]. A failed sign-out write also
//     withdraws trust at once (until the next pong): the instance that
//     could not record a sign-out reads Redis directly, and so fails closed,
//     rather than keep accepting that user's tokens from memory.
//   - The hot path reads a trust flag, not the clock (time.Now costs ~75 ns
//     on small VMs); the subscriber withdraws trust on its own timer when
//     Staleness passes without proof, so under extreme scheduling delay the
//     bound can be exceeded by that delay.
//
// Sign-outs reach other instances in about the time of one Redis write and
// one pub/sub delivery (measured on loopback: p50 ≈ 1.3 ms, p99 ≈ 5 ms),
// after the writer has returned. [RedisConfig.WaitInstances] closes that
// window: the writer waits until as many instances as PUBLISH reached
// have acknowledged applying the message (one more round trip and
// delivery; each instance sends its acknowledgements from a goroutine of
// its own, with a bounded queue, to the writer's channel alone: N
// messages for N instances), so that when RevokeUser returns nil no
// instance subscribed at the time answers from a view without it; an
// instance not subscribed then is not trusting its view (see above). The
// price: one silent subscriber (an instance frozen but still connected,
// or any other client subscribed to the channel) makes every sign-out
// fail, recorded, until Redis drops it; the failure is loud, never silent.
//
// # Replicas and failover
//
// Redis replicates asynchronously: a master (standalone with replicas,
// Sentinel, Cluster) acknowledges a write before any replica has it, so a
// failover right after a sign-out can promote a replica without it, and
// every instance, rebuilding its view from the new master, would accept
// the user's tokens again. With [RedisConfig.WaitReplicas] set to 1 (or
// more), each write is followed by WAIT on the same connection (the
// master of the user's slot on a Cluster), and the sign-out succeeds only
// once that many replicas hold it; a shortfall is returned wrapping
// [ErrUnavailable] (the record stays on the master, in the local view and
// published; retrying is safe). WAIT does not make Redis strongly
// consistent: with several replicas, Sentinel may promote one that had not
// acknowledged; WaitReplicas equal to the replica count closes that too,
// at the price of failing sign-outs while a replica is down.
//
// A failover itself is handled like any broken subscription: the instances
// fail closed, follow the client to the new master, clear their views and
// trust again. Measured with a Sentinel (down-after-milliseconds 500,
// TestRedisServerSentinelFailover): both instances trusted again about 0.7 s after
// the master was killed, the sign-out recorded before it still honoured.
//
// # Goroutines
//
// [NewRedis] starts two goroutines, the subscriber and the acknowledger
// (which publishes the acknowledgements the subscriber queues). Redis
// calls made for a caller run in short-lived goroutines owned by the
// store, so the caller
// gets its answer within Timeout even if the client ignores context
// deadlines (set redis.Options.ContextTimeoutEnabled so that abandoned
// calls end at Timeout too). [Redis.Close] stops both goroutines and waits
// for all of them; it does not close the client.
//
// # Security
//
// Redis is trusted: whoever can write to it can revoke anyone (harmless) or
// delete records (un-revoking users). Messages on the channel can only
// raise times, never lower them, and are ignored when malformed. Issuer,
// sub and origin_jti are hashed or length-delimited, never interpreted.
package revocation

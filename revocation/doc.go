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
// Several instances share sign-outs through Redis with the store of
// package [github.com/cognitoguard/cognitoguard/revocation/redisstore],
// which implements the same [Store] contract.
//
// A sign-out is recorded with [Store.RevokeUser] (or [Store.RevokeSession]);
// the sign-out helper of package signout does it before calling Cognito.
//
// # Rule
//
// A sign-out of user sub of user pool P (its ID, [cognitoguard.Claims.UserPoolID])
// at time T rejects every token of that user from any issuer of P, access
// and ID alike, refreshed ones included, whose authentication
// time ([cognitoguard.Claims.AuthenticatedAt]: auth_time, or iat when
// absent) is at or before T. A later sign-in passes. T is kept in
// milliseconds and auth_time is whole seconds, so the test is
// auth_time*1000 <= T: a new sign-in within the second of the sign-out is
// rejected too (fail closed). A session revocation rejects the tokens whose
// origin_jti is the revoked one (and whose auth_time is at or before its T);
// tokens without origin_jti are unaffected by it. Users of different
// pools are distinct. Writes keep the latest T: a stale or retried write
// never lowers it. A record expires TTL after its T (default [DefaultTTL],
// 24h5m, longer than any Cognito token lives).
//
// # App clients (M2M)
//
// A client-credentials (machine-to-machine) access token has sub =
// client_id and no username, and Cognito has no call that revokes an app
// client's tokens: after a leaked or rotated client secret, every token
// already issued stays valid for up to a day. [Store.RevokeClient]
// records a revocation of (P, client_id, T): every token issued to that
// client (client_id of an access token, aud of an ID token) whose iat is
// at or before T is rejected. iat, not auth_time: a client-credentials
// token has no auth_time, and the revocation is of what the client was
// issued. It covers the tokens of users signed in through that client too
// (a user token issued before T, whatever its auth_time); a user token
// refreshed after T passes — revoke the users, or the refresh tokens in
// Cognito, to end those sessions. Latest T wins; the record expires after
// TTL like the others, and is kept apart from the users (a user whose sub
// equals a client ID is not affected). The record exists only in the
// store: no Cognito call logs it, so no CloudTrail event can restore it
// after a data loss (the Redis store restores it from its instances'
// journals like any sign-out, or its data-loss floor covers it).
//
// # What fails closed
//
// A store that cannot answer, or cannot be sure its answer holds every
// sign-out recorded (Redis unreachable, a view possibly stale, Redis that
// lost or may evict records), fails with [ErrUnavailable]; the Verifier
// answers 503 and never lets the token through. A write that could not be
// recorded fails with [ErrUnavailable] too; one recorded but not confirmed
// as the store was configured to confirm it (replicas, instances) fails
// with [ErrUnconfirmed] as well. Retrying a write is always safe.
//
// # Memory
//
// [Memory] is a map under a read-write lock; Revoked does not allocate and
// does no I/O. It owns no goroutine: expired records are purged by writes
// (at most every TTL/8, and whenever the store is full). It holds at most
// MaxEntries records; when full of live records, RevokeUser fails with
// [ErrUnavailable] rather than forget a sign-out.
//
// # Security
//
// Whoever can write to the shared store can revoke anyone (harmless) or
// delete records (un-revoking users): it is trusted. Pool ID, sub and
// origin_jti are never interpreted. SECURITY.md has the threat model.
package revocation

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

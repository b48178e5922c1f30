// Package revocation honours Amazon Cognito sign-outs in a
// [cognitoguard.Verifier]: it records that a user signed out (or that one
// session was revoked) and rejects the tokens issued before, which Cognito
// itself keeps accepting everywhere but in its own APIs until they expire.
//
// # Stores
//
// [Memory] serves a single process. [Redis] shares sign-outs between every
// instance using the same Redis (standalone, Sentinel or Cluster).
//
// # Rule
//
// A sign-out of user sub of pool iss at time T rejects every token of that
// user, access and ID alike, whose authentication time (auth_time, or iat when
// absent) is at or before T. A later sign-in passes. A session revocation
// rejects the tokens carrying its origin_jti. Records expire TTL after T
// (default 24h5m, longer than any Cognito token lives).
package revocation

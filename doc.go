// Package cognitoguard verifies Amazon Cognito access and ID tokens and
// rejects the tokens of users who signed out.
//
// Cognito's GlobalSignOut and AdminUserGlobalSignOut revoke refresh tokens,
// but the user's access and ID tokens stay valid for every other API until
// they expire (up to a day). A [Verifier] checks tokens locally against the
// pool's keys and, through a [RevocationChecker] (package revocation),
// rejects every token whose authentication (auth_time, else iat) is at or
// before the user's last sign-out.
//
// This package is the transport-agnostic core: [Verifier.Verify] serves
// HTTP middleware (package middleware), gRPC interceptors, queue consumers
// and WebSocket handshakes alike.
//
// # Quick start
//
//	v, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{"my-app-client-id"}, cognitoguard.Config{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	claims, err := v.Verify(ctx, token)
//	switch {
//	case errors.Is(err, cognitoguard.ErrUnavailable):
//		// keys or revocation store unreachable: 503, retry later
//	case err != nil:
//		// bad token: 401 (or 403 for ErrInsufficientScope)
//	default:
//		fmt.Println(claims.Subject, claims.Username, claims.Scopes)
//	}
//
// # What is checked
//
// A token is accepted only when all of these hold, in this order:
//
//   - at most [Config.MaxTokenSize] bytes (16 KiB), a compact JWS of three
//     base64url segments, header and payload JSON objects without duplicate
//     known members, header alg exactly RS256 (the allow-list is fixed),
//     a kid, no crit;
//   - iss equal to an issuer of a configured [Pool] (never derived from
//     the token);
//   - an RS256 signature by the key named by kid in that issuer's JWKS;
//   - token_use as configured (access by default);
//   - client_id (access tokens) or aud (ID tokens) among the pool's
//     allowed clients;
//   - exp present and in the future, nbf, iat and auth_time not in the
//     future, each with [Config.Leeway] (default 0) against [Config.Now];
//     auth_time not after iat;
//   - the required scopes (all of them) and groups (any of them), then
//     [Config.Check];
//   - not revoked according to [Config.Revocation].
//
// Each failure is an [*Error] whose Kind is one of the sentinels
// ([ErrMalformed], [ErrSignature], [ErrExpired], …) and which matches its
// class ([ErrInvalidToken], [ErrInsufficientScope], [ErrUnavailable],
// [ErrNoToken]) with errors.Is. [Class] maps any error to its class.
//
// # Pools and issuers
//
// A user is identified by (user pool ID, sub). Cognito mints a pool's
// tokens under several issuers: the original format
// (https://cognito-idp.{region}.amazonaws.com/{pool}), the updated format
// (https://issuer-cognito-idp.{region}.amazonaws.com/{pool}) and, with
// multi-Region replication, the original format of each replica region.
// [NewVerifier] accepts the home region's two; [Pool.Regions] adds
// replicas; [Pool.Issuers] replaces them (emulators, tests). Every verified
// [Claims] carries the configured [Claims.UserPoolID], so a sign-out
// recorded through one issuer rejects the user's tokens of all of them.
// [PoolRegion] and [DefaultIssuers] are the one place that derives a
// region and issuers from a pool ID.
//
// # Partitions
//
// The hosts above end in the DNS suffix of the pool's AWS partition:
// amazonaws.com (commercial and GovCloud), amazonaws.com.cn (China),
// amazonaws.eu (European Sovereign Cloud, pool IDs such as
// "eusc-de-east-1_AbC"), and those of the ISO partitions.
// [RegionPartition] reads a table generated from the partition data of the
// AWS SDK for Go v2 (region patterns and DNS suffixes); a test keeps it
// equal to the SDK version in go.mod. The European Sovereign Cloud's
// Cognito hosts (https://cognito-idp.eusc-de-east-1.amazonaws.eu/{pool}
// and its issuer-cognito-idp twin) are derived from that data and are
// unverified: no token from a live pool there has been checked. The same
// holds for the updated format outside the commercial partition. Where a
// pool's tokens name another issuer, list it in [Pool.Issuers].
//
// # Time
//
// NumericDates must be whole, non-negative seconds (Cognito writes no
// other kind); a fraction, an exponent or a string is [ErrMalformed].
//
// # Caching
//
// A verified token is remembered (bounded by [Config.CacheSize] entries
// and by bytes), so that a repeat token costs a map lookup, not an RSA
// verification. The cache is keyed by the whole token string; every hit is
// checked again for expiry, authorization and revocation, so a sign-out
// takes effect on cached tokens at once, and its key must still be served
// by the issuer's key source (a key that left the JWKS takes its cached
// tokens with it).
//
// # Operations
//
// [Verifier.Ready] and [Verifier.WarmUp] tell when a service can verify
// (each pool's home issuer's keys loaded, the revocation store trusted);
// [Config.OnVerify] feeds metrics and traces; [Config.Logger] is the
// logger of the Verifier and of the adapters built on it.
//
// # Concurrency
//
// A Verifier is safe for concurrent use by any number of goroutines. It
// starts no goroutine of its own; [Verifier.Close] releases its key
// fetchers.
//
// # Constructors: error or panic
//
// One rule holds across the module. A constructor whose inputs come from
// deployment configuration (pool and client IDs, issuers, URLs, ARNs,
// Redis clients, flags) validates them and returns an error: [New],
// [NewVerifier], jwks.New, alb.NewVerifier, revocation.NewRedis,
// signout.New, forwardauth.New. An adapter that wraps a component already
// built (middleware.New and its Require functions,
// middleware.NewReadyHandler, alb.NewMiddleware, signout.NewLogoutHandler
// and NewAdminHandler, the grpcguard module's New) panics, at wiring time,
// on what only the program's own code can get wrong: a nil component or
// an impossible literal (an empty group name, a negative size). Such
// adapters then compose inline, as net/http's own wrappers do.
package cognitoguard

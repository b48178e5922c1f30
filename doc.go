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
//   - iss equal to a configured issuer (never derived from the token);
//   - an RS256 signature by the key named by kid in that issuer's JWKS;
//   - token_use as configured (access by default);
//   - client_id (access tokens) or aud (ID tokens) among the pool's
//     allowed clients;
//   - exp present and in the future, nbf and iat not in the future, each
//     with [Config.Leeway] (default 0) against [Config.Now];
//   - the required scopes (all of them) and groups (any of them), then
//     [Config.Check];
//   - not revoked according to [Config.Revocation].
//
// Each failure is an [*Error] whose Kind is one of the sentinels
// ([ErrMalformed], [ErrSignature], [ErrExpired], …) and which matches its
// class ([ErrInvalidToken], [ErrInsufficientScope], [ErrUnavailable],
// [ErrNoToken]) with errors.Is. [Class] maps any error to its class.
//
// # Time
//
// NumericDates must be whole, non-negative seconds (Cognito writes no
// other kind); a fraction, an exponent or a string is [ErrMalformed].
//
// # Caching
//
// A verified token is remembered (bounded, [Config.CacheSize] entries of
// about 2 KiB each), so that a repeat token costs a map lookup, not an RSA
// verification. The cache is keyed by the whole token string; every hit is
// checked again for expiry, authorization and revocation, so a sign-out
// takes effect on cached tokens at once.
//
// # Concurrency
//
// A Verifier is safe for concurrent use by any number of goroutines. It
// starts no goroutine of its own; [Verifier.Close] releases its key
// fetchers.
package cognitoguard

// Package grpcguard brings cognitoguard to gRPC servers: unary and stream
// server interceptors that verify the Cognito token of every call with the
// same rules, the same revocation store and the same sign-outs as the
// net/http middleware.
//
// It is a separate Go module (github.com/cognitoguard/cognitoguard/grpcguard)
// so that google.golang.org/grpc never reaches the main module's
// dependencies.
//
// # Quick start
//
//	v, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{"client-id"},
//		cognitoguard.Config{Revocation: store})
//	if err != nil {
//		return err
//	}
//	g := grpcguard.New(v, grpcguard.Config{})
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(g.Unary),
//		grpc.ChainStreamInterceptor(g.Stream),
//	)
//
// Handlers read the claims with [cognitoguard.FromContext] (for streams,
// from the stream's Context). Clients send the access token as the
// metadata "authorization: Bearer <token>", read by [BearerToken] under
// the one bearer grammar of the HTTP middleware: one value, the scheme in
// any case, RFC 6750 b64token characters. The module imports neither
// net/http nor the middleware.
//
// # Statuses
//
// A rejected call never reaches its handler; the status carries fixed
// text, never the token nor the error's own text (that goes to
// [Config.Logger]):
//
//	no token, invalid, expired, revoked      codes.Unauthenticated
//	required scope or group missing          codes.PermissionDenied
//	keys or revocation store unreachable     codes.Unavailable (fail closed)
//
// # Streams
//
// A stream is verified when it opens, and again as messages flow in both
// directions: before a received message reaches the handler and before a
// sent message leaves, the token's expiry is checked, and the whole
// verification — revocation included — runs again at most every
// [Config.RecheckInterval] (default 100 ms; negative: every message). The
// cognitoguard Verifier caches verified tokens and its stores answer from
// memory, so a re-check costs a map lookup or two. Once a check fails the
// stream is done: that message and every later one fail with the status
// above, and the handler's context is cancelled. A sign-out therefore
// stops an open stream at its first message after RecheckInterval, on
// every server sharing the store; a stream on which no message flows holds
// no data to protect and ends with its handler.
package grpcguard

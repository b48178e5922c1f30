// Package connectguard brings cognitoguard to Connect RPC servers
// (connectrpc.com/connect): one interceptor that verifies the Cognito
// token of every unary call and stream with the same rules, the same
// revocation store and the same sign-outs as the net/http middleware and
// package grpcguard. It serves the Connect, gRPC and gRPC-Web protocols
// alike.
//
// It is a separate Go module (github.com/cognitoguard/cognitoguard/connectguard)
// so that connect and protobuf never reach the main module's dependencies.
//
// # Quick start
//
//	v, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{"client-id"},
//		cognitoguard.Config{Revocation: store})
//	if err != nil {
//		return err
//	}
//	guard := connectguard.New(v, connectguard.Config{})
//	path, handler := greetv1connect.NewGreetServiceHandler(svc, connect.WithInterceptors(guard))
//	mux.Handle(path, handler)
//
// Handlers read the claims with [cognitoguard.FromContext]. Clients send the
// access token in the header "Authorization: Bearer <token>", read under
// the rules of middleware.BearerToken: one header, the scheme in any case.
// The interceptor does nothing on the client side: installed on a client,
// it lets every call through unchanged.
//
// # Errors
//
// A rejected call never reaches its handler; the error carries fixed text,
// never the token nor the verification error's own text (that goes to
// [Config.Logger]):
//
//	no token, invalid, expired, revoked      connect.CodeUnauthenticated
//	required scope or group missing          connect.CodePermissionDenied
//	keys or revocation store unreachable     connect.CodeUnavailable (fail closed)
//
// # Streams
//
// A stream is verified when it opens, and again as messages flow in both
// directions: before a received message reaches the handler and before a
// sent message leaves, the token's expiry is checked, and the whole
// verification — revocation included — runs again when at least
// [Config.RecheckInterval] (default 100 ms; negative: every message) has
// passed on the monotonic clock since the last one. The cognitoguard
// Verifier caches verified tokens and its stores answer from memory, so a
// re-check costs a map lookup or two. Once a check fails the stream is
// done: that message is neither delivered nor sent, every later Receive
// and Send fails with the same error, the handler's context is cancelled,
// and the stream ends with that error — CodeUnauthenticated for a
// sign-out — whatever the handler returns. A sign-out therefore stops an
// open stream at its first message after RecheckInterval plus the time
// the store takes to learn of it, on every server sharing the store; a
// stream on which no message flows holds no data to protect and ends with
// its handler.
package connectguard

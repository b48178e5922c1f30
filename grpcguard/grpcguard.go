package grpcguard

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/bearer"
	"github.com/cognitoguard/cognitoguard/internal/logs"
	"github.com/cognitoguard/cognitoguard/internal/recheck"
	"github.com/cognitoguard/cognitoguard/internal/wording"
)

// Verifier checks a token and returns its claims. [*cognitoguard.Verifier]
// implements it. Implementations MUST be safe for concurrent use and MUST
// return errors matching the sentinels of package cognitoguard (any other
// error is answered codes.Unavailable). Streams call Verify again with the
// same token as messages flow, so it SHOULD be cheap for a token it has
// seen (the cognitoguard Verifier caches verified tokens).
type Verifier interface {
	Verify(ctx context.Context, token string) (*cognitoguard.Claims, error)
}

var _ Verifier = (*cognitoguard.Verifier)(nil)

// DefaultRecheckInterval is the default [Config.RecheckInterval].
const DefaultRecheckInterval = recheck.DefaultInterval

// Config holds the optional settings of [New]. Its zero value re-checks
// streams at most every [DefaultRecheckInterval] and logs where the
// Verifier logs.
type Config struct {
	// RecheckInterval rate-limits the re-verification of a stream's token:
	// before a message passes (received or sent), the token is verified
	// again — revocation included — when at least RecheckInterval has
	// passed since the last check. Expiry is checked on every message
	// regardless. Default (zero) [DefaultRecheckInterval]; negative
	// re-verifies on every message. A sign-out thus stops an open stream
	// at its first message after RecheckInterval plus the time the store
	// takes to learn of it.
	RecheckInterval time.Duration

	// Now is the clock of the expiry check. Default time.Now. Keep it the
	// Verifier's clock. RecheckInterval is measured on the monotonic
	// clock instead, so that a wall clock stepped back does not stretch
	// it.
	Now func() time.Time

	// Logger receives a Debug record for every rejection (method, class,
	// kind and reason of the error, never the token) and a Warn record
	// when verification is unavailable (with the error text, which comes
	// from the key source or revocation store). Nil: the Verifier's
	// logger when it has a Logger method (as
	// [cognitoguard.Verifier.Logger]), else nothing is logged.
	Logger *slog.Logger
}

// Guard holds the interceptors built by [New]. It is safe for concurrent
// use.
type Guard struct {
	v      Verifier
	policy recheck.Policy
	log    *slog.Logger
}

// New returns a Guard that lets calls through only with a token v
// accepts. It panics if v is nil. Install both interceptors:
//
//	g := grpcguard.New(v, grpcguard.Config{})
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(g.Unary),
//		grpc.ChainStreamInterceptor(g.Stream),
//	)
func New(v Verifier, cfg Config) *Guard {
	if v == nil {
		panic("grpcguard: New: nil Verifier")
	}
	return &Guard{v: v, policy: recheck.NewPolicy(v, cfg.RecheckInterval, cfg.Now), log: logs.Of(cfg.Logger, v)}
}

// Unary is a grpc.UnaryServerInterceptor. It reads the token with
// [BearerToken], verifies it and calls handler with a context carrying the
// claims ([cognitoguard.FromContext] finds them); otherwise handler is not
// called and the call fails with the status of [Status].
func (g *Guard) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	_, c, err := g.verify(ctx)
	if err != nil {
		return nil, g.reject(ctx, info.FullMethod, err)
	}
	return handler(cognitoguard.NewContext(ctx, c), req)
}

// Stream is a grpc.StreamServerInterceptor. It verifies the token like
// [Guard.Unary] before calling handler, whose stream's Context carries the
// claims. Then, as long as the stream lives, every message received or sent
// is preceded by a check: the token's expiry every time, and a full
// re-verification (revocation included) at most every
// [Config.RecheckInterval]. Once a check fails, that message and every later
// one fail with the status of [Status] (the message is neither delivered
// to the handler nor sent), the handler's stream context is cancelled, and
// the call ends with that status whatever the handler returns (nil, its
// context's Canceled or its own error), so that the client signs in again
// rather than retrying.
func (g *Guard) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := ss.Context()
	tok, c, err := g.verify(ctx)
	if err != nil {
		return g.reject(ctx, info.FullMethod, err)
	}
	ws := newStream(g, ss, info.FullMethod, tok, c)
	defer ws.Close()
	return ws.Result(handler(srv, ws))
}

// verify reads and verifies the token of ctx's incoming metadata.
func (g *Guard) verify(ctx context.Context) (string, *cognitoguard.Claims, error) {
	tok, err := BearerToken(ctx)
	if err != nil {
		return "", nil, err
	}
	c, err := recheck.Verify(ctx, g.v, tok)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}

// reject logs err and returns its status error.
func (g *Guard) reject(ctx context.Context, method string, err error) error {
	st := Status(ctx, err)
	recheck.LogRejection(ctx, g.log, "grpcguard: call rejected", st.Code() == codes.Unavailable,
		slog.String("method", method), st.Code().String(), err)
	return st.Err()
}

// BearerToken returns the bearer token of ctx's incoming gRPC metadata
// "authorization", under the one bearer grammar of this module's adapters
// (the rules of the HTTP middleware's BearerToken): exactly one value, the
// scheme "Bearer" in any case, at most 16 KiB of RFC 6750 b64token
// characters. Failures match [cognitoguard.ErrNoToken] (none, or several
// values: then also [cognitoguard.ErrInvalidRequest]) or
// [cognitoguard.ErrMalformed]. It is safe for concurrent use.
func BearerToken(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return bearer.Token("authorization value", md.Get("authorization"), cognitoguard.DefaultMaxTokenSize, true)
}

// Status returns the gRPC status for a verification error err, with fixed
// text chosen by the error's class and kind, never err's own text nor the
// token:
//
//	class of err ([cognitoguard.Class])  code
//	ErrNoToken, ErrInvalidToken          Unauthenticated
//	ErrInsufficientScope                 PermissionDenied
//	ErrUnavailable, any other error      Unavailable (fail closed)
//
// When ctx is done, the status is that of ctx's error (Canceled or
// DeadlineExceeded) instead: the client went away, nothing is down.
// Status(ctx, nil) is OK.
func Status(ctx context.Context, err error) *status.Status {
	if err == nil {
		return status.New(codes.OK, "")
	}
	switch class := cognitoguard.Class(err); {
	case class == cognitoguard.ErrNoToken:
		return status.New(codes.Unauthenticated, "authentication required: send metadata authorization: Bearer <token>")
	case class == cognitoguard.ErrInvalidToken:
		return status.New(codes.Unauthenticated, wording.Invalid(err))
	case class == cognitoguard.ErrInsufficientScope:
		return status.New(codes.PermissionDenied, "insufficient scope")
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return status.FromContextError(ctxErr)
	}
	return status.New(codes.Unavailable, "token verification unavailable; retry later")
}

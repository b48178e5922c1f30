package connectguard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/bearer"
	"github.com/cognitoguard/cognitoguard/internal/recheck"
	"github.com/cognitoguard/cognitoguard/internal/wording"
)

// Verifier checks a token and returns its claims. [*cognitoguard.Verifier]
// implements it. Implementations MUST be safe for concurrent use and MUST
// return errors matching the sentinels of package cognitoguard (any other
// error is answered CodeUnavailable). Streams call Verify again with the
// same token as messages flow, so it SHOULD be cheap for a token it has
// seen (the cognitoguard Verifier caches verified tokens).
type Verifier interface {
	Verify(ctx context.Context, token string) (*cognitoguard.Claims, error)
}

var _ Verifier = (*cognitoguard.Verifier)(nil)

// DefaultRecheckInterval is the default [Config.RecheckInterval].
const DefaultRecheckInterval = recheck.DefaultInterval

// Config holds the optional settings of [New]. Its zero value re-checks
// streams at most every [DefaultRecheckInterval] and logs nothing.
type Config struct {
	// RecheckInterval rate-limits the re-verification of a stream's token,
	// measured on the monotonic clock: before a message passes (received
	// or sent), the token is verified again — revocation included — when
	// at least RecheckInterval has passed since the last check. Expiry is
	// checked on every message regardless. Default (zero)
	// [DefaultRecheckInterval]; negative re-verifies on every message.
	RecheckInterval time.Duration

	// Now is the clock of the per-message expiry check. Default time.Now.
	// Keep it the Verifier's clock.
	Now func() time.Time

	// Logger receives a Debug record for every rejection (procedure,
	// class, kind and reason of the error, never the token) and a Warn
	// record when verification is unavailable (with the error text, which
	// comes from the key source or revocation store). Nil discards.
	Logger *slog.Logger
}

// Interceptor is the connect.Interceptor built by [New]. It is safe for
// concurrent use.
type Interceptor struct {
	v      Verifier
	policy recheck.Policy
	log    *slog.Logger
}

var _ connect.Interceptor = (*Interceptor)(nil)

// New returns an Interceptor that lets calls through only with a token v
// accepts. It panics if v is nil. Install it on handlers with
// connect.WithInterceptors(guard).
func New(v Verifier, cfg Config) *Interceptor {
	if v == nil {
		panic("connectguard: New: nil Verifier")
	}
	i := &Interceptor{v: v, policy: recheck.NewPolicy(v, cfg.RecheckInterval, cfg.Now), log: cfg.Logger}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	return i
}

// WrapUnary verifies the token of a unary call and calls next with a
// context carrying the claims ([cognitoguard.FromContext] finds them);
// otherwise next is not called and the call fails with the error of
// [Error]. On a client it returns next unchanged.
func (i *Interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		_, c, err := i.verify(ctx, req.Header())
		if err != nil {
			return nil, i.reject(ctx, req.Spec().Procedure, err)
		}
		return next(cognitoguard.NewContext(ctx, c), req)
	}
}

// WrapStreamingClient returns next unchanged: the interceptor guards
// handlers.
func (i *Interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler verifies the token like [Interceptor.WrapUnary]
// before calling next, whose context carries the claims. Then, as long as
// the stream lives, every message received or sent is preceded by a
// check (see the package documentation). Once a check fails, the stream
// ends with that check's error whatever next returns.
func (i *Interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		tok, c, err := i.verify(ctx, conn.RequestHeader())
		if err != nil {
			return i.reject(ctx, conn.Spec().Procedure, err)
		}
		s := newStream(ctx, i, conn, tok, c)
		defer s.Close()
		return s.Result(next(s.Context(), s)) // a handler's own error must not hide a sign-out
	}
}

// verify reads and verifies the bearer token of header.
func (i *Interceptor) verify(ctx context.Context, header http.Header) (string, *cognitoguard.Claims, error) {
	tok, err := bearerToken(header)
	if err != nil {
		return "", nil, err
	}
	c, err := recheck.Verify(ctx, i.v, tok)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}

// bearerToken is the one place the header is read: the repository's
// bearer grammar (one Authorization header, scheme in any case, RFC 6750
// b64token, at most 16 KiB).
func bearerToken(h http.Header) (string, error) {
	return bearer.Token("Authorization header", h.Values("Authorization"), cognitoguard.DefaultMaxTokenSize, true)
}

// reject logs err and returns its connect error.
func (i *Interceptor) reject(ctx context.Context, procedure string, err error) *connect.Error {
	ce := Error(ctx, err)
	recheck.LogRejection(ctx, i.log, "connectguard: call rejected", ce.Code() == connect.CodeUnavailable,
		slog.String("procedure", procedure), ce.Code().String(), err)
	return ce
}

// Error returns the connect error for a verification error err, with
// fixed text chosen by the error's class and kind, never err's own text
// nor the token:
//
//	class of err ([cognitoguard.Class])  code
//	ErrNoToken, ErrInvalidToken          CodeUnauthenticated
//	ErrInsufficientScope                 CodePermissionDenied
//	ErrUnavailable, any other error      CodeUnavailable (fail closed)
//
// When ctx is done, the code is that of ctx's error (CodeCanceled or
// CodeDeadlineExceeded) instead: the client went away, nothing is down.
// Error(ctx, nil) is nil.
func Error(ctx context.Context, err error) *connect.Error {
	if err == nil {
		return nil
	}
	switch class := cognitoguard.Class(err); {
	case class == cognitoguard.ErrNoToken:
		return connect.NewError(connect.CodeUnauthenticated, errors.New("authentication required: send the header Authorization: Bearer <token>"))
	case class == cognitoguard.ErrInvalidToken:
		return connect.NewError(connect.CodeUnauthenticated, errors.New(wording.Invalid(err)))
	case class == cognitoguard.ErrInsufficientScope:
		return connect.NewError(connect.CodePermissionDenied, errors.New("insufficient scope"))
	}
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, ctxErr)
	case ctxErr != nil:
		return connect.NewError(connect.CodeCanceled, ctxErr)
	}
	return connect.NewError(connect.CodeUnavailable, errors.New("token verification unavailable; retry later"))
}

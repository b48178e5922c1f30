// Package recheck holds the transport-free part of the gRPC and Connect
// guards: the first verification of a call, the log record of a rejected
// one, and the re-check of an open
// stream's token as its messages flow (expiry on every message, a full
// re-verification, revocation included, at most every interval on the
// monotonic clock), with the rule that a stream whose check failed ends
// with that failure whatever its handler returns.
package recheck

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cognitoguard/cognitoguard"
)

// DefaultInterval is the default re-check interval of both guards.
const DefaultInterval = 100 * time.Millisecond

// Verifier is the guards' Verifier.
type Verifier interface {
	Verify(ctx context.Context, token string) (*cognitoguard.Claims, error)
}

// Verify verifies token with v. A Verifier that returns neither claims
// nor error must not let the call in: that is an
// [cognitoguard.ErrUnavailable] error.
func Verify(ctx context.Context, v Verifier, token string) (*cognitoguard.Claims, error) {
	c, err := v.Verify(ctx, token)
	if err == nil && c == nil {
		err = &cognitoguard.Error{Kind: cognitoguard.ErrUnavailable, Reason: "verifier returned neither claims nor error"}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Policy is how often an open stream's token is verified again.
type Policy struct {
	v        Verifier
	interval time.Duration
	now      func() time.Time
}

// NewPolicy returns the policy of a guard: interval zero means
// [DefaultInterval], negative re-verifies on every message; now nil means
// time.Now (the clock of the expiry check only).
func NewPolicy(v Verifier, interval time.Duration, now func() time.Time) Policy {
	if interval == 0 {
		interval = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	return Policy{v: v, interval: interval, now: now}
}

// Stream is the re-check state of one open stream. Its methods are safe
// for concurrent use: a transport may receive on one goroutine while it
// sends on another.
type Stream struct {
	p      Policy
	token  string
	expiry time.Time
	reqCtx context.Context         // the request's, for re-verification
	ctx    context.Context         // the handler's: claims, cancelled on failure
	cancel context.CancelCauseFunc // cancels ctx
	reject func(error) error       // a failure as the transport's error, logged
	start  time.Time               // monotonic origin of last
	last   atomic.Int64            // time.Since(start) of the last successful check, ns
	err    atomic.Pointer[error]   // the first failure's transport error, for ever
}

// Open starts the re-check of the stream of request context ctx, whose
// token verified as c. reject turns a failed verification into the
// transport's error (and logs it); it is called at most once per failed
// check. The caller MUST call [Stream.Close] when the handler returns.
func (p Policy) Open(ctx context.Context, token string, c *cognitoguard.Claims, reject func(error) error) *Stream {
	hctx, cancel := context.WithCancelCause(cognitoguard.NewContext(ctx, c))
	return &Stream{
		p: p, token: token, expiry: c.Expiry, reqCtx: ctx, ctx: hctx, cancel: cancel,
		reject: reject, start: time.Now(),
	}
}

// Context returns the handler's context: it carries the claims and is
// cancelled, with the transport's error as cause, when a check fails or
// the stream is closed.
func (s *Stream) Context() context.Context { return s.ctx }

// Close cancels the handler's context.
func (s *Stream) Close() { s.cancel(nil) }

// Check re-verifies the token when the rate limit allows it or the token
// has reached its expiry (the Verifier then applies its own leeway). Once
// a check has failed, it returns that failure's error for ever.
func (s *Stream) Check() error {
	if err := s.Failed(); err != nil {
		return err
	}
	// The rate limit runs on the monotonic clock (time.Since), never on
	// now: a wall clock stepped back must not make the last check look
	// recent.
	elapsed := int64(time.Since(s.start))
	due := s.p.interval < 0 || elapsed-s.last.Load() >= int64(s.p.interval)
	if !due && s.p.now().Before(s.expiry) {
		return nil
	}
	if _, err := Verify(s.reqCtx, s.p.v, s.token); err != nil {
		return s.fail(err)
	}
	s.last.Store(elapsed)
	return nil
}

// CheckReceived checks the token once message m has arrived, before the
// handler gets it: on failure m is not to be delivered, and is reset when
// it can be (a generated message's Reset), so that no part of it reaches
// a handler that ignores the error.
func (s *Stream) CheckReceived(m any) error {
	err := s.Check()
	if err != nil {
		if r, ok := m.(interface{ Reset() }); ok {
			r.Reset()
		}
	}
	return err
}

// fail records the first failure and cancels the handler's context.
func (s *Stream) fail(err error) error {
	e := s.reject(err)
	if !s.err.CompareAndSwap(nil, &e) {
		e = *s.err.Load()
	}
	s.cancel(e)
	return e
}

// Failed returns the transport error of the first failed check, or nil.
func (s *Stream) Failed() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Result is what the stream's call returns once its handler returned
// err: a failed check's error wins over whatever the handler made of it
// (nil, its context's Canceled, its own error), so that the client learns
// it has to sign in again rather than retrying.
func (s *Stream) Result(err error) error {
	if failed := s.Failed(); failed != nil {
		return failed
	}
	return err
}

// LogRejection logs a rejected call of either guard: at Debug, or at Warn
// when verification was unavailable, with the call (call, such as the
// gRPC method), the transport's code, and the class, kind and reason of
// err; at Warn also err's text (which comes from the key source or the
// revocation store). Never the token.
func LogRejection(ctx context.Context, log *slog.Logger, msg string, unavailable bool, call slog.Attr, code string, err error) {
	level := slog.LevelDebug
	if unavailable {
		level = slog.LevelWarn
	}
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{call, slog.String("code", code)}
	if class := cognitoguard.Class(err); class != nil {
		attrs = append(attrs, slog.String("class", class.Error()))
	}
	var e *cognitoguard.Error
	if errors.As(err, &e) {
		attrs = append(attrs, slog.String("kind", e.Kind.Error()), slog.String("reason", e.Reason))
	}
	if unavailable {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	log.LogAttrs(ctx, level, msg, attrs...)
}

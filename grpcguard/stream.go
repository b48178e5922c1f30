package grpcguard

import (
	"context"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/cognitoguard/cognitoguard"
)

// stream is the grpc.ServerStream handed to a stream handler: it carries
// the claims in its context and re-checks the token as messages flow.
// gRPC lets one goroutine receive while another sends, so its state is
// atomic or locked.
type stream struct {
	grpc.ServerStream
	g      *Guard
	method string
	token  string
	expiry time.Time
	ctx    context.Context
	cancel context.CancelCauseFunc
	opened time.Time    // monotonic reading of the stream's opening
	last   atomic.Int64 // time since opened of the last successful check, ns

	// err holds the status error of the first failed check, then returned
	// for ever.
	err atomic.Pointer[error]
}

func newStream(g *Guard, ss grpc.ServerStream, method, token string, c *cognitoguard.Claims) *stream {
	ctx, cancel := context.WithCancelCause(cognitoguard.NewContext(ss.Context(), c))
	s := &stream{
		ServerStream: ss, g: g, method: method, token: token, expiry: c.Expiry,
		ctx: ctx, cancel: cancel, opened: time.Now(),
	}
	return s
}

// Context returns the stream's context, carrying the claims; it is
// cancelled when a check fails or the handler returns.
func (s *stream) Context() context.Context { return s.ctx }

// RecvMsg receives a message, then checks the token before handing it
// over: a message that arrives after a sign-out is not delivered (m is
// reset when it can be).
func (s *stream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := s.check(); err != nil {
		if r, ok := m.(interface{ Reset() }); ok {
			r.Reset()
		}
		return err
	}
	return nil
}

// SendMsg checks the token, then sends m.
func (s *stream) SendMsg(m any) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.ServerStream.SendMsg(m)
}

// SendHeader checks the token, then sends the header.
func (s *stream) SendHeader(md metadata.MD) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.ServerStream.SendHeader(md)
}

// check re-verifies the token when the rate limit allows it or the token
// has reached its expiry (the Verifier then applies its own leeway).
func (s *stream) check() error {
	if err := s.failed(); err != nil {
		return err
	}
	// The rate limit runs on the monotonic clock (time.Since), never on
	// Now: a wall clock stepped back must not make the last check look
	// recent.
	since := int64(time.Since(s.opened))
	due := s.g.interval < 0 || since-s.last.Load() >= int64(s.g.interval)
	if !due && s.g.now().Before(s.expiry) {
		return nil
	}
	c, err := s.g.v.Verify(s.ServerStream.Context(), s.token)
	if err == nil && c == nil {
		err = &cognitoguard.Error{Kind: cognitoguard.ErrUnavailable, Reason: "verifier returned neither claims nor error"}
	}
	if err != nil {
		return s.fail(err)
	}
	s.last.Store(since)
	return nil
}

// fail records the first failure and cancels the handler's context.
func (s *stream) fail(err error) error {
	st := s.g.reject(s.ServerStream.Context(), s.method, err)
	if !s.err.CompareAndSwap(nil, &st) {
		st = *s.err.Load()
	}
	s.cancel(st)
	return st
}

// failed returns the status error of the first failed check, or nil.
func (s *stream) failed() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

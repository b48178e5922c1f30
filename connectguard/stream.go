package connectguard

import (
	"context"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/cognitoguard/cognitoguard"
)

// stream is the StreamingHandlerConn handed to a stream handler: it
// re-checks the token as messages flow. Connect lets one goroutine
// receive while another sends, so its state is atomic.
type stream struct {
	connect.StreamingHandlerConn
	i      *Interceptor
	token  string
	expiry time.Time
	reqCtx context.Context // the request's context, for re-verification
	ctx    context.Context // the handler's: claims, cancelled on failure
	cancel context.CancelCauseFunc
	start  time.Time    // monotonic origin of last
	last   atomic.Int64 // time.Since(start) of the last successful check, ns

	// err holds the error of the first failed check, then returned for
	// ever.
	err atomic.Pointer[connect.Error]
}

func newStream(ctx context.Context, i *Interceptor, conn connect.StreamingHandlerConn, token string, c *cognitoguard.Claims) *stream {
	hctx, cancel := context.WithCancelCause(cognitoguard.NewContext(ctx, c))
	return &stream{
		StreamingHandlerConn: conn, i: i, token: token, expiry: c.Expiry,
		reqCtx: ctx, ctx: hctx, cancel: cancel, start: time.Now(),
	}
}

// Receive receives a message, then checks the token before handing it
// over: a message that arrives after a sign-out is not delivered (m is
// reset when it can be).
func (s *stream) Receive(m any) error {
	if err := s.failed(); err != nil {
		return err
	}
	if err := s.StreamingHandlerConn.Receive(m); err != nil {
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

// Send checks the token, then sends m.
func (s *stream) Send(m any) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.StreamingHandlerConn.Send(m)
}

// check re-verifies the token when the rate limit allows it or the token
// has reached its expiry (the Verifier then applies its own leeway).
func (s *stream) check() error {
	if err := s.failed(); err != nil {
		return err
	}
	elapsed := int64(time.Since(s.start))
	due := s.i.interval < 0 || elapsed-s.last.Load() >= int64(s.i.interval)
	if !due && s.i.now().Before(s.expiry) {
		return nil
	}
	c, err := s.i.v.Verify(s.reqCtx, s.token)
	if err == nil && c == nil {
		err = &cognitoguard.Error{Kind: cognitoguard.ErrUnavailable, Reason: "verifier returned neither claims nor error"}
	}
	if err != nil {
		return s.fail(err)
	}
	s.last.Store(elapsed)
	return nil
}

// fail records the first failure and cancels the handler's context.
func (s *stream) fail(err error) error {
	ce := s.i.reject(s.reqCtx, s.Spec().Procedure, err)
	if !s.err.CompareAndSwap(nil, ce) {
		ce = s.err.Load()
	}
	s.cancel(ce)
	return ce
}

// failed returns the error of the first failed check, or nil.
func (s *stream) failed() error {
	if e := s.err.Load(); e != nil {
		return e
	}
	return nil
}

package connectguard

import (
	"context"

	"connectrpc.com/connect"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/recheck"
)

// stream is the StreamingHandlerConn handed to a stream handler: it
// re-checks the token as messages flow (internal/recheck holds the rule,
// safe for the goroutine that receives and the one that sends at once).
type stream struct {
	connect.StreamingHandlerConn
	*recheck.Stream
}

func newStream(ctx context.Context, i *Interceptor, conn connect.StreamingHandlerConn, token string, c *cognitoguard.Claims) *stream {
	procedure := conn.Spec().Procedure
	reject := func(err error) error { return i.reject(ctx, procedure, err) }
	return &stream{StreamingHandlerConn: conn, Stream: i.policy.Open(ctx, token, c, reject)}
}

// Receive receives a message, then checks the token before handing it
// over: a message that arrives after a sign-out is not delivered (m is
// reset when it can be).
func (s *stream) Receive(m any) error {
	if err := s.Failed(); err != nil {
		return err
	}
	if err := s.StreamingHandlerConn.Receive(m); err != nil {
		return err
	}
	return s.CheckReceived(m)
}

// Send checks the token, then sends m.
func (s *stream) Send(m any) error {
	if err := s.Check(); err != nil {
		return err
	}
	return s.StreamingHandlerConn.Send(m)
}

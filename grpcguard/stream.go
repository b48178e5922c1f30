package grpcguard

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/recheck"
)

// stream is the grpc.ServerStream handed to a stream handler: it carries
// the claims in its context and re-checks the token as messages flow
// (internal/recheck holds the rule, safe for the goroutine that receives
// and the one that sends at once).
type stream struct {
	grpc.ServerStream
	*recheck.Stream
}

func newStream(g *Guard, ss grpc.ServerStream, method, token string, c *cognitoguard.Claims) *stream {
	ctx := ss.Context()
	reject := func(err error) error { return g.reject(ctx, method, err) }
	return &stream{ServerStream: ss, Stream: g.policy.Open(ctx, token, c, reject)}
}

// Context returns the stream's context, carrying the claims; it is
// cancelled when a check fails or the handler returns.
func (s *stream) Context() context.Context { return s.Stream.Context() }

// RecvMsg receives a message, then checks the token before handing it
// over: a message that arrives after a sign-out is not delivered (m is
// reset when it can be).
func (s *stream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.CheckReceived(m)
}

// SendMsg checks the token, then sends m.
func (s *stream) SendMsg(m any) error {
	if err := s.Check(); err != nil {
		return err
	}
	return s.ServerStream.SendMsg(m)
}

// SendHeader checks the token, then sends the header.
func (s *stream) SendHeader(md metadata.MD) error {
	if err := s.Check(); err != nil {
		return err
	}
	return s.ServerStream.SendHeader(md)
}

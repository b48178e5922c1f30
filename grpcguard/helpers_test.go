package grpcguard_test

import (
	"context"
	"errors"
	"github.com/cognitoguard/cognitoguard/internal/clocktest"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/grpcguard"
)

// service is the gRPC test service: every answer carries the sub of the
// claims the interceptors put in the context, so a test sees who got in.
type service struct {
	testgrpc.UnimplementedTestServiceServer
	push  chan struct{} // each value makes StreamingOutputCall send once
	calls atomic.Int64  // handler invocations
}

func subOf(ctx context.Context) (string, error) {
	c, ok := cognitoguard.FromContext(ctx)
	if !ok {
		return "", status.Error(codes.Internal, "no claims in the handler's context")
	}
	return c.Subject, nil
}

func (s *service) UnaryCall(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	s.calls.Add(1)
	sub, err := subOf(ctx)
	if err != nil {
		return nil, err
	}
	return &testgrpc.SimpleResponse{Username: sub}, nil
}

// FullDuplexCall answers every message with one carrying the sub.
func (s *service) FullDuplexCall(st grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	s.calls.Add(1)
	sub, err := subOf(st.Context())
	if err != nil {
		return err
	}
	for {
		if _, err := st.Recv(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := st.Send(response(sub)); err != nil {
			return err
		}
	}
}

// StreamingOutputCall sends one message per value on s.push, until the
// stream ends.
func (s *service) StreamingOutputCall(_ *testgrpc.StreamingOutputCallRequest, st grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	s.calls.Add(1)
	sub, err := subOf(st.Context())
	if err != nil {
		return err
	}
	for {
		select {
		case <-st.Context().Done():
			return st.Context().Err()
		case <-s.push:
			if err := st.Send(response(sub)); err != nil {
				return err
			}
		}
	}
}

func response(sub string) *testgrpc.StreamingOutputCallResponse {
	return &testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: []byte(sub)}}
}

// startServer serves the test service behind g's interceptors on a free
// 127.0.0.1 port and returns a client of it. Server and client stop at
// the end of the test; the Serve goroutine is waited for.
func startServer(t *testing.T, g *grpcguard.Guard) (testgrpc.TestServiceClient, *service) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(g.Unary), grpc.ChainStreamInterceptor(g.Stream))
	svc := &service{push: make(chan struct{})}
	testgrpc.RegisterTestServiceServer(srv, svc)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("Serve: %v", err)
		}
	})
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		wg.Wait()
	})
	return testgrpc.NewTestServiceClient(conn), svc
}

// withToken returns ctx sending "authorization: Bearer tok".
func withToken(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// newVerifier returns a Verifier of pool's tokens with cfg's settings.
func newVerifier(t *testing.T, pool *cognitotest.Pool, cfg cognitoguard.Config) *cognitoguard.Verifier {
	t.Helper()
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: pool.ClientIDs()}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

// newPool starts a fake user pool with users alice and bob.
func newPool(t *testing.T, cfg cognitotest.Config) *cognitotest.Pool {
	t.Helper()
	pool := cognitotest.NewPool(cfg)
	t.Cleanup(pool.Close)
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin"}})
	pool.AddUser(cognitotest.User{Username: "bob"})
	return pool
}

func sub(t *testing.T, pool *cognitotest.Pool, name string) string {
	t.Helper()
	u, ok := pool.User(name)
	if !ok {
		t.Fatalf("no user %s", name)
	}
	return u.Sub
}

// wantCode fails the test unless err is a status error with code want whose
// message does not contain secret.
func wantCode(t *testing.T, err error, want codes.Code, secret string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("error %v is not a gRPC status", err)
	}
	if st.Code() != want {
		t.Fatalf("code %v (%q), want %v", st.Code(), st.Message(), want)
	}
	if secret != "" && strings.Contains(st.Message(), secret) {
		t.Fatalf("status message echoes the token: %q", st.Message())
	}
}

// clock is the settable clock shared by the Verifier, the pool and the
// Guard.
type clock = clocktest.Clock

func newClock() *clock { return clocktest.New(time.Now()) }

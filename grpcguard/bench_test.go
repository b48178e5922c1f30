package grpcguard_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/grpcguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// memStream is a grpc.ServerStream whose messages cost nothing, so that a
// benchmark measures the interceptor alone.
type memStream struct{ ctx context.Context }

func (s memStream) SetHeader(metadata.MD) error  { return nil }
func (s memStream) SendHeader(metadata.MD) error { return nil }
func (s memStream) SetTrailer(metadata.MD)       {}
func (s memStream) Context() context.Context     { return s.ctx }
func (s memStream) SendMsg(any) error            { return nil }
func (s memStream) RecvMsg(any) error            { return nil }

// BenchmarkStreamMessage: the interceptor's cost per received message of
// an open stream, for a known token with a revocation store, when every
// message is re-verified and with the default rate limit.
func BenchmarkStreamMessage(b *testing.B) {
	pool := cognitotest.NewPool(cognitotest.Config{})
	b.Cleanup(pool.Close)
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: pool.ClientIDs()}},
		cognitoguard.Config{Revocation: revocation.NewMemory(revocation.MemoryConfig{})})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = v.Close() })
	pool.AddUser(cognitotest.User{Username: "alice"})
	md := metadata.Pairs("authorization", "Bearer "+pool.AccessToken("alice"))
	ctx := metadata.NewIncomingContext(context.Background(), md)
	info := &grpc.StreamServerInfo{FullMethod: "/bench/Stream", IsClientStream: true}
	for _, bc := range []struct {
		name     string
		interval int64
	}{{"every message", -1}, {"default interval", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			g := grpcguard.New(v, grpcguard.Config{RecheckInterval: time.Duration(bc.interval)})
			b.ReportAllocs()
			err := g.Stream(nil, memStream{ctx}, info, func(_ any, ss grpc.ServerStream) error {
				var m struct{}
				for b.Loop() {
					if err := ss.RecvMsg(&m); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

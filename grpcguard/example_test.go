package grpcguard_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/grpcguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// whoami answers every unary call with the caller's username.
type whoami struct {
	testgrpc.UnimplementedTestServiceServer
}

func (whoami) UnaryCall(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	c, _ := cognitoguard.FromContext(ctx) // always there behind the interceptor
	return &testgrpc.SimpleResponse{Username: c.Username}, nil
}

// Example guards a gRPC server with a Verifier and a revocation store: a
// call with a valid token gets in, the same call after the user signed out
// is Unauthenticated.
func Example() {
	pool := cognitotest.NewPool(cognitotest.Config{}) // a fake user pool
	defer pool.Close()
	alice := pool.AddUser(cognitotest.User{Username: "alice"})

	store := revocation.NewMemory(revocation.MemoryConfig{})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: pool.ClientIDs()}},
		cognitoguard.Config{Revocation: store})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	g := grpcguard.New(v, grpcguard.Config{})
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(g.Unary), grpc.ChainStreamInterceptor(g.Stream))
	testgrpc.RegisterTestServiceServer(srv, whoami{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := testgrpc.NewTestServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+pool.AccessToken("alice"))

	res, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
	fmt.Println(res.GetUsername(), status.Code(err))

	if err := store.RevokeUser(ctx, pool.PoolID(), alice.Sub, time.Now()); err != nil {
		panic(err)
	}
	_, err = client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
	fmt.Println(status.Code(err), status.Convert(err).Message())
	// Output:
	// alice OK
	// Unauthenticated Access Token has been revoked
}

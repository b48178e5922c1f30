package grpcguard_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/grpcguard"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
	"github.com/cognitoguard/cognitoguard/signout"
)

// newStore returns a revocation store on its own client of the redis-server
// at addr, ready.
func newStore(t *testing.T, addr string, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	s, err := redisstore.New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSignOutTwoServers: two gRPC servers, each with its own Verifier and
// store on one real redis-server. A sign-out through the sign-out helper
// on server A's store stops alice's open streams on both servers at their next message,
// in either direction, and her new calls, while bob's stream goes on. When
// Redis goes away, new calls fail closed with Unavailable.
func TestSignOutTwoServers(t *testing.T) {
	addr, proc := redistest.Server(t)
	if addr == "" {
		return
	}
	pool := newPool(t, cognitotest.Config{})
	cfg := redisstore.Config{Prefix: "grpcguard-test:", Staleness: 400 * time.Millisecond, Timeout: time.Second}
	waitCfg := cfg
	waitCfg.WaitInstances = true // RevokeUser returns once B has applied it too
	storeA, storeB := newStore(t, addr, waitCfg), newStore(t, addr, cfg)
	gcfg := grpcguard.Config{RecheckInterval: -1}
	verifierA := newVerifier(t, pool, cognitoguard.Config{Revocation: storeA})
	clientA, svcA := startServer(t, grpcguard.New(verifierA, gcfg))
	clientB, _ := startServer(t, grpcguard.New(newVerifier(t, pool, cognitoguard.Config{Revocation: storeB}), gcfg))
	alice, bob := pool.AccessToken("alice"), pool.AccessToken("bob")
	ctx := t.Context()

	duplexB, err := clientB.FullDuplexCall(withToken(ctx, alice))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, duplexB, sub(t, pool, "alice"))
	bobB, err := clientB.FullDuplexCall(withToken(ctx, bob))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, bobB, sub(t, pool, "bob"))
	pushA, err := clientA.StreamingOutputCall(withToken(ctx, alice), &testgrpc.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	svcA.push <- struct{}{}
	if _, err := pushA.Recv(); err != nil {
		t.Fatal(err)
	}

	// An admin signs alice out through the helper on A's side: recorded
	// in the store, then sent to Cognito.
	so, err := signout.New(pool.Client(), verifierA, storeA, signout.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := so.AdminSignOut(ctx, "alice"); err != nil {
		t.Fatalf("AdminSignOut: %v", err)
	}
	if _, ok := pool.SignedOutAt(sub(t, pool, "alice")); !ok {
		t.Fatal("Cognito was not told")
	}

	// Client to server on B: the next message is refused.
	if err := duplexB.Send(&testgrpc.StreamingOutputCallRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err = duplexB.Recv()
	wantRevoked(t, err, alice)
	// Server to client on A: the next message is not sent.
	svcA.push <- struct{}{}
	_, err = pushA.Recv()
	wantRevoked(t, err, alice)
	// New calls on both servers.
	for name, c := range map[string]testgrpc.TestServiceClient{"A": clientA, "B": clientB} {
		_, err := c.UnaryCall(withToken(ctx, alice), &testgrpc.SimpleRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("new call on %s: %v", name, err)
		}
	}
	// Another user's stream is not affected.
	roundTrip(t, bobB, sub(t, pool, "bob"))

	// Redis goes away: once the views can no longer prove they are fresh
	// (Staleness), new calls fail closed.
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := clientB.UnaryCall(withToken(ctx, bob), &testgrpc.SimpleRequest{})
		if status.Code(err) == codes.Unavailable {
			wantCode(t, err, codes.Unavailable, bob)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis killed 15 s ago; call still answered %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func wantRevoked(t *testing.T, err error, tok string) {
	t.Helper()
	wantCode(t, err, codes.Unauthenticated, tok)
	if msg := status.Convert(err).Message(); msg != "Access Token has been revoked" {
		t.Fatalf("message %q", msg)
	}
}

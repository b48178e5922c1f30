package grpcguard_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/grpcguard"
)

// TestUnary: a unary call gets in with a valid token, its claims in the
// handler's context, and is answered Unauthenticated, PermissionDenied or
// Unavailable otherwise, the handler not called and the token not echoed.
func TestUnary(t *testing.T) {
	pool := newPool(t, cognitotest.Config{})
	client, svc := startServer(t, grpcguard.New(newVerifier(t, pool, cognitoguard.Config{}), grpcguard.Config{}))
	scoped, scopedSvc := startServer(t, grpcguard.New(newVerifier(t, pool, cognitoguard.Config{RequiredScopes: []string{"orders/write"}}), grpcguard.Config{}))
	down := newPool(t, cognitotest.Config{})
	down.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	unavailable, downSvc := startServer(t, grpcguard.New(newVerifier(t, down, cognitoguard.Config{}), grpcguard.Config{}))

	good := pool.AccessToken("alice")
	foreign := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(foreign.Close)
	for _, tc := range []struct {
		name   string
		client testgrpc.TestServiceClient
		md     []string // authorization values
		want   codes.Code
	}{
		{"valid", client, []string{"Bearer " + good}, codes.OK},
		{"scheme in lower case, extra spaces", client, []string{"bearer   " + good + " "}, codes.OK},
		{"no metadata", client, nil, codes.Unauthenticated},
		{"empty", client, []string{""}, codes.Unauthenticated},
		{"basic scheme", client, []string{"Basic YWxpY2U6cHc="}, codes.Unauthenticated},
		{"two values", client, []string{"Bearer " + good, "Bearer " + good}, codes.Unauthenticated},
		{"not a JWT", client, []string{"Bearer abc.def"}, codes.Unauthenticated},
		{"outside b64token", client, []string{"Bearer " + good + "!"}, codes.Unauthenticated},
		{"expired", client, []string{"Bearer " + pool.AccessToken("alice", cognitotest.WithExpiry(time.Now().Add(-time.Minute)))}, codes.Unauthenticated},
		{"foreign key", client, []string{"Bearer " + pool.AccessToken("alice", cognitotest.WithSigningKey(foreign.AccessSigningKey()))}, codes.Unauthenticated},
		{"ID token", client, []string{"Bearer " + pool.IDToken("alice")}, codes.Unauthenticated},
		{"other client", client, []string{"Bearer " + pool.AccessToken("alice", cognitotest.WithClient("intruder"))}, codes.Unauthenticated},
		{"scope missing", scoped, []string{"Bearer " + good}, codes.PermissionDenied},
		{"scope present", scoped, []string{"Bearer " + pool.AccessToken("alice", cognitotest.WithScopes("orders/write"))}, codes.OK},
		{"keys unreachable", unavailable, []string{"Bearer " + down.AccessToken("alice")}, codes.Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := svc.calls.Load() + scopedSvc.calls.Load() + downSvc.calls.Load()
			ctx := t.Context()
			for _, v := range tc.md {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
			}
			res, err := tc.client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
			calls := svc.calls.Load() + scopedSvc.calls.Load() + downSvc.calls.Load() - before
			if tc.want == codes.OK {
				if err != nil {
					t.Fatalf("UnaryCall: %v", err)
				}
				if res.Username != sub(t, pool, "alice") {
					t.Fatalf("handler saw sub %q", res.Username)
				}
				return
			}
			secret := ""
			if len(tc.md) > 0 {
				secret = tc.md[0][min(len(tc.md[0]), 7):]
			}
			wantCode(t, err, tc.want, secret)
			if calls != 0 {
				t.Fatalf("handler called %d times for a rejected call", calls)
			}
		})
	}
}

// failingStore is a revocation store that cannot be reached.
type failingStore struct{}

func (failingStore) Revoked(context.Context, *cognitoguard.Claims) (bool, error) {
	return false, errors.New("dial tcp 127.0.0.1:1: connection refused")
}

// TestStoreUnavailable: a store that cannot answer fails the call closed
// with Unavailable, and its error text stays on the server.
func TestStoreUnavailable(t *testing.T) {
	pool := newPool(t, cognitotest.Config{})
	client, _ := startServer(t, grpcguard.New(newVerifier(t, pool, cognitoguard.Config{Revocation: failingStore{}}), grpcguard.Config{}))
	_, err := client.UnaryCall(withToken(t.Context(), pool.AccessToken("alice")), &testgrpc.SimpleRequest{})
	wantCode(t, err, codes.Unavailable, "connection refused")

	st, err := client.FullDuplexCall(withToken(t.Context(), pool.AccessToken("alice")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Recv()
	wantCode(t, err, codes.Unavailable, "connection refused")
}

// TestStreamExpiry: a stream whose token expires is stopped at its next
// message in either direction, whatever the re-check interval.
func TestStreamExpiry(t *testing.T) {
	clk := newClock()
	pool := newPool(t, cognitotest.Config{Now: clk.Now, AccessTokenTTL: time.Hour})
	v := newVerifier(t, pool, cognitoguard.Config{Now: clk.Now})
	client, svc := startServer(t, grpcguard.New(v, grpcguard.Config{Now: clk.Now, RecheckInterval: 24 * time.Hour}))
	tok := pool.AccessToken("alice")

	t.Run("client to server", func(t *testing.T) {
		st, err := client.FullDuplexCall(withToken(t.Context(), tok))
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, st, sub(t, pool, "alice"))
		clk.Advance(time.Hour)
		if err := st.Send(&testgrpc.StreamingOutputCallRequest{}); err != nil {
			t.Fatal(err)
		}
		_, err = st.Recv()
		wantCode(t, err, codes.Unauthenticated, tok)
	})
	clk.Advance(-time.Hour)
	t.Run("server to client", func(t *testing.T) {
		st, err := client.StreamingOutputCall(withToken(t.Context(), tok), &testgrpc.StreamingOutputCallRequest{})
		if err != nil {
			t.Fatal(err)
		}
		svc.push <- struct{}{}
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		svc.push <- struct{}{}
		_, err = st.Recv()
		wantCode(t, err, codes.Unauthenticated, tok)
	})
}

// roundTrip sends one message on a duplex stream and expects an answer
// carrying sub.
func roundTrip(t *testing.T, st testgrpc.TestService_FullDuplexCallClient, sub string) {
	t.Helper()
	if err := st.Send(&testgrpc.StreamingOutputCallRequest{}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	res, err := st.Recv()
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	if got := string(res.GetPayload().GetBody()); got != sub {
		t.Fatalf("stream answered for sub %q, want %q", got, sub)
	}
}

// countingVerifier accepts every token and counts its calls.
type countingVerifier struct {
	calls  chan struct{}
	expiry time.Time
}

func (v *countingVerifier) Verify(context.Context, string) (*cognitoguard.Claims, error) {
	v.calls <- struct{}{}
	return &cognitoguard.Claims{Subject: "s", Expiry: v.expiry}, nil
}

// TestStreamRecheckInterval: a stream re-verifies its token at most once
// per RecheckInterval of the monotonic clock (a received message and the
// answer sent at the same instant share one check), and on every message
// when it is negative.
func TestStreamRecheckInterval(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		advance  time.Duration // time passing before each round trip
		want     int           // Verify calls, the one opening the stream included
	}{
		{"within the interval", time.Minute, time.Second, 1},
		{"every interval", time.Minute, time.Minute, 1 + 5},
		{"negative: every message", -1, 0, 1 + 6*2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := &countingVerifier{calls: make(chan struct{}, 100), expiry: time.Now().Add(24 * time.Hour)}
				g := grpcguard.New(v, grpcguard.Config{RecheckInterval: tc.interval})
				err := openStream(t, g, func(_ any, ss grpc.ServerStream) error {
					for i := range 6 {
						if i > 0 {
							time.Sleep(tc.advance)
						}
						var m struct{}
						if err := ss.RecvMsg(&m); err != nil {
							return err
						}
						if err := ss.SendMsg(&m); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if got := len(v.calls); got != tc.want {
					t.Fatalf("Verify called %d times, want %d", got, tc.want)
				}
			})
		})
	}
}

// TestNoGoroutineLeak: streams that end by a failed re-check, by the
// client or by the server's stop leave no goroutine behind once server and
// client are closed.
func TestNoGoroutineLeak(t *testing.T) {
	pool := newPool(t, cognitotest.Config{})
	clk := newClock()
	v := newVerifier(t, pool, cognitoguard.Config{Now: clk.Now})
	tok := pool.AccessToken("alice")
	// The key fetch's keep-alive connection belongs to the Verifier.
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := runtime.NumGoroutine()
	t.Run("streams", func(t *testing.T) {
		client, _ := startServer(t, grpcguard.New(v, grpcguard.Config{Now: clk.Now}))
		for i := range 20 {
			st, err := client.FullDuplexCall(withToken(t.Context(), tok))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, st, sub(t, pool, "alice"))
			switch i % 3 {
			case 0: // the client ends it
				_ = st.CloseSend()
			case 1: // a re-check fails: the token expired
				clk.Advance(2 * time.Hour)
				_ = st.Send(&testgrpc.StreamingOutputCallRequest{})
				_, err := st.Recv()
				wantCode(t, err, codes.Unauthenticated, tok)
				clk.Advance(-2 * time.Hour)
			} // case 2: left open, ended by the server's stop
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// revokingVerifier accepts a token once, then reports it revoked.
type revokingVerifier struct{ calls atomic.Int64 }

func (v *revokingVerifier) Verify(context.Context, string) (*cognitoguard.Claims, error) {
	if v.calls.Add(1) > 1 {
		return nil, &cognitoguard.Error{Kind: cognitoguard.ErrRevoked}
	}
	return &cognitoguard.Claims{Subject: "s", Expiry: time.Now().Add(time.Hour)}, nil
}

// TestStreamFailureLatched: after a failed re-check every message fails
// with the same status without another Verify, the handler's context is
// cancelled, and a handler that swallows the error still ends the call
// Unauthenticated, not OK.
func TestStreamFailureLatched(t *testing.T) {
	v := &revokingVerifier{}
	g := grpcguard.New(v, grpcguard.Config{RecheckInterval: -1})
	ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs("authorization", "Bearer a.b.c"))
	info := &grpc.StreamServerInfo{FullMethod: "/test/Stream"}
	err := g.Stream(nil, memStream{ctx}, info, func(_ any, ss grpc.ServerStream) error {
		if c, ok := cognitoguard.FromContext(ss.Context()); !ok || c.Subject != "s" {
			t.Error("no claims in the stream's context")
		}
		var m struct{}
		first := ss.RecvMsg(&m)
		wantCode(t, first, codes.Unauthenticated, "")
		if err := ss.SendMsg(&m); err != first {
			t.Errorf("SendMsg after a failure: %v", err)
		}
		if ss.Context().Err() == nil {
			t.Error("handler context not cancelled")
		}
		return nil // swallowed
	})
	wantCode(t, err, codes.Unauthenticated, "")
	if n := v.calls.Load(); n != 2 {
		t.Fatalf("Verify called %d times, want 2 (open, first re-check)", n)
	}
}

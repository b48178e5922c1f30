package grpcguard_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/grpcguard"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

// openStream runs g.Stream over a memStream carrying "Bearer a.b.c", with
// handler as the stream's handler, and returns the call's error.
func openStream(t *testing.T, g *grpcguard.Guard, handler grpc.StreamHandler) error {
	t.Helper()
	ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs("authorization", "Bearer a.b.c"))
	return g.Stream(nil, memStream{ctx}, &grpc.StreamServerInfo{FullMethod: "/test/Stream"}, handler)
}

// TestRevokedStreamEndsUnauthenticated: once a re-check failed, the call
// ends with that check's status whatever the handler returns: grpc's
// health Watch, for one, returns its context's error, and its clients
// retry on Canceled instead of signing in again.
func TestRevokedStreamEndsUnauthenticated(t *testing.T) {
	for _, tc := range []struct {
		name string
		ret  func(ss grpc.ServerStream, recvErr error) error
	}{
		{"nil", func(grpc.ServerStream, error) error { return nil }},
		{"the check's error", func(_ grpc.ServerStream, err error) error { return err }},
		{"its context's error", func(ss grpc.ServerStream, _ error) error { return ss.Context().Err() }},
		{"Canceled, as health Watch", func(grpc.ServerStream, error) error {
			return status.Error(codes.Canceled, "Stream has ended.")
		}},
		{"its own error", func(grpc.ServerStream, error) error { return errors.New("boom") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := grpcguard.New(&revokingVerifier{}, grpcguard.Config{RecheckInterval: -1})
			err := openStream(t, g, func(_ any, ss grpc.ServerStream) error {
				var m struct{}
				return tc.ret(ss, ss.RecvMsg(&m))
			})
			wantCode(t, err, codes.Unauthenticated, "")
			if st, _ := status.FromError(err); st.Message() != "Access Token has been revoked" {
				t.Errorf("message %q", st.Message())
			}
		})
	}
	t.Run("handler error before any failed check passes through", func(t *testing.T) {
		g := grpcguard.New(&revokingVerifier{}, grpcguard.Config{})
		err := openStream(t, g, func(any, grpc.ServerStream) error { return status.Error(codes.NotFound, "no such thing") })
		wantCode(t, err, codes.NotFound, "")
	})
}

// steppingVerifier accepts a token until revoked is closed.
type steppingVerifier struct {
	revoked chan struct{}
	mu      sync.Mutex
	calls   int
}

func (v *steppingVerifier) Verify(context.Context, string) (*cognitoguard.Claims, error) {
	v.mu.Lock()
	v.calls++
	v.mu.Unlock()
	select {
	case <-v.revoked:
		return nil, &cognitoguard.Error{Kind: cognitoguard.ErrRevoked}
	default:
		return &cognitoguard.Claims{Subject: "s", Expiry: time.Now().Add(time.Hour)}, nil
	}
}

// TestRecheckIntervalIgnoresWallClockSteps: the re-check interval is
// measured on the monotonic clock. A wall clock stepped back 10 minutes
// (NTP, a VM restored) once made every message look "just checked": a
// signed-out user's stream carried on until the wall clock caught up.
func TestRecheckIntervalIgnoresWallClockSteps(t *testing.T) {
	clk := newClock() // the wall clock, as Config.Now reads it
	v := &steppingVerifier{revoked: make(chan struct{})}
	g := grpcguard.New(v, grpcguard.Config{Now: clk.Now, RecheckInterval: 20 * time.Millisecond})
	delivered := 0
	err := openStream(t, g, func(_ any, ss grpc.ServerStream) error {
		clk.Advance(-10 * time.Minute)
		close(v.revoked) // the user signs out
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			var m struct{}
			if err := ss.RecvMsg(&m); err != nil {
				return err
			}
			delivered++
			time.Sleep(5 * time.Millisecond)
		}
		return nil
	})
	wantCode(t, err, codes.Unauthenticated, "")
	// 20 ms at 5 ms per message, with slack for a loaded machine; before,
	// every message of the 5 s passed.
	if delivered > 200 {
		t.Fatalf("%d messages delivered after the sign-out", delivered)
	}
}

// TestLoggerDefaultsToVerifiers: with no Config.Logger, the Guard logs
// where its Verifier does.
func TestLoggerDefaultsToVerifiers(t *testing.T) {
	pool := newPool(t, cognitotest.Config{})
	var buf syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v := newVerifier(t, pool, cognitoguard.Config{Logger: logger})
	client, _ := startServer(t, grpcguard.New(v, grpcguard.Config{}))
	_, err := client.UnaryCall(t.Context(), nil)
	wantCode(t, err, codes.Unauthenticated, "")
	if !strings.Contains(buf.String(), "grpcguard: call rejected") {
		t.Fatalf("the Verifier's logger has no rejection record: %q", buf.String())
	}
}

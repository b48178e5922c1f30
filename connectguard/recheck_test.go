package connectguard_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"connectrpc.com/connect"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/connectguard"
)

// fakeVerifier accepts "tok" until revoked or expired, counting calls.
type fakeVerifier struct {
	expiry  time.Time
	revoked atomic.Bool
	calls   atomic.Int64
}

func (f *fakeVerifier) Verify(_ context.Context, tok string) (*cognitoguard.Claims, error) {
	f.calls.Add(1)
	switch {
	case tok != "tok":
		return nil, &cognitoguard.Error{Kind: cognitoguard.ErrMalformed}
	case f.revoked.Load():
		return nil, &cognitoguard.Error{Kind: cognitoguard.ErrRevoked}
	case !time.Now().Before(f.expiry):
		return nil, &cognitoguard.Error{Kind: cognitoguard.ErrExpired}
	}
	return &cognitoguard.Claims{Subject: "alice", Expiry: f.expiry}, nil
}

// fakeConn is a handler's stream whose messages always arrive and leave.
type fakeConn struct{ header http.Header }

func (c *fakeConn) Spec() connect.Spec {
	return connect.Spec{Procedure: "/t.v1.T/Bidi", StreamType: connect.StreamTypeBidi}
}
func (c *fakeConn) Peer() connect.Peer           { return connect.Peer{} }
func (c *fakeConn) Receive(any) error            { return nil }
func (c *fakeConn) RequestHeader() http.Header   { return c.header }
func (c *fakeConn) Send(any) error               { return nil }
func (c *fakeConn) ResponseHeader() http.Header  { return http.Header{} }
func (c *fakeConn) ResponseTrailer() http.Header { return http.Header{} }
func newFakeConn() *fakeConn                     { return &fakeConn{header: http.Header{"Authorization": {"Bearer tok"}}} }
func wantCalls(t *testing.T, f *fakeVerifier, n int64) {
	t.Helper()
	if got := f.calls.Load(); got != n {
		t.Fatalf("Verify called %d times, want %d", got, n)
	}
}

// TestRecheckInterval: an open stream re-verifies its token at most every
// RecheckInterval (on the monotonic clock, faked by synctest), so a
// sign-out ends it at the first message after the interval, and the
// stream ends CodeUnauthenticated even when the handler returns nil.
func TestRecheckInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeVerifier{expiry: time.Now().Add(time.Hour)}
		g := connectguard.New(f, connectguard.Config{RecheckInterval: 100 * time.Millisecond})
		handler := g.WrapStreamingHandler(func(ctx context.Context, conn connect.StreamingHandlerConn) error {
			wantCalls(t, f, 1) // at open
			if err := conn.Send(nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(99 * time.Millisecond)
			if err := conn.Receive(new(struct{})); err != nil {
				t.Fatal(err)
			}
			wantCalls(t, f, 1) // within the interval: no re-verification
			time.Sleep(time.Millisecond)
			if err := conn.Send(nil); err != nil {
				t.Fatal(err)
			}
			wantCalls(t, f, 2)
			f.revoked.Store(true)
			if err := conn.Send(nil); err != nil {
				t.Fatal("re-verified within the interval", err) // the sign-out is seen at the next due check
			}
			time.Sleep(100 * time.Millisecond)
			if err := conn.Receive(new(struct{})); connect.CodeOf(err) != connect.CodeUnauthenticated {
				t.Fatalf("Receive after the sign-out: %v", err)
			}
			if ctx.Err() == nil {
				t.Error("handler's context not cancelled")
			}
			// Every later message fails the same way, without asking again.
			if err := conn.Send(nil); connect.CodeOf(err) != connect.CodeUnauthenticated {
				t.Fatalf("Send after the failure: %v", err)
			}
			wantCalls(t, f, 3)
			return nil // a handler that ignores the failure
		})
		if err := handler(t.Context(), newFakeConn()); connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Fatalf("stream ended with %v, want CodeUnauthenticated", err)
		}
	})
}

// TestRecheckAtExpiry: whatever the interval, the token is verified again
// once it reaches its expiry.
func TestRecheckAtExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeVerifier{expiry: time.Now().Add(time.Second)}
		g := connectguard.New(f, connectguard.Config{RecheckInterval: time.Hour})
		handler := g.WrapStreamingHandler(func(ctx context.Context, conn connect.StreamingHandlerConn) error {
			time.Sleep(999 * time.Millisecond)
			if err := conn.Send(nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
			err := conn.Send(nil)
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() != connect.CodeUnauthenticated || ce.Message() != "token expired" {
				t.Fatalf("Send at expiry: %v", err)
			}
			return err
		})
		if err := handler(t.Context(), newFakeConn()); connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Fatalf("stream ended with %v", err)
		}
		wantCalls(t, f, 2)
	})
}

// TestRecheckEveryMessage: a negative interval re-verifies every message.
func TestRecheckEveryMessage(t *testing.T) {
	f := &fakeVerifier{expiry: time.Now().Add(time.Hour)}
	g := connectguard.New(f, connectguard.Config{RecheckInterval: -1})
	err := g.WrapStreamingHandler(func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		for range 3 {
			if err := conn.Send(nil); err != nil {
				return err
			}
		}
		return nil
	})(t.Context(), newFakeConn())
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, f, 4)
}

package recheck

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
)

// verifier answers err (nil: claims) and counts its calls.
type verifier struct {
	calls atomic.Int32
	err   atomic.Pointer[error]
	nilOK bool // answer neither claims nor error
}

func (v *verifier) Verify(context.Context, string) (*cognitoguard.Claims, error) {
	v.calls.Add(1)
	if p := v.err.Load(); p != nil {
		return nil, *p
	}
	if v.nilOK {
		return nil, nil
	}
	return &cognitoguard.Claims{}, nil
}

// TestVerifyNeither: a Verifier answering neither claims nor error is
// unavailable, never a pass.
func TestVerifyNeither(t *testing.T) {
	_, err := Verify(t.Context(), &verifier{nilOK: true}, "t")
	if !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

// TestStream: between re-checks only expiry is looked at; a failed check
// is the transport's error for ever, cancels the handler's context and
// wins over what the handler returns.
func TestStream(t *testing.T) {
	now := time.Unix(1000, 0)
	v := &verifier{}
	p := NewPolicy(v, time.Hour, func() time.Time { return now })
	transport := errors.New("transport: unauthenticated")
	var rejected atomic.Int32
	s := p.Open(t.Context(), "t", &cognitoguard.Claims{Expiry: now.Add(time.Minute)}, func(error) error {
		rejected.Add(1)
		return transport
	})
	t.Cleanup(s.Close)
	if err := s.Check(); err != nil || v.calls.Load() != 0 {
		t.Fatalf("Check within interval = %v after %d calls, want nil after 0", err, v.calls.Load())
	}
	revoked := error(&cognitoguard.Error{Kind: cognitoguard.ErrRevoked})
	v.err.Store(&revoked)
	now = now.Add(time.Minute) // expiry reached: verified again
	for range 2 {
		if err := s.Check(); err != transport {
			t.Fatalf("Check after revocation = %v, want the transport's error", err)
		}
	}
	if v.calls.Load() != 1 || rejected.Load() != 1 {
		t.Errorf("calls = %d, rejects = %d, want 1 and 1", v.calls.Load(), rejected.Load())
	}
	if context.Cause(s.Context()) != transport {
		t.Errorf("handler context cause = %v, want the transport's error", context.Cause(s.Context()))
	}
	if err := s.Result(nil); err != transport {
		t.Errorf("Result(nil) = %v, want the transport's error", err)
	}
}

// TestPolicyDefaults: zero interval is DefaultInterval; negative checks
// every message.
func TestPolicyDefaults(t *testing.T) {
	if p := NewPolicy(&verifier{}, 0, nil); p.interval != DefaultInterval || p.now == nil {
		t.Errorf("NewPolicy(0, nil) = %v, now nil %v", p.interval, p.now == nil)
	}
	v := &verifier{}
	s := NewPolicy(v, -1, nil).Open(t.Context(), "t", &cognitoguard.Claims{Expiry: time.Now().Add(time.Hour)}, func(err error) error { return err })
	t.Cleanup(s.Close)
	for range 3 {
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	}
	if v.calls.Load() != 3 {
		t.Errorf("negative interval: %d verifications for 3 checks, want 3", v.calls.Load())
	}
	if err := s.Result(errors.New("handler")); err == nil || err.Error() != "handler" {
		t.Errorf("Result = %v, want the handler's error", err)
	}
}

// TestLogRejection: a rejection is a Debug record with class, kind and
// reason; an unavailable verification a Warn record with the error's
// text too.
func TestLogRejection(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	revoked := &cognitoguard.Error{Kind: cognitoguard.ErrRevoked, Reason: "signed out"}
	LogRejection(t.Context(), log, "guard: call rejected", false, slog.String("method", "/m"), "Unauthenticated", revoked)
	LogRejection(t.Context(), log, "guard: call rejected", true, slog.String("method", "/m"), "Unavailable", errors.New("redis down"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d records, want 2:\n%s", len(lines), buf.String())
	}
	for i, want := range [][]string{
		{"level=DEBUG", "method=/m", "code=Unauthenticated", "class=", "reason=\"signed out\""},
		{"level=WARN", "code=Unavailable", "error=\"redis down\""},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("record %d = %s, want %s in it", i, lines[i], w)
			}
		}
	}
}

// resettable is a message with a Reset method.
type resettable struct{ body string }

func (r *resettable) Reset() { r.body = "" }

// TestCheckReceived: a message that arrives after the token failed its
// check is reset; one that arrives before is left alone.
func TestCheckReceived(t *testing.T) {
	v := &verifier{}
	s := NewPolicy(v, -1, nil).Open(t.Context(), "t", &cognitoguard.Claims{Expiry: time.Now().Add(time.Hour)}, func(err error) error { return err })
	t.Cleanup(s.Close)
	m := &resettable{"secret"}
	if err := s.CheckReceived(m); err != nil || m.body != "secret" {
		t.Fatalf("CheckReceived = %v, body %q; want nil and the body kept", err, m.body)
	}
	revoked := error(&cognitoguard.Error{Kind: cognitoguard.ErrRevoked})
	v.err.Store(&revoked)
	if err := s.CheckReceived(m); !errors.Is(err, cognitoguard.ErrRevoked) || m.body != "" {
		t.Errorf("CheckReceived after revocation = %v, body %q; want ErrRevoked and the body reset", err, m.body)
	}
}

package redisstore

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestRunnerBoundsCalls: a call answers within the timeout whatever fn
// does, fn's context ends at the timeout, and stop waits for fn.
func TestRunnerBoundsCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newRunner(250 * time.Millisecond)
		boom := errors.New("boom")
		if err := g.call(t.Context(), func(context.Context) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("call = %v, want fn's error", err)
		}
		start := time.Now()
		ended := make(chan struct{})
		err := g.call(t.Context(), func(ctx context.Context) error {
			<-ctx.Done() // a client honouring its context
			time.Sleep(time.Second)
			close(ended)
			return nil
		})
		if err == nil || time.Since(start) != 250*time.Millisecond {
			t.Errorf("blocked call = %v after %v, want a timeout at 250ms", err, time.Since(start))
		}
		g.stop()
		select {
		case <-ended:
		default:
			t.Error("stop returned before the abandoned call ended")
		}
		if err := g.wait(t.Context(), make(chan struct{})); !errors.Is(err, errStoreClosed) {
			t.Errorf("wait after stop = %v, want %v", err, errStoreClosed)
		}
	})
}

// TestFloorRaise: the floor only rises, and ignores or hides expired

// TestCallValueAbandoned: a call that times out returns the zero value and
// never reads what fn, still running, writes afterwards (the race
// detector saw publishSignOut read its receivers count while an abandoned
// PUBLISH wrote it).
func TestCallValueAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newRunner(100 * time.Millisecond)
		release := make(chan struct{})
		n, err := callValue(t.Context(), g, func(context.Context) (int64, error) {
			<-release
			return 42, nil
		})
		if n != 0 || err == nil {
			t.Errorf("abandoned call = %d, %v; want 0 and a timeout", n, err)
		}
		close(release)
		g.stop()
		if n, err := callValue(t.Context(), newRunner(time.Second), func(context.Context) (int64, error) { return 7, nil }); n != 7 || err != nil {
			t.Errorf("call = %d, %v; want 7", n, err)
		}
	})
}

// values.
func TestFloorRaise(t *testing.T) {
	const ttl = 1000
	var f floor
	f.raise(5000, 5500, ttl)
	f.raise(4000, 5500, ttl) // lower: ignored
	if f.load() != 5000 {
		t.Errorf("floor %d, want 5000", f.load())
	}
	f.raise(100, 5500, ttl) // expired: ignored
	if f.load() != 5000 {
		t.Errorf("floor %d after an expired value, want 5000", f.load())
	}
	if got := f.time(6000, ttl); !got.Equal(time.UnixMilli(5000)) {
		t.Errorf("time at 6000 = %v, want 5000 ms", got)
	}
	if got := f.time(6001, ttl); !got.IsZero() {
		t.Errorf("time at 6001 = %v, want zero (expired)", got)
	}
}

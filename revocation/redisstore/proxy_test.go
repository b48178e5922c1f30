package redisstore_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestRedisServerHangingReconnectFailsClosed: a proxy in front of Redis
// resets every connection, then accepts new ones and never answers, so the
// subscription's reconnect hangs inside the client; meanwhile another
// instance records a sign-out. The proxied store must fail closed within
// 1.5 × Staleness, never answer "not revoked" afterwards, and recover by
// itself once the proxy forwards again.
func TestRedisServerHangingReconnectFailsClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-second fault test")
	}
	for _, tc := range []struct {
		name        string
		readTimeout time.Duration
	}{
		{"go-redis defaults", 0},
		{"ReadTimeout 10s", 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := redistest.Server(t)
			proxy := redistest.NewProxy(t, addr)
			prefix := uniquePrefix()
			const staleness = time.Second
			pc := redis.NewClient(&redis.Options{Addr: proxy.Addr(), ReadTimeout: tc.readTimeout})
			t.Cleanup(func() { pc.Close() })
			logs := new(recordLog)
			proxied := newRedisStore(t, pc, redisstore.Config{Prefix: prefix, Staleness: staleness, Logger: slog.New(logs)})
			dc := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { dc.Close() })
			direct := newRedisStore(t, dc, redisstore.Config{Prefix: prefix, Staleness: staleness})
			ctx := t.Context()
			if r, err := revokedErr(ctx, proxied, "alice"); r || err != nil { // warm: "no record" cached
				t.Fatalf("warm-up: %v, %v", r, err)
			}

			closing, err := redisstore.New(pc, redisstore.Config{Prefix: prefix, Staleness: staleness})
			if err != nil {
				t.Fatal(err)
			}
			if err := closing.Ready(ctx); err != nil {
				t.Fatal(err)
			}

			proxy.Blackhole()
			if err := direct.RevokeUser(ctx, testPool, "alice", time.Now()); err != nil {
				t.Fatal(err)
			}
			signedOut := time.Now()
			closedAt := waitFailClosed(t, proxied, signedOut, 3*staleness)
			t.Logf("failed closed %v after the sign-out (bound %v)", closedAt.Round(time.Millisecond), staleness*3/2)
			if closedAt > staleness*3/2 {
				t.Errorf("failed closed %v after the sign-out, want within 1.5 × Staleness", closedAt)
			}
			// Logged when it happens, not when the blocked subscription resumes.
			if n := logs.count(slog.LevelWarn, "no proof of freshness"); n != 1 {
				t.Errorf("%d Warn records of the lapse, want 1", n)
			}

			start := time.Now()
			closing.Close()
			// Bounded by the client's dial and read timeouts, with slack.
			if d, bound := time.Since(start), 5*time.Second+max(tc.readTimeout, 3*time.Second)+3*time.Second; d > bound {
				t.Errorf("Close took %v with the reconnect hanging, want within %v", d, bound)
			}

			proxy.Forward()
			waitRecovered(t, proxied, 3*max(tc.readTimeout, 5*time.Second)+5*time.Second)
		})
	}
}

// waitRecovered polls s until alice's lookup answers revoked (the store
// trusted again), failing on any "not revoked" meanwhile.
func waitRecovered(t *testing.T, s *redisstore.Store, limit time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		r, err := revokedErr(t.Context(), s, "alice")
		if r && err == nil {
			break
		}
		if !r && err == nil {
			t.Fatal("answered not revoked while recovering")
		}
		if time.Since(start) > limit {
			t.Fatalf("not recovered %v after the proxy forwards again: %v", time.Since(start), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("recovered %v after the proxy forwards again", time.Since(start).Round(time.Millisecond))
	if !s.Stats().Trusted {
		t.Error("recovered but not trusted")
	}
}

// waitFailClosed polls s until alice's lookup stops answering "not
// revoked", and returns how long after since that was; it then checks
// that s keeps failing closed for another second.
func waitFailClosed(t *testing.T, s *redisstore.Store, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	ctx := t.Context()
	var at time.Duration
	for {
		r, err := revokedErr(ctx, s, "alice")
		if err != nil && !errors.Is(err, revocation.ErrUnavailable) {
			t.Fatalf("Revoked: %v, want revocation.ErrUnavailable", err)
		}
		if r || err != nil {
			at = time.Since(since)
			break
		}
		if time.Since(since) > limit {
			t.Fatalf("still answering not revoked %v after the sign-out", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if r, err := revokedErr(ctx, s, "alice"); !r && err == nil {
			t.Fatal("answered not revoked again after failing closed")
		}
	}
	return at
}

package revocation_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation"
)

const testIss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test"

var prefixSeq atomic.Int64

// uniquePrefix isolates stores sharing one Redis.
func uniquePrefix() string { return fmt.Sprintf("cgtest%d:", prefixSeq.Add(1)) }

// testLogger logs to the test output when -v is set.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// newRedisStore returns a ready store, closed at cleanup.
func newRedisStore(t testing.TB, c redis.UniversalClient, cfg revocation.RedisConfig) *revocation.Redis {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := revocation.NewRedis(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually polls cond every few milliseconds until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func TestRedisMiniredisContract(t *testing.T) {
	var mr *miniredis.Miniredis
	runContract(t, contractEnv{
		newStore: func(t *testing.T, now func() time.Time) revocation.Store {
			mr = miniredis.RunT(t)
			c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { c.Close() })
			return newRedisStore(t, c, revocation.RedisConfig{Now: now})
		},
		advance: func(t *testing.T, d time.Duration) { mr.FastForward(d) },
	})
}

func TestRedisServerContract(t *testing.T) {
	srv := startRedisServer(t)
	c := srv.client(t)
	runContract(t, contractEnv{
		newStore: func(t *testing.T, now func() time.Time) revocation.Store {
			return newRedisStore(t, c, revocation.RedisConfig{Now: now, Prefix: uniquePrefix()})
		},
	})
}

func TestClusterContract(t *testing.T) {
	addrs := startCluster(t)
	c := clusterClient(t, addrs)
	runContract(t, contractEnv{
		newStore: func(t *testing.T, now func() time.Time) revocation.Store {
			return newRedisStore(t, c, revocation.RedisConfig{Now: now, Prefix: uniquePrefix()})
		},
	})
}

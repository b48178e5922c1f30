// Package deploy_test checks the Redis files shipped in deploy/redis
// against a real redis-server: cognitoguard.conf (persistence, no
// eviction) and users.acl (the permissions of the service, the ops
// command and the events consumer). docs/production.md cites these tests.
package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestConfigRestart: with cognitoguard.conf, the store accepts Redis (its
// eviction check passes) and a sign-out survives a restart of Redis,
// without a data-loss floor (appendfsync always: everysec may postpone the
// write for up to two seconds while a fsync is slow, and lose the sign-out
// to a crash of the process alone); without persistence (the tests' default
// redis-server), the same restart signs everyone out: the running
// instance detects the loss and rejects every token authenticated before
// it.
func TestConfigRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts redis-server: not with -short")
	}
	leaktest.Check(t)
	for _, tc := range []struct {
		name        string
		start       func(t *testing.T) string
		everyoneOut bool
	}{
		{"cognitoguard.conf", func(t *testing.T) string {
			addr, _ := redistest.ServerWith(t, redistest.Options{Conf: confFile(t)})
			return addr
		}, false},
		{"no persistence", func(t *testing.T) string {
			addr, _ := redistest.Server(t)
			return addr
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.start(t)
			if tc.name == "cognitoguard.conf" {
				wantConfig(t, addr, map[string]string{"appendonly": "yes", "appendfsync": "always", "maxmemory-policy": "noeviction"})
			}
			client := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond,
				ReadTimeout: time.Second, WriteTimeout: time.Second, ContextTimeoutEnabled: true})
			t.Cleanup(func() { client.Close() })
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			s, err := redisstore.New(client, redisstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			if p := s.Stats().EvictionPolicy; p != "noeviction" {
				t.Fatalf("eviction check: %q, want noeviction", p)
			}
			before := time.Now().Add(-time.Minute)
			if err := s.RevokeUser(ctx, pool, "alice", time.Now()); err != nil {
				t.Fatal(err)
			}

			redistest.Restart(t, addr)
			if tc.everyoneOut {
				if err := poll(ctx, func() bool { return !s.Stats().Floor.IsZero() && s.Stats().Trusted }); err != nil {
					t.Fatalf("no floor after a restart without persistence: %+v", s.Stats())
				}
			} else {
				// The subscription breaks and comes back; the health check
				// runs again before the view is trusted.
				if err := poll(ctx, func() bool { return s.Stats().Rebuilds > 0 && s.Stats().Trusted }); err != nil {
					t.Fatalf("not trusted again after the restart: %+v", s.Stats())
				}
				if st := s.Stats(); st.DataLosses != 0 || !st.Floor.IsZero() {
					t.Fatalf("a restart with cognitoguard.conf lost data: %+v", st)
				}
			}
			for sub, want := range map[string]bool{"alice": true, "bob": tc.everyoneOut} {
				if r, err := s.Revoked(ctx, claims(sub, before)); r != want || err != nil {
					t.Errorf("%s after the restart: Revoked = %v, %v; want %v", sub, r, err, want)
				}
			}
		})
	}
}

// confFile is a copy of cognitoguard.conf, read by the test (so that go
// test's cache knows the test depends on it).
func confFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cognitoguard.conf")
	if err := os.WriteFile(p, []byte(readFile(t, "cognitoguard.conf")), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantConfig checks settings of the server at addr with CONFIG GET.
func wantConfig(t *testing.T, addr string, want map[string]string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for k, v := range want {
		got, err := c.ConfigGet(t.Context(), k).Result()
		if err != nil || got[k] != v {
			t.Errorf("CONFIG GET %s = %v, %v; want %s", k, got, err, v)
		}
	}
}

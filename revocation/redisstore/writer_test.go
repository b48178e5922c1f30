package redisstore_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestRedisServerSignOutRoundTrips: a sign-out sends one write round trip
// (the script; with WaitReplicas the script and WAIT on one connection),
// then PUBLISH, and no read before the write, a retried one included
// (RevokeUserSince decides the retry in the script).
func TestRedisServerSignOutRoundTrips(t *testing.T) {
	addr, _ := redistest.Server(t)
	for _, tc := range []struct {
		name     string
		replicas int
		write    func(s *redisstore.Store, at time.Time) error
		want     [][]string
	}{
		{"RevokeUser", 0, func(s *redisstore.Store, at time.Time) error {
			return s.RevokeUser(t.Context(), testPool, "alice", at)
		}, [][]string{{"evalsha"}, {"publish"}}},
		{"RevokeSession", 0, func(s *redisstore.Store, at time.Time) error {
			return s.RevokeSession(t.Context(), testPool, "alice", "origin-1", at)
		}, [][]string{{"evalsha"}, {"publish"}}},
		{"RevokeUserSince (a retry)", 0, func(s *redisstore.Store, at time.Time) error {
			_, kept, err := s.RevokeUserSince(t.Context(), testPool, "warm", at.Add(-time.Hour), at)
			if !kept {
				t.Error("RevokeUserSince did not keep the earlier sign-out")
			}
			return err
		}, [][]string{{"evalsha"}, {"publish"}}},
		{"RevokeUser with WaitReplicas", 1, func(s *redisstore.Store, at time.Time) error {
			if err := s.RevokeUser(t.Context(), testPool, "alice", at); !errors.Is(err, revocation.ErrUnconfirmed) {
				t.Errorf("RevokeUser without replicas = %v, want ErrUnconfirmed", err)
			}
			return nil
		}, [][]string{{"evalsha"}, {"wait"}, {"publish"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { c.Close() })
			h := new(roundTrips)
			c.AddHook(h)
			s := newRedisStore(t, c, redisstore.Config{Prefix: uniquePrefix(), WaitReplicas: tc.replicas, Timeout: time.Second})
			at := time.Now()
			_ = s.RevokeUser(t.Context(), testPool, "warm", at.Add(-time.Minute)) // the script is cached
			h.mu.Lock()
			h.trips = nil
			h.mu.Unlock()
			if err := tc.write(s, at); err != nil {
				t.Fatal(err)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			var got [][]string
			for _, trip := range h.trips {
				if !slices.Contains(trip, "info") { // the health check's, not the sign-out's
					got = append(got, trip)
				}
			}
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("round trips %v, want %v", got, tc.want)
			}
		})
	}
}

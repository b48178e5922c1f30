package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// evicting makes the server at addr evict keys.
func evicting(t *testing.T, addr string) {
	t.Helper()
	for _, kv := range [][2]string{{"maxmemory", "4mb"}, {"maxmemory-policy", "volatile-lru"}} {
		if _, err := redistest.Do(addr, "CONFIG", "SET", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRedisServerUncheckedIsUnconfirmed: a store whose health check has
// not read the eviction policy yet (just created, the check held back)
// cannot confirm a sign-out on an evicting Redis: "not checked yet" is
// unconfirmed (issue 19 item 6).
func TestRedisServerUncheckedIsUnconfirmed(t *testing.T) {
	addr, _ := redistest.Server(t)
	evicting(t, addr)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	gate := new(healthGate)
	gate.closed.Store(true)
	c.AddHook(gate)
	s, err := redisstore.New(c, redisstore.Config{Prefix: uniquePrefix(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = s.RevokeUser(t.Context(), testPool, "alice", time.Now())
	if !errors.Is(err, revocation.ErrUnconfirmed) {
		t.Fatalf("first sign-out before any health check = %v, want ErrUnconfirmed", err)
	}
	if _, ok, err := s.SignedOutAt(t.Context(), testPool, "alice"); !ok || err != nil {
		t.Errorf("the write was not attempted: SignedOutAt = %v, %v", ok, err)
	}
}

// TestRedisServerEvictionUnderACL: with INFO refused by an ACL the policy
// is read with CONFIG GET; with both refused the store fails closed
// unless TrustUnverifiedEviction (issue 19 item 6).
func TestRedisServerEvictionUnderACL(t *testing.T) {
	addr, _ := redistest.Server(t)
	evicting(t, addr)
	for _, acl := range [][]string{
		{"ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "&*", "+@all", "-info"},
		{"ACL", "SETUSER", "blind", "on", ">pw", "~*", "&*", "+@all", "-info", "-config"},
	} {
		if _, err := redistest.Do(addr, acl...); err != nil {
			t.Fatal(err)
		}
	}
	client := func(user string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: "pw"})
		t.Cleanup(func() { c.Close() })
		return c
	}
	ready := func(s *redisstore.Store) error {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		return s.Ready(ctx)
	}
	for _, tc := range []struct {
		name, user string
		trust      bool
		want       string // in Ready's error; "" trusted
	}{
		{"INFO refused: CONFIG GET sees the policy", "noinfo", false, "volatile-lru"},
		{"both refused: fail closed", "blind", false, "TrustUnverifiedEviction"},
		{"both refused, opt-in", "blind", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisstore.New(client(tc.user), redisstore.Config{Prefix: uniquePrefix(), TrustUnverifiedEviction: tc.trust})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			err = ready(s)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Ready = %v, want trusted", err)
			case tc.want != "" && (!errors.Is(err, revocation.ErrUnavailable) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Ready = %v, want ErrUnavailable naming %q", err, tc.want)
			}
		})
	}
}

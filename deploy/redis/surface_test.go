package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/acltest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

const pool = "eu-west-1_Deploy1"

// newClient is a client of addrs (a Cluster's when several) as user, with
// the timeouts docs/production.md recommends.
func newClient(addrs []string, user string) redis.UniversalClient {
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 addrs,
		Username:              user,
		Password:              acltest.Password,
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		ContextTimeoutEnabled: true,
	})
}

func claims(sub string, authTime time.Time) *cognitoguard.Claims {
	return &cognitoguard.Claims{UserPoolID: pool, Subject: sub, AuthTime: authTime, IssuedAt: authTime}
}

// storeSurface is what a service instance (and the ops command, which
// opens the same store) sends: two instances with acknowledgements, every
// lookup, write and read, the data-loss marker and its floor, and a write
// waiting for a replica (none here: the shortfall must come from WAIT's
// answer, not from a refusal). admin deletes the marker to make the
// instances detect a data loss.
func storeSurface(addrs []string, sharded *bool, admin func(ctx context.Context) error) acltest.Surface {
	return func(ctx context.Context, user string) error {
		cfg := redisstore.Config{Sharded: sharded, Staleness: 200 * time.Millisecond, WaitInstances: true}
		a, closeA, err := openStore(ctx, addrs, user, cfg)
		if err != nil {
			return err
		}
		defer closeA()
		b, closeB, err := openStore(ctx, addrs, user, cfg)
		if err != nil {
			return err
		}
		defer closeB()
		if p := a.Stats().EvictionPolicy; p != "noeviction" {
			return fmt.Errorf("eviction check: policy %q, want noeviction", p)
		}
		before := time.Now().Add(-time.Minute)
		// b caches alice and carol as not signed out (HGETALL), then learns
		// of a's sign-outs by pub/sub and acknowledges them.
		for _, sub := range []string{"alice", "carol"} {
			if r, err := b.Revoked(ctx, claims(sub, before)); r || err != nil {
				return fmt.Errorf("b: %s before any sign-out: %v, %w", sub, r, err)
			}
		}
		if err := a.RevokeUser(ctx, pool, "alice", time.Now()); err != nil {
			return fmt.Errorf("a: RevokeUser: %w", err)
		}
		if err := a.RevokeSession(ctx, pool, "carol", "jti-1", time.Now()); err != nil {
			return fmt.Errorf("a: RevokeSession: %w", err)
		}
		if r, err := b.Revoked(ctx, claims("alice", before)); !r || err != nil {
			return fmt.Errorf("b: alice after the sign-out: %v, %w", r, err)
		}
		if at, ok, err := b.SignedOutAt(ctx, pool, "alice"); !ok || err != nil || at.Before(before) {
			return fmt.Errorf("b: SignedOutAt(alice) = %v, %v, %w", at, ok, err)
		}

		// A data loss: both notice the marker gone, restore and record a floor.
		if err := admin(ctx); err != nil {
			return err
		}
		for _, s := range []*redisstore.Store{a, b} {
			if err := poll(ctx, func() bool { st := s.Stats(); return st.DataLosses > 0 && !st.Floor.IsZero() && st.Trusted }); err != nil {
				return fmt.Errorf("data loss not handled: %+v: %w", s.Stats(), err)
			}
		}
		if r, err := b.Revoked(ctx, claims("bob", before)); !r || err != nil {
			return fmt.Errorf("b: bob under the floor: %v, %w", r, err)
		}

		if err := expireSession(ctx, addrs, user, sharded); err != nil {
			return err
		}
		// WaitReplicas: WAIT runs and answers 0 replicas.
		w, closeW, err := openStore(ctx, addrs, user, redisstore.Config{Sharded: sharded, WaitReplicas: 1})
		if err != nil {
			return err
		}
		defer closeW()
		err = w.RevokeUser(ctx, pool, "dave", time.Now())
		if !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "0 of 1 replicas") {
			return fmt.Errorf("WaitReplicas without a replica: %v, want a shortfall of WAIT", err)
		}
		return nil
	}
}

// writeOnlySurface is what the events consumer's store sends: a
// write-only store's writes and reads.
func writeOnlySurface(addrs []string, sharded *bool) acltest.Surface {
	return func(ctx context.Context, user string) error {
		s, closeS, err := openStore(ctx, addrs, user, redisstore.Config{Sharded: sharded, WriteOnly: true})
		if err != nil {
			return err
		}
		defer closeS()
		if err := s.RevokeUser(ctx, pool, "erin", time.Now()); err != nil {
			return fmt.Errorf("write-only RevokeUser: %w", err)
		}
		if err := s.RevokeSession(ctx, pool, "erin", "jti-2", time.Now()); err != nil {
			return fmt.Errorf("write-only RevokeSession: %w", err)
		}
		if _, ok, err := s.SignedOutAt(ctx, pool, "erin"); !ok || err != nil {
			return fmt.Errorf("write-only SignedOutAt: %v, %w", ok, err)
		}
		if err := expireSession(ctx, addrs, user, sharded); err != nil {
			return err
		}
		w, closeW, err := openStore(ctx, addrs, user, redisstore.Config{Sharded: sharded, WriteOnly: true, WaitReplicas: 1})
		if err != nil {
			return err
		}
		defer closeW()
		err = w.RevokeUser(ctx, pool, "erin", time.Now())
		if !errors.Is(err, revocation.ErrUnconfirmed) || !strings.Contains(err.Error(), "0 of 1 replicas") {
			return fmt.Errorf("WaitReplicas without a replica: %v, want a shortfall of WAIT", err)
		}
		return nil
	}
}

// expireSession makes the write script drop a field that expired
// relative to the newest (HDEL): a session revoked more than a TTL before
// the user's sign-out, on a store whose clock jumps.
func expireSession(ctx context.Context, addrs []string, user string, sharded *bool) error {
	t0 := time.Now()
	var now atomic.Pointer[time.Time]
	now.Store(&t0)
	s, done, err := openStore(ctx, addrs, user, redisstore.Config{Sharded: sharded, WriteOnly: true,
		Now: func() time.Time { return *now.Load() }})
	if err != nil {
		return err
	}
	defer done()
	if err := s.RevokeSession(ctx, pool, "frank", "jti-old", t0); err != nil {
		return fmt.Errorf("RevokeSession: %w", err)
	}
	later := t0.Add(revocation.DefaultTTL + time.Minute)
	now.Store(&later)
	if err := s.RevokeUser(ctx, pool, "frank", later); err != nil {
		return fmt.Errorf("RevokeUser after a session expired: %w", err)
	}
	return nil
}

// openStore opens a store as user and waits until it is ready.
func openStore(ctx context.Context, addrs []string, user string, cfg redisstore.Config) (*redisstore.Store, func(), error) {
	c := newClient(addrs, user)
	s, err := redisstore.New(c, cfg)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	done := func() { s.Close(); c.Close() }
	if err := s.Ready(ctx); err != nil {
		done()
		return nil, nil, fmt.Errorf("Ready: %w", err)
	}
	return s, done, nil
}

// poll waits until cond holds or ctx ends.
func poll(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

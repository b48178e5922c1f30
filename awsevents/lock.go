package awsevents

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrLocked is returned by [Lock.Acquire] when another owner holds the
// lock.
var ErrLocked = errors.New("awsevents: lock held by another consumer")

// Lock is a Redis lock with an owner token and an expiry: one consumer at
// a time backfills (CloudTrail's LookupEvents quota is per account and
// region). SET NX PX takes it; it is released, and extended, only by its
// owner (a script compares the token), so an owner whose lock expired
// never releases its successor's. It is safe for concurrent use.
type Lock struct {
	client redis.UniversalClient
	key    string
	ttl    time.Duration
}

// NewLock returns the lock at key, held for ttl unless extended.
func NewLock(client redis.UniversalClient, key string, ttl time.Duration) (*Lock, error) {
	switch {
	case client == nil || key == "":
		return nil, errors.New("awsevents: NewLock: nil client or empty key")
	case ttl < time.Millisecond:
		return nil, fmt.Errorf("awsevents: NewLock: ttl %v under 1ms", ttl)
	}
	return &Lock{client: client, key: key, ttl: ttl}, nil
}

// Held is an acquired lock.
type Held struct {
	l     *Lock
	token string
}

// Acquire takes the lock, or fails with [ErrLocked] if another owner
// holds it (or with Redis's error).
func (l *Lock) Acquire(ctx context.Context) (*Held, error) {
	token := rand.Text()
	ok, err := l.client.SetNX(ctx, l.key, token, l.ttl).Result()
	switch {
	case err != nil:
		return nil, fmt.Errorf("awsevents: lock %s: %w", l.key, err)
	case !ok:
		return nil, ErrLocked
	}
	return &Held{l: l, token: token}, nil
}

var (
	releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
	extendScript  = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)
)

// Extend pushes the expiry back to ttl from now; it fails with
// [ErrLocked] if the lock expired and is no longer this owner's.
func (h *Held) Extend(ctx context.Context) error {
	n, err := extendScript.Run(ctx, h.l.client, []string{h.l.key}, h.token, h.l.ttl.Milliseconds()).Int()
	switch {
	case err != nil:
		return fmt.Errorf("awsevents: extend lock %s: %w", h.l.key, err)
	case n == 0:
		return ErrLocked
	}
	return nil
}

// Release frees the lock if this owner still holds it; releasing a lock
// that expired (and maybe went to another owner) is a no-op.
func (h *Held) Release(ctx context.Context) error {
	if err := releaseScript.Run(ctx, h.l.client, []string{h.l.key}, h.token).Err(); err != nil {
		return fmt.Errorf("awsevents: release lock %s: %w", h.l.key, err)
	}
	return nil
}

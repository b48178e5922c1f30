package awsevents_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
)

// TestLock: one owner at a time; only the owner releases or extends; an
// expired owner's release leaves its successor's lock alone.
func TestLock(t *testing.T) {
	addr, _ := redistest.Server(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	ctx := t.Context()
	l, err := awsevents.NewLock(client, "lock", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ctx); !errors.Is(err, awsevents.ErrLocked) {
		t.Fatalf("second Acquire = %v, want ErrLocked", err)
	}
	if err := a.Extend(ctx); err != nil {
		t.Fatalf("Extend by the owner: %v", err)
	}
	time.Sleep(400 * time.Millisecond) // a's lock expires
	b, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire after expiry: %v", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Extend(ctx); !errors.Is(err, awsevents.ErrLocked) {
		t.Errorf("Extend by the expired owner = %v, want ErrLocked", err)
	}
	if _, err := l.Acquire(ctx); !errors.Is(err, awsevents.ErrLocked) {
		t.Fatalf("the expired owner's Release freed its successor's lock (Acquire = %v)", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ctx); err != nil {
		t.Errorf("Acquire after the owner's Release: %v", err)
	}
}

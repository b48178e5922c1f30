package events_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// Handle records the sign-out of one message: what a Lambda handler does
// for each record of an SQS batch.
func ExampleConsumer_Handle() {
	now := func() time.Time { return time.Date(2026, 6, 1, 12, 0, 5, 0, time.UTC) }
	store := revocation.NewMemory(revocation.MemoryConfig{Now: now})
	c, err := events.New(store, []events.Pool{{ID: "us-east-1_AbCdEf123"}}, events.Config{Now: now})
	if err != nil {
		panic(err)
	}
	body, err := os.ReadFile(filepath.Join("..", "testdata", "cloudtrail", "GlobalSignOut.json"))
	if err != nil {
		panic(err)
	}
	r, err := c.Handle(context.Background(), body)
	fmt.Println(r.Outcome, r.EventName, r.PoolIDs, r.Lag, err)
	at, _, _ := store.SignedOutAt(context.Background(), "us-east-1_AbCdEf123", "4f0c9d2e-8b1a-4c3d-9e5f-6a7b8c9d0e1f")
	fmt.Println("signed out at", at.UTC())
	// Output:
	// recorded GlobalSignOut [us-east-1_AbCdEf123] 5s <nil>
	// signed out at 2026-06-01 12:00:00 +0000 UTC
}

// Run consumes a queue until its context is done.
func ExampleConsumer_Run() {
	store := revocation.NewMemory(revocation.MemoryConfig{})
	c, err := events.New(store, []events.Pool{{ID: "us-east-1_AbCdEf123"}}, events.Config{})
	if err != nil {
		panic(err)
	}
	queue := events.NewMemQueue(events.MemQueueConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Run(ctx, queue) }()
	// EventBridge (or a test) sends to the queue; Run records the sign-outs.
}

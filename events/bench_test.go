package events_test

import (
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// BenchmarkHandle measures the core's cost per message: decoding,
// judging and recording a GlobalSignOut into the in-process store (the
// ceiling of one consumer without a queue or network).
func BenchmarkHandle(b *testing.B) {
	now := func() time.Time { return eventTime.Add(time.Second) }
	store := revocation.NewMemory(revocation.MemoryConfig{Now: now})
	c, err := events.New(store, testPools, events.Config{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	body := testdata(b, "GlobalSignOut")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Handle(b.Context(), body); err != nil {
			b.Fatal(err)
		}
	}
}

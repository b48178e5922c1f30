package events_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/events"
)

// FuzzHandle: no message body panics the consumer, and every outcome
// agrees with its error.
func FuzzHandle(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "cloudtrail", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"source":"aws.cognito-idp","detail":{"eventSource":"cognito-idp.amazonaws.com","eventName":"GlobalSignOut"}}`))
	c, err := events.New(nopRecorder{}, testPools, events.Config{Passwords: true, Sessions: true,
		Now: func() time.Time { return eventTime }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := c.Handle(t.Context(), body)
		if r.Outcome.Final() != (err == nil) {
			t.Fatalf("outcome %v with error %v", r.Outcome, err)
		}
		if r.Outcome == events.Recorded && len(r.PoolIDs) == 0 {
			t.Fatal("recorded under no pool")
		}
	})
}

type nopRecorder struct{}

func (nopRecorder) RevokeUser(context.Context, string, string, time.Time) error { return nil }

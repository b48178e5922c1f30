//go:build unix

package awsevents_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/awsevents/internal/fauxqs"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// TestTemplateIAM: the consumer's IAM policy in the template grants
// exactly the AWS operations the tests saw the consumer's clients call
// (recorded by an SDK middleware): this test drives every one of them
// (the queue's four, the backfill's LookupEvents), and the package's
// other tests add theirs to the same record.
func TestTemplateIAM(t *testing.T) {
	s := fauxqs.Start(t)
	q := s.CreateQueue(t, "iam", fauxqs.QueueConfig{Visibility: time.Second})
	sq := consumerQueue(t, s, q, awsevents.SQSConfig{WaitTime: time.Second})
	ctx := t.Context()
	send(t, s, q, record(t, "GlobalSignOut"))
	msgs, err := sq.Receive(ctx)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %v, %v", msgs, err)
	}
	if err := sq.ExtendVisibility(ctx, msgs[0], time.Second); err != nil {
		t.Fatal(err)
	}
	if err := sq.Delete(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := sq.Depth(ctx); err != nil {
		t.Fatal(err)
	}
	const id = "us-east-1_IamPool1"
	p, _ := backfillPool(t, id, 1)
	store := revocation.NewMemory(revocation.MemoryConfig{})
	b := newBackfill(t, p, id, store)
	if _, err := b.Run(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, want := consumerOps.Actions(), consumerActions(t); !slices.Equal(got, want) {
		t.Errorf("operations the consumer called: %v\nthe template's consumer policy grants: %v", got, want)
	}
}

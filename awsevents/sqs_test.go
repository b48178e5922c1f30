//go:build unix

package awsevents_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/awsevents/internal/fauxqs"
	"github.com/cognitoguard/cognitoguard/awsevents/internal/opsrec"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// consumerOps collects every AWS operation the consumer's clients call in
// this package's tests (TestTemplateIAM compares it with the template).
var consumerOps opsrec.Recorder

// consumerQueue is the consumer's view of q: an awsevents.SQS over its
// own client, whose calls are recorded.
func consumerQueue(t testing.TB, s *fauxqs.Server, q fauxqs.Queue, cfg awsevents.SQSConfig) *awsevents.SQS {
	t.Helper()
	c := fauxqs.NewClient(s.URL, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, consumerOps.Option) })
	sq, err := awsevents.NewSQS(c, q.URL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sq
}

// body is testdata/cloudtrail/name.json with the sub and eventTime
// replaced.
func body(t testing.TB, name, sub string, at time.Time) string {
	t.Helper()
	b := strings.ReplaceAll(record(t, name), tdSub, sub)
	return strings.ReplaceAll(b, tdTime.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
}

func send(t testing.TB, s *fauxqs.Server, q fauxqs.Queue, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := s.Client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: &q.URL, MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSQS: Receive returns the batch with receive counts and send times,
// ExtendVisibility keeps a message hidden, Delete removes it, Depth
// counts, and a cancelled long poll returns at once.
func TestSQS(t *testing.T) {
	s := fauxqs.Start(t)
	q := s.CreateQueue(t, "sqs", fauxqs.QueueConfig{Visibility: time.Second})
	sq := consumerQueue(t, s, q, awsevents.SQSConfig{WaitTime: 2 * time.Second})
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	send(t, s, q, "a", "b", "c")

	msgs, err := sq.Receive(ctx)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("Receive = %d messages, %v; want 3", len(msgs), err)
	}
	for _, m := range msgs {
		if m.ID == "" || m.Handle == "" || m.ReceiveCount != 1 || m.SentAt.Before(before) || m.SentAt.After(time.Now()) {
			t.Errorf("message %+v: want ID, Handle, ReceiveCount 1, SentAt now", m)
		}
	}
	if d, err := sq.Depth(ctx); err != nil || d != (awsevents.Depth{InFlight: 3}) {
		t.Errorf("Depth = %+v, %v; want 3 in flight", d, err)
	}
	if err := sq.ExtendVisibility(ctx, msgs[0], 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := sq.Delete(ctx, msgs[1]); err != nil {
		t.Fatal(err)
	}
	// After the 1 s visibility, only the third is back.
	deadline := time.Now().Add(10 * time.Second)
	var again []events.Message
	for len(again) == 0 && time.Now().Before(deadline) {
		if again, err = sq.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(again) != 1 || string(again[0].Body) != string(msgs[2].Body) || again[0].ReceiveCount != 2 {
		t.Fatalf("received again %+v, want only %q with ReceiveCount 2", again, msgs[2].Body)
	}
	if err := sq.Delete(ctx, again[0]); err != nil {
		t.Fatal(err)
	}

	// A long poll on the empty queue returns as soon as ctx is done.
	long := consumerQueue(t, s, q, awsevents.SQSConfig{})
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if m, err := long.Receive(cctx); err == nil && len(m) != 0 {
		t.Errorf("Receive on an empty queue = %+v", m)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled long poll returned after %v", d)
	}
}

// TestSQSDeleteBatch: DeleteBatch deletes more than ten messages (in
// requests of ten), and names a message it could not delete.
func TestSQSDeleteBatch(t *testing.T) {
	s := fauxqs.Start(t)
	q := s.CreateQueue(t, "batch", fauxqs.QueueConfig{Visibility: 30 * time.Second})
	sq := consumerQueue(t, s, q, awsevents.SQSConfig{WaitTime: time.Second})
	ctx := t.Context()
	const n = 25
	for i := range n {
		send(t, s, q, fmt.Sprint(i))
	}
	var msgs []events.Message
	for len(msgs) < n {
		m, err := sq.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m...)
	}
	if err := sq.DeleteBatch(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if c := s.Counts(t, q.Name); c.Total() != 0 {
		t.Errorf("after DeleteBatch: %+v left, want every message deleted", c)
	}
}

// partialSQS answers DeleteMessageBatch with its second entry failed
// (fauxqs never fails an entry).
type partialSQS struct{ awsevents.SQSAPI }

func (partialSQS) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	out := &sqs.DeleteMessageBatchOutput{}
	for i, e := range in.Entries {
		if i == 1 {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ReceiptHandleIsInvalid"), Message: aws.String("bad")})
		} else {
			out.Successful = append(out.Successful, sqstypes.DeleteMessageBatchResultEntry{Id: e.Id})
		}
	}
	return out, nil
}

// TestSQSDeleteBatchPartial: the error of a partly failed batch names the
// message not deleted.
func TestSQSDeleteBatchPartial(t *testing.T) {
	sq, err := awsevents.NewSQS(partialSQS{}, "http://q", awsevents.SQSConfig{})
	if err != nil {
		t.Fatal(err)
	}
	err = sq.DeleteBatch(t.Context(), []events.Message{{ID: "m0", Handle: "h0"}, {ID: "m1", Handle: "h1"}, {ID: "m2", Handle: "h2"}})
	if err == nil || !strings.Contains(err.Error(), "m1") || strings.Contains(err.Error(), "m0") || strings.Contains(err.Error(), "m2") {
		t.Errorf("DeleteBatch = %v, want an error naming m1 only", err)
	}
}

func TestNewSQSChecks(t *testing.T) {
	c := fauxqs.NewClient("http://127.0.0.1:1")
	for name, cfg := range map[string]awsevents.SQSConfig{
		"long poll over 20 s": {WaitTime: 21 * time.Second},
		"batch over 10":       {MaxMessages: 11},
		"negative batch":      {MaxMessages: -1},
		"negative timeout":    {Timeout: -1},
	} {
		if _, err := awsevents.NewSQS(c, "http://q", cfg); err == nil {
			t.Errorf("%s: NewSQS succeeded", name)
		}
	}
	if _, err := awsevents.NewSQS(c, "", awsevents.SQSConfig{}); err == nil {
		t.Error("empty URL: NewSQS succeeded")
	}
	if _, err := awsevents.NewSQS(nil, "http://q", awsevents.SQSConfig{}); err == nil {
		t.Error("nil client: NewSQS succeeded")
	}
}

// outageRecorder fails every write while down is set.
type outageRecorder struct {
	*revocation.Memory
	down    atomic.Bool
	applied atomic.Int64
}

func (o *outageRecorder) RevokeUser(ctx context.Context, pool, sub string, at time.Time) error {
	if o.down.Load() {
		return fmt.Errorf("%w: down (test)", revocation.ErrUnavailable)
	}
	o.applied.Add(1)
	return o.Memory.RevokeUser(ctx, pool, sub, at)
}

// TestRunOverSQS: the consumer over fauxqs with visibility 1 s and
// maxReceiveCount 3 records every valid sign-out and dead-letters only
// the malformed messages (an Error log each), a store outage of several
// visibility timeouts sends nothing to the DLQ, and in the end applied +
// queued + dead-lettered = sent.
func TestRunOverSQS(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits for redrives")
	}
	leaktest.Check(t)
	s := fauxqs.Start(t)
	q := s.CreateQueue(t, "run", fauxqs.QueueConfig{Visibility: time.Second, MaxReceive: 3})
	sq := consumerQueue(t, s, q, awsevents.SQSConfig{WaitTime: time.Second})
	rec := &outageRecorder{Memory: revocation.NewMemory(revocation.MemoryConfig{})}
	logs := &syncbuf.Buffer{}
	c, err := events.New(rec, []events.Pool{{ID: tdPool}}, events.Config{
		Visibility: time.Second, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	const valid, malformed = 20, 3
	var sent int
	for i := range valid {
		send(t, s, q, body(t, "AdminUserGlobalSignOut", fmt.Sprintf("sub-%d", i), now))
		sent++
	}
	for range malformed {
		send(t, s, q, `{"not":"an event"`)
		sent++
	}
	rec.down.Store(true) // the store is down when the consumer starts

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, sq) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	time.Sleep(5 * time.Second) // five visibility timeouts of outage
	if dl := s.Counts(t, q.DLQ.Name).Total(); dl != 0 {
		t.Fatalf("%d messages dead-lettered during the store outage", dl)
	}
	rec.down.Store(false)

	deadline := time.Now().Add(60 * time.Second)
	for {
		queued, dead := s.Counts(t, q.Name).Total(), s.Counts(t, q.DLQ.Name).Total()
		if queued == 0 && dead == malformed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: queued %d, dead-lettered %d (want 0, %d); applied %d", queued, dead, malformed, rec.applied.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var applied int
	for i := range valid {
		if _, ok, _ := rec.Memory.SignedOutAt(t.Context(), tdPool, fmt.Sprintf("sub-%d", i)); ok {
			applied++
		}
	}
	if q, dl := s.Counts(t, q.Name).Total(), s.Counts(t, q.DLQ.Name).Total(); applied+q+dl != sent || applied != valid {
		t.Errorf("applied %d + queued %d + dead-lettered %d != sent %d (want %d applied)", applied, q, dl, sent, valid)
	}
	// One Error line per malformed delivery: at least one per malformed message.
	if n := strings.Count(logs.String(), `"level":"ERROR","msg":"events: malformed`); n < malformed {
		t.Errorf("%d malformed Error logs, want ≥ %d\n%s", n, malformed, logs)
	}
}

package awsevents_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// The values of the records in testdata/cloudtrail.
const (
	tdPool  = "us-east-1_AbCdEf123"
	tdSub   = "4f0c9d2e-8b1a-4c3d-9e5f-6a7b8c9d0e1f"
	tdOther = "eu-west-1_OtherPool9"
)

var tdTime = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// record reads testdata/cloudtrail/name.json.
func record(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "cloudtrail", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// flakyRecorder fails its first fails writes, then records into Memory.
type flakyRecorder struct {
	*revocation.Memory
	fails atomic.Int64
}

func (f *flakyRecorder) RevokeUser(ctx context.Context, pool, sub string, at time.Time) error {
	if f.fails.Add(-1) >= 0 {
		return revocation.ErrUnavailable
	}
	return f.Memory.RevokeUser(ctx, pool, sub, at)
}

// tdMemory is an in-process store whose clock is a minute after the
// records' time.
func tdMemory() *revocation.Memory {
	return revocation.NewMemory(revocation.MemoryConfig{Now: func() time.Time { return tdTime.Add(time.Minute) }})
}

func newConsumer(t testing.TB, rec events.Recorder, now time.Time) *events.Consumer {
	t.Helper()
	c, err := events.New(rec, []events.Pool{{ID: tdPool}}, events.Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sqsEvent(bodies map[string]string) lambdaevents.SQSEvent {
	var ev lambdaevents.SQSEvent
	for _, id := range slices.Sorted(maps.Keys(bodies)) {
		ev.Records = append(ev.Records, lambdaevents.SQSMessage{MessageId: id, ReceiptHandle: "h-" + id, Body: bodies[id]})
	}
	return ev
}

func failures(r lambdaevents.SQSEventResponse) []string {
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

// TestHandlerBatchItemFailures: the handler reports exactly the records
// that are not done — malformed ones, and those the store could not
// record within the invocation — and records the others.
func TestHandlerBatchItemFailures(t *testing.T) {
	bodies := map[string]string{
		"signout":   record(t, "GlobalSignOut"),
		"admin":     record(t, "AdminUserGlobalSignOut"),
		"signin":    record(t, "InitiateAuth"),
		"failed":    record(t, "GlobalSignOut-failed"),
		"otherpool": record(t, "AdminUserGlobalSignOut-otherpool"),
		"hostedui":  record(t, "Token_POST"),
		"garbage":   `{"detail":`,
		"nosub":     `{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-idp","region":"us-east-1","detail":{"eventName":"GlobalSignOut","eventSource":"cognito-idp.amazonaws.com","awsRegion":"us-east-1","eventTime":"2026-06-01T12:00:00Z"}}`,
	}
	tests := []struct {
		name   string
		fails  int64         // store failures before it records
		budget time.Duration // the invocation's time (0: no deadline)
		want   []string
	}{
		{"store up", 0, 0, []string{"garbage", "nosub"}},
		{"store down", 1 << 30, 0, []string{"admin", "garbage", "nosub", "signout"}},
		{"store back within the invocation", 3, 15 * time.Second, []string{"garbage", "nosub"}},
		{"store down for the whole invocation", 1 << 30, 7 * time.Second, []string{"admin", "garbage", "nosub", "signout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &flakyRecorder{Memory: tdMemory()}
			rec.fails.Store(tt.fails)
			h, err := awsevents.NewHandler(newConsumer(t, rec, tdTime.Add(time.Minute)))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tt.budget > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.budget)
				defer cancel()
			}
			resp, err := h(ctx, sqsEvent(bodies))
			if err != nil {
				t.Fatalf("handler error %v; it must report failures per record", err)
			}
			if got := failures(resp); !slices.Equal(got, tt.want) {
				t.Errorf("BatchItemFailures = %v, want %v", got, tt.want)
			}
			at, ok, err := rec.Memory.SignedOutAt(ctx, tdPool, tdSub)
			recorded := !slices.Contains(tt.want, "signout")
			if err != nil || ok != recorded || (ok && !at.Equal(tdTime)) {
				t.Errorf("SignedOutAt = %v, %v, %v; want recorded=%v at eventTime %v", at, ok, err, recorded, tdTime)
			}
			if _, ok, _ := rec.Memory.SignedOutAt(ctx, tdOther, tdSub); ok {
				t.Error("the unconfigured pool's sub was recorded")
			}
		})
	}
}

// TestHandlerOutOfTime: records the invocation had no time for are
// reported, not dropped.
func TestHandlerOutOfTime(t *testing.T) {
	rec := tdMemory()
	h, err := awsevents.NewHandler(newConsumer(t, rec, tdTime.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	resp, _ := h(ctx, sqsEvent(map[string]string{"a": record(t, "GlobalSignOut"), "b": record(t, "DeleteUser")}))
	if got := failures(resp); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("BatchItemFailures = %v, want both", got)
	}
}

func TestNewHandlerNil(t *testing.T) {
	if _, err := awsevents.NewHandler(nil); err == nil {
		t.Error("NewHandler(nil) succeeded")
	}
}

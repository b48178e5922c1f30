package awsevents_test

import (
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestHandlerWriteOnlyStore: the Lambda handler over a write-only Redis
// store records the batch's sign-outs in a real redis-server, reports
// exactly the malformed record, and opens no subscription (no client of
// the server is subscribed to anything) nor goroutine.
func TestHandlerWriteOnlyStore(t *testing.T) {
	addr, _ := redistest.Server(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	leaktest.Check(t, func() { client.Close() })
	store, err := redisstore.New(client, redisstore.Config{WriteOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	c, err := events.New(store, []events.Pool{{ID: tdPool}}, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := awsevents.NewHandler(c)
	if err != nil {
		t.Fatal(err)
	}
	ev := lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{
		{MessageId: "1", Body: body(t, "AdminUserGlobalSignOut", "lambda-sub-1", now)},
		{MessageId: "2", Body: body(t, "GlobalSignOut", "lambda-sub-2", now)},
		{MessageId: "3", Body: `{"detail":`},
	}}
	resp, err := h(t.Context(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "3" {
		t.Fatalf("handler = %+v, %v; want only record 3 failed", resp, err)
	}
	for _, sub := range []string{"lambda-sub-1", "lambda-sub-2"} {
		at, ok, err := store.SignedOutAt(t.Context(), tdPool, sub)
		if err != nil || !ok || !at.Equal(now.Truncate(time.Second)) {
			t.Errorf("%s: SignedOutAt = %v, %v, %v; want the eventTime %v", sub, at, ok, err, now.Truncate(time.Second))
		}
	}
	list, err := client.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(list) {
		for _, f := range []string{" sub=", " psub=", " ssub="} {
			if i := strings.Index(line, f); i >= 0 && !strings.HasPrefix(line[i+len(f):], "0 ") {
				t.Errorf("a client of redis-server is subscribed: %s", line)
			}
		}
	}
}

//go:build unix

package fauxqs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitoguard/cognitoguard/awsevents/internal/fauxqs"
)

// TestRedrive pins what the consumer's tests rely on: a message received
// MaxReceive times without being deleted moves to the dead-letter queue on
// the next receive, and ChangeMessageVisibility keeps a message hidden.
func TestRedrive(t *testing.T) {
	s := fauxqs.Start(t)
	q := s.CreateQueue(t, "redrive", fauxqs.QueueConfig{Visibility: time.Second, MaxReceive: 2})
	ctx := t.Context()
	if _, err := s.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.URL, MessageBody: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	receive := func(wait int32) []types.Message {
		out, err := s.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &q.URL, WaitTimeSeconds: wait, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	for i := 1; i <= 2; i++ {
		m := receive(5)
		if len(m) != 1 || m[0].Attributes["ApproximateReceiveCount"] != fmt.Sprint(i) {
			t.Fatalf("receive %d: %+v", i, m)
		}
		if i == 1 { // hidden for 3 s instead of 1
			if _, err := s.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
				QueueUrl: &q.URL, ReceiptHandle: m[0].ReceiptHandle, VisibilityTimeout: 3,
			}); err != nil {
				t.Fatal(err)
			}
			if m := receive(2); len(m) != 0 {
				t.Fatalf("received %+v within 2 s, want it hidden for 3 s", m)
			}
		}
	}
	if m := receive(3); len(m) != 0 {
		t.Fatalf("third receive: %+v, want the message moved to the DLQ", m)
	}
	if c := s.Counts(t, q.DLQ.Name); c.Total() != 1 {
		t.Errorf("DLQ counts = %+v, want 1 message", c)
	}
	if c := s.Counts(t, q.Name); c.Total() != 0 {
		t.Errorf("queue counts = %+v, want empty", c)
	}
}

package awsevents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitoguard/cognitoguard/events"
)

// Defaults and bounds of [SQSConfig].
const (
	// MaxWaitTime is SQS's longest long poll.
	MaxWaitTime = 20 * time.Second
	// MaxBatch is the most messages one ReceiveMessage returns.
	MaxBatch = 10
	// DefaultSQSTimeout bounds each call but the long poll, and is the
	// margin added to the long poll's WaitTime.
	DefaultSQSTimeout = 10 * time.Second
)

// SQSAPI is the part of the SQS client the queue uses; *sqs.Client
// implements it. These four operations are the consumer's SQS rights
// (the template's IAM policy grants exactly them).
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// SQSConfig holds the optional settings of an [SQS] queue. Its zero value
// long-polls 20 s for batches of 10.
type SQSConfig struct {
	// WaitTime is the long poll of each Receive, in whole seconds, at
	// most [MaxWaitTime]. Default MaxWaitTime. A negative value means 0
	// (short polling: an empty queue costs a request per Receive).
	WaitTime time.Duration
	// MaxMessages is the batch size of each Receive, 1 to [MaxBatch].
	// Default MaxBatch.
	MaxMessages int
	// Timeout bounds every call but the long poll, which gets WaitTime +
	// Timeout; the caller's context bounds them too. Default
	// [DefaultSQSTimeout].
	Timeout time.Duration
	// BatchDeletes makes Delete queue the message and return: a goroutine
	// of the queue deletes what accumulated while its previous request was
	// in flight with DeleteMessageBatch (up to ten a request), which is
	// what lifts one consumer above the rate of one DeleteMessage per
	// message (BENCHMARKS.md). A delete is only ever asked after the
	// message's record is durable; one lost (a crash before it is sent,
	// a failed request, logged at Warn) only makes the message come back,
	// harmlessly. The client MUST implement [SQSBatchAPI], and [SQS.Close]
	// MUST be called. Default false: Delete is one DeleteMessage.
	BatchDeletes bool
	// Logger receives the failures of batched deletes. Default: none.
	Logger *slog.Logger
}

// SQS is an [events.Queue] over an Amazon SQS standard queue (the one the
// EventBridge rule of the CloudFormation template targets). It is safe
// for concurrent use.
type SQS struct {
	client SQSAPI
	url    string
	cfg    SQSConfig
	batch  *batcher // nil without BatchDeletes
}

var _ events.Queue = (*SQS)(nil)

// NewSQS returns the queue at queueURL read through client. client and
// queueURL are required.
func NewSQS(client SQSAPI, queueURL string, cfg SQSConfig) (*SQS, error) {
	switch {
	case client == nil:
		return nil, errors.New("awsevents: NewSQS: nil client")
	case queueURL == "":
		return nil, errors.New("awsevents: NewSQS: empty queue URL")
	case cfg.WaitTime > MaxWaitTime:
		return nil, fmt.Errorf("awsevents: NewSQS: WaitTime %v over %v", cfg.WaitTime, MaxWaitTime)
	case cfg.MaxMessages < 0 || cfg.MaxMessages > MaxBatch:
		return nil, fmt.Errorf("awsevents: NewSQS: MaxMessages %d not in 1..%d", cfg.MaxMessages, MaxBatch)
	case cfg.Timeout < 0:
		return nil, errors.New("awsevents: NewSQS: negative Timeout")
	}
	if cfg.WaitTime == 0 {
		cfg.WaitTime = MaxWaitTime
	}
	cfg.WaitTime = max(cfg.WaitTime, 0).Truncate(time.Second)
	if cfg.MaxMessages == 0 {
		cfg.MaxMessages = MaxBatch
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSQSTimeout
	}
	q := &SQS{client: client, url: queueURL, cfg: cfg}
	if cfg.BatchDeletes {
		bc, ok := client.(SQSBatchAPI)
		if !ok {
			return nil, errors.New("awsevents: NewSQS: BatchDeletes needs a client with DeleteMessageBatch")
		}
		log := cfg.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		q.batch = newBatcher(q, bc, log)
	}
	return q, nil
}

// Close stops the batched deletes, after sending those queued; Delete
// then fails with [ErrClosed]. Without BatchDeletes it does nothing. It
// is idempotent.
func (q *SQS) Close() error {
	if q.batch != nil {
		q.batch.close()
	}
	return nil
}

// Receive implements [events.Queue]: one long poll of up to WaitTime for
// up to MaxMessages messages, with their receive counts and send times.
func (q *SQS) Receive(ctx context.Context) ([]events.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.WaitTime+q.cfg.Timeout)
	defer cancel()
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(q.url),
		MaxNumberOfMessages: int32(q.cfg.MaxMessages),
		WaitTimeSeconds:     int32(q.cfg.WaitTime / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("awsevents: ReceiveMessage: %w", err)
	}
	msgs := make([]events.Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := events.Message{
			ID:     aws.ToString(m.MessageId),
			Handle: aws.ToString(m.ReceiptHandle),
			Body:   []byte(aws.ToString(m.Body)),
		}
		msg.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			msg.SentAt = time.UnixMilli(ms)
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// Delete implements [events.Queue] with DeleteMessage, or, with
// BatchDeletes, by queueing m for the next DeleteMessageBatch.
func (q *SQS) Delete(ctx context.Context, m events.Message) error {
	if q.batch != nil {
		return q.batch.enqueue(ctx, m)
	}
	ctx, cancel := context.WithTimeout(ctx, q.cfg.Timeout)
	defer cancel()
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(m.Handle)})
	if err != nil {
		return fmt.Errorf("awsevents: DeleteMessage %s: %w", m.ID, err)
	}
	return nil
}

// maxVisibility is SQS's longest visibility timeout (12 hours).
const maxVisibility = 12 * time.Hour

// ExtendVisibility implements [events.Queue] with ChangeMessageVisibility:
// m stays hidden for d from now, rounded up to a whole second and capped
// at 12 hours.
func (q *SQS) ExtendVisibility(ctx context.Context, m events.Message, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.Timeout)
	defer cancel()
	secs := int32(math.Ceil(min(max(d, 0), maxVisibility).Seconds()))
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(m.Handle), VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("awsevents: ChangeMessageVisibility %s: %w", m.ID, err)
	}
	return nil
}

// Depth is a queue's approximate message counts (GetQueueAttributes).
type Depth struct {
	Visible  int // waiting to be received (ApproximateNumberOfMessages)
	InFlight int // received, not yet deleted nor visible again (…NotVisible)
	Delayed  int // not yet visible (…Delayed)
}

// Depth returns the queue's approximate counts, for the lag metrics.
func (q *SQS) Depth(ctx context.Context) (Depth, error) {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.Timeout)
	defer cancel()
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return Depth{}, fmt.Errorf("awsevents: GetQueueAttributes: %w", err)
	}
	var d Depth
	for name, dst := range map[types.QueueAttributeName]*int{
		types.QueueAttributeNameApproximateNumberOfMessages:           &d.Visible,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible: &d.InFlight,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed:    &d.Delayed,
	} {
		v, ok := out.Attributes[string(name)]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return Depth{}, fmt.Errorf("awsevents: GetQueueAttributes: %s = %q", name, v)
		}
		*dst = n
	}
	return d, nil
}

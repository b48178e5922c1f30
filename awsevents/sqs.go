package awsevents

import (
	"context"
	"errors"
	"fmt"
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
// implements it. These operations are the consumer's SQS rights (the
// template's IAM policy grants exactly them; DeleteMessageBatch is
// authorised by sqs:DeleteMessage).
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
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
}

// SQS is an [events.Queue] over an Amazon SQS standard queue (the one the
// EventBridge rule of the CloudFormation template targets). It is safe
// for concurrent use.
type SQS struct {
	client SQSAPI
	url    string
	cfg    SQSConfig
}

var (
	_ events.Queue        = (*SQS)(nil)
	_ events.BatchDeleter = (*SQS)(nil)
)

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
	return &SQS{client: client, url: queueURL, cfg: cfg}, nil
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

// Delete implements [events.Queue] with DeleteMessage.
func (q *SQS) Delete(ctx context.Context, m events.Message) error {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.Timeout)
	defer cancel()
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(m.Handle)})
	if err != nil {
		return fmt.Errorf("awsevents: DeleteMessage %s: %w", m.ID, err)
	}
	return nil
}

// DeleteBatch implements [events.BatchDeleter] with DeleteMessageBatch,
// ten messages a request: [events.Consumer.Run] deletes the messages done
// in a received batch in one call. The error names the messages not
// deleted (they come back, harmlessly).
func (q *SQS) DeleteBatch(ctx context.Context, ms []events.Message) error {
	var errs []error
	for len(ms) > 0 {
		n := min(len(ms), MaxBatch)
		errs = append(errs, q.deleteBatch(ctx, ms[:n]))
		ms = ms[n:]
	}
	return errors.Join(errs...)
}

func (q *SQS) deleteBatch(ctx context.Context, ms []events.Message) error {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.Timeout)
	defer cancel()
	entries := make([]types.DeleteMessageBatchRequestEntry, len(ms))
	for i, m := range ms {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.Handle)}
	}
	out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
	if err != nil {
		return fmt.Errorf("awsevents: DeleteMessageBatch of %d messages: %w", len(ms), err)
	}
	var errs []error
	for _, f := range out.Failed {
		id := aws.ToString(f.Id)
		if i, err := strconv.Atoi(id); err == nil && i >= 0 && i < len(ms) {
			id = ms[i].ID
		}
		errs = append(errs, fmt.Errorf("awsevents: DeleteMessageBatch: message %s: %s: %s", id, aws.ToString(f.Code), aws.ToString(f.Message)))
	}
	return errors.Join(errs...)
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

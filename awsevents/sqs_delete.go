package awsevents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitoguard/cognitoguard/events"
)

// ErrClosed is returned by [SQS.Delete] after [SQS.Close].
var ErrClosed = errors.New("awsevents: queue closed")

// SQSBatchAPI is [SQSAPI] with DeleteMessageBatch, for
// [SQSConfig.BatchDeletes]; *sqs.Client implements it. DeleteMessageBatch
// is authorised by sqs:DeleteMessage.
type SQSBatchAPI interface {
	SQSAPI
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

var _ SQSBatchAPI = (*sqs.Client)(nil)

// batcher sends the queued deletes in batches of up to ten: whatever
// accumulated while the previous batch was in flight.
type batcher struct {
	q       *SQS
	client  SQSBatchAPI
	log     *slog.Logger
	deletes chan events.Message

	mu     sync.RWMutex
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

func newBatcher(q *SQS, client SQSBatchAPI, log *slog.Logger) *batcher {
	b := &batcher{q: q, client: client, log: log, deletes: make(chan events.Message, 4*MaxBatch),
		stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// enqueue hands m to the batcher; it blocks while ten batches wait.
func (b *batcher) enqueue(ctx context.Context, m events.Message) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	select {
	case b.deletes <- m:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("awsevents: delete of %s not queued: %w", m.ID, ctx.Err())
	}
}

func (b *batcher) run() {
	defer close(b.done)
	for {
		var m events.Message
		select {
		case m = <-b.deletes:
		case <-b.stop:
			b.drain()
			return
		}
		b.flush(b.take(m))
	}
}

// take returns m and what else is queued, up to a batch.
func (b *batcher) take(m events.Message) []events.Message {
	batch := []events.Message{m}
	for len(batch) < MaxBatch {
		select {
		case m := <-b.deletes:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

// drain sends what is queued at Close.
func (b *batcher) drain() {
	for {
		select {
		case m := <-b.deletes:
			b.flush(b.take(m))
		default:
			return
		}
	}
}

// flush deletes batch; a failure is logged at Warn (the messages come
// back after their visibility timeout and are handled again, harmlessly).
func (b *batcher) flush(batch []events.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), b.q.cfg.Timeout)
	defer cancel()
	entries := make([]types.DeleteMessageBatchRequestEntry, len(batch))
	for i, m := range batch {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: aws.String(m.Handle)}
	}
	out, err := b.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(b.q.url), Entries: entries})
	if err != nil {
		b.log.LogAttrs(ctx, slog.LevelWarn, "awsevents: DeleteMessageBatch failed; the messages will be handled again",
			slog.Int("messages", len(batch)), slog.Any("error", err))
		return
	}
	for _, f := range out.Failed {
		b.log.LogAttrs(ctx, slog.LevelWarn, "awsevents: message not deleted; it will be handled again",
			slog.String("code", aws.ToString(f.Code)), slog.String("detail", aws.ToString(f.Message)))
	}
}

// close stops the batcher after sending what is queued.
func (b *batcher) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		return
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.done
}

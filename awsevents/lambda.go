package awsevents

import (
	"context"
	"errors"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/cognitoguard/cognitoguard/events"
)

// Handler is the consumer as the handler of an AWS Lambda function fed by
// an SQS event source mapping with ReportBatchItemFailures: pass it to
// lambda.Start (github.com/aws/aws-lambda-go/lambda) in your function's
// main.
type Handler func(context.Context, lambdaevents.SQSEvent) (lambdaevents.SQSEventResponse, error)

// Handler timing: the first retry of a store failure, the longest pause
// between retries, and the part of the invocation's remaining time kept
// back so that the response is sent before Lambda's deadline.
const (
	handlerRetryMin = 100 * time.Millisecond
	handlerRetryMax = 2 * time.Second
	handlerMargin   = time.Second
)

// NewHandler returns the Lambda handler that records the sign-outs of
// each SQS record's body through c (see [events.Consumer.Handle]). c is
// required.
//
// The response lists exactly the records that are not done, by message
// ID, so that Lambda deletes every other one: malformed messages (left for
// the queue's redrive policy, each logged at Error by c) and those whose
// sign-out the store failed to record. Those are retried within the
// invocation, with backoff, until one second before its deadline, and
// reported only then: a Lambda receive always counts against the queue's
// maxReceiveCount, so a store outage longer than maxReceiveCount
// invocations would dead-letter valid sign-outs. Give the Lambda queue a
// generous maxReceiveCount and a long visibility timeout (the template
// does), and redrive the dead-letter queue after an outage; the
// long-running consumer (cognitoguard-events run) has no such limit.
//
// In Lambda, the store MUST be write-only (redisstore.Config.WriteOnly:
// no subscription, view, acknowledgements nor goroutine): a frozen
// container must never hold up the fleet.
// The handler never returns an error: a failed invocation would
// redeliver the whole batch.
func NewHandler(c *events.Consumer) (Handler, error) {
	if c == nil {
		return nil, errors.New("awsevents: NewHandler: nil Consumer")
	}
	return func(ctx context.Context, ev lambdaevents.SQSEvent) (lambdaevents.SQSEventResponse, error) {
		return handleBatch(ctx, c, ev.Records), nil
	}, nil
}

// handleBatch handles recs, retrying store failures while time is left,
// and returns the failures.
func handleBatch(ctx context.Context, c *events.Consumer, recs []lambdaevents.SQSMessage) lambdaevents.SQSEventResponse {
	var failed []lambdaevents.SQSBatchItemFailure
	var retry []lambdaevents.SQSMessage
	for _, r := range recs {
		if ctx.Err() != nil { // out of time: not handled, so not done
			failed = append(failed, lambdaevents.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			continue
		}
		_, err := c.Handle(ctx, []byte(r.Body))
		switch {
		case err == nil:
		case errors.Is(err, events.ErrStore):
			retry = append(retry, r)
		default: // malformed: for the redrive policy
			failed = append(failed, lambdaevents.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	for backoff := handlerRetryMin; len(retry) > 0 && timeLeft(ctx, backoff); backoff = min(2*backoff, handlerRetryMax) {
		if !pause(ctx, backoff) {
			break
		}
		var again []lambdaevents.SQSMessage
		for _, r := range retry {
			if _, err := c.Handle(ctx, []byte(r.Body)); err != nil {
				again = append(again, r)
			}
		}
		retry = again
	}
	for _, r := range retry {
		failed = append(failed, lambdaevents.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
	}
	return lambdaevents.SQSEventResponse{BatchItemFailures: failed}
}

// timeLeft reports whether ctx leaves time for a pause of d and another
// attempt before its deadline, less handlerMargin. A context without a
// deadline (not Lambda's) gets no retries.
func timeLeft(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) > d+handlerMargin+events.DefaultTimeout
}

// pause waits d or until ctx is done, reporting whether d passed.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

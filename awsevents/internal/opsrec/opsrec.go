// Package opsrec records the AWS operations an SDK client calls, as IAM
// actions ("sqs:ReceiveMessage"), so that tests can check the
// CloudFormation template grants the consumer exactly what it uses.
package opsrec

import (
	"context"
	"slices"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Recorder collects IAM actions. Its zero value is ready; it is safe for
// concurrent use.
type Recorder struct {
	mu   sync.Mutex
	seen map[string]bool
}

// Option is an SDK client option (append it to sqs.Options.APIOptions or
// cloudtrail.Options.APIOptions) that records every operation called.
func (r *Recorder) Option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("cognitoguard-opsrec",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.add(Action(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)))
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// Action is the IAM action that authorises operation op of the SDK
// service id: SQS's batch operations are authorised by their single
// counterparts (sqs:DeleteMessage for DeleteMessageBatch).
func Action(id, op string) string {
	prefix := strings.ToLower(strings.ReplaceAll(id, " ", ""))
	if prefix == "sqs" {
		op = strings.TrimSuffix(op, "Batch")
	}
	return prefix + ":" + op
}

func (r *Recorder) add(action string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[action] = true
}

// Actions returns the actions recorded, sorted.
func (r *Recorder) Actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.seen {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

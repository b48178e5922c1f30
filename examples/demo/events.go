package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/events"
)

// eventsPipe carries the pool's CloudTrail records to a consumer, as
// EventBridge and SQS do in AWS: the pool's sink wraps each record in an
// EventBridge event and sends it to an in-process queue, which an
// events.Consumer recording into instance A's store runs on.
type eventsPipe struct {
	queue *events.MemQueue
	seq   atomic.Int64

	mu      sync.Mutex
	applied []events.Result
	changed chan struct{}
	held    [][]byte // records kept back while hold is set
	hold    bool

	stop func()
}

// startEvents wires pool → queue → consumer (into rec) and starts the
// consumer; stop ends it and waits for it.
func (d *demo) startEvents(ctx context.Context, rec events.Recorder) (*eventsPipe, error) {
	ep := &eventsPipe{queue: events.NewMemQueue(events.MemQueueConfig{Wait: time.Second}), changed: make(chan struct{})}
	c, err := events.New(rec, []events.Pool{{ID: d.pool.PoolID()}}, events.Config{Logger: d.log, OnEvent: ep.onEvent})
	if err != nil {
		return nil, err
	}
	d.pool.SetCloudTrailSink(func(record []byte) {
		ep.mu.Lock()
		defer ep.mu.Unlock()
		if ep.hold {
			ep.held = append(ep.held, record)
			return
		}
		ep.sendLocked(d, record)
	})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx, ep.queue)
	}()
	ep.stop = func() {
		d.pool.SetCloudTrailSink(nil)
		cancel()
		<-done
	}
	return ep, nil
}

// sendLocked wraps a record as EventBridge does and queues it.
func (ep *eventsPipe) sendLocked(d *demo, record []byte) {
	body, err := events.Wrap(record, "demo-"+strconv.FormatInt(ep.seq.Add(1), 10), cognitotest.CloudTrailAccount)
	if err == nil {
		_, err = ep.queue.Send(body)
	}
	if err != nil {
		d.log.Error("demo: CloudTrail record not queued", "error", err)
	}
}

// holdBack keeps the records back (as EventBridge's delivery delay does)
// until release.
func (ep *eventsPipe) holdBack() {
	ep.mu.Lock()
	ep.hold = true
	ep.mu.Unlock()
}

// release delivers the records kept back.
func (ep *eventsPipe) release(d *demo) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for _, r := range ep.held {
		ep.sendLocked(d, r)
	}
	ep.held, ep.hold = nil, false
}

func (ep *eventsPipe) onEvent(_ context.Context, r events.Result) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.applied = append(ep.applied, r)
	close(ep.changed)
	ep.changed = make(chan struct{})
}

// waitRecorded waits until an event name at or after since is recorded.
func (ep *eventsPipe) waitRecorded(name string, since time.Time, timeout time.Duration) (events.Result, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		ep.mu.Lock()
		for _, r := range ep.applied {
			if r.Outcome == events.Recorded && r.EventName == name && !r.EventTime.Before(since) {
				ep.mu.Unlock()
				return r, true
			}
		}
		changed := ep.changed
		ep.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return events.Result{}, false
		}
	}
}

// stepElsewhere is step 7: carol signs out in her single-page app, which
// calls Cognito's GlobalSignOut directly, never this library; the
// CloudTrail event makes every instance reject her tokens all the same.
func (d *demo) stepElsewhere(ctx context.Context) error {
	d.begin(7, "carol signs out in her single-page app: GlobalSignOut straight to Cognito, no library")
	carol, err := d.signIn(ctx, "carol", "Carol-Passw0rd!")
	if err != nil {
		return d.fail(err)
	}
	carolAccess, carolID := tok("carol access", carol.AccessToken), idTok("carol ID", carol.IdToken)
	d.expect(d.a, "GET", "/me", carolAccess, 200)
	d.expect(d.b, "GET", "/me", carolAccess, 200)
	called := time.Now().Truncate(time.Second)
	d.events.holdBack() // the event is on its way: EventBridge takes seconds
	if _, err := d.cognito.GlobalSignOut(ctx, &cognitoidentityprovider.GlobalSignOutInput{AccessToken: carol.AccessToken}); err != nil {
		d.events.release(d)
		return d.fail(fmt.Errorf("GlobalSignOut: %w", err))
	}
	d.check(true, "Cognito GlobalSignOut → OK (only Cognito knows; no service was told)")
	d.expectNote(d.a, "GET", "/me", carolAccess, 200, "until the event arrives")
	d.say("      CloudTrail records the call; EventBridge would deliver it to SQS.")
	d.say("      Here the fake pool's records go to an in-process queue, and the")
	d.say("      events consumer (package events) records the sign-out at T = eventTime.")
	d.events.release(d)
	r, ok := d.events.waitRecorded("GlobalSignOut", called, 10*time.Second)
	d.check(ok, "consumer: GlobalSignOut event recorded (lag %v)", r.Lag.Round(time.Millisecond))
	for _, t := range []token{carolAccess, carolID} {
		d.expectRevoked(d.a, t)
		d.expectRevoked(d.b, t)
	}
	d.expect(d.p, "GET", "/me", carolAccess, 200)
	return d.end()
}

package events

import (
	"context"
	"log/slog"
	"time"
)

// Message is one message received from a [Queue].
type Message struct {
	ID           string    // the queue's message ID
	Handle       string    // the receipt handle of this delivery, for Delete and ExtendVisibility
	Body         []byte    // an EventBridge event wrapping a CloudTrail record
	ReceiveCount int       // deliveries so far, this one included
	SentAt       time.Time // when the message was sent to the queue
}

// Queue is where [Consumer.Run] takes messages from: SQS (the awsevents
// module) or the in-process [MemQueue]. Implementations MUST be safe for
// concurrent use.
type Queue interface {
	// Receive waits for messages (one long poll) and returns a batch,
	// possibly empty. It returns early with ctx's error when ctx is done.
	// Each message is hidden from other receivers for the queue's
	// visibility timeout.
	Receive(ctx context.Context) ([]Message, error)
	// Delete removes a message for good; the consumer calls it once the
	// message's record is durable.
	Delete(ctx context.Context, m Message) error
	// ExtendVisibility hides m for d more from now, so that a message
	// held while the store is down is not delivered again (which would
	// consume its receive count).
	ExtendVisibility(ctx context.Context, m Message, d time.Duration) error
}

// BatchDeleter is implemented by queues that delete several messages in
// one call (SQS DeleteMessageBatch, up to 10): [Consumer.Run] then deletes
// the messages done in a batch together. A failure (whole or partial) is
// logged; the messages not deleted are delivered again, which is
// harmless.
type BatchDeleter interface {
	DeleteBatch(ctx context.Context, ms []Message) error
}

// retryMin is the first backoff after a failed receive or store write.
const retryMin = 100 * time.Millisecond

// inHand is a received message not yet done.
type inHand struct {
	Message
	eventTime time.Time // zero until judged
	extended  time.Time // when its visibility was last set (receipt, then extensions)
}

// Run receives messages from q and handles them until ctx is done, then
// returns nil once the batch in hand is finished (or, during a store
// outage, abandoned: its messages stay in the queue and come back after
// their visibility timeout). A message is deleted only once its record is
// durable; a malformed one is left for the queue's redrive policy. While
// the store fails, Run stops receiving, keeps the messages in hand hidden
// (extending their visibility) and retries them with backoff, so that an
// outage of any length sends no valid sign-out to the dead-letter queue.
// Run owns no goroutine once it returns. Several Run calls may share a
// Consumer and a queue, to consume in parallel.
func (c *Consumer) Run(ctx context.Context, q Queue) error {
	backoff := retryMin
	for ctx.Err() == nil {
		msgs, err := q.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.LogAttrs(ctx, slog.LevelWarn, "events: receive failed", slog.Any("error", err), slog.Duration("retry_in", backoff))
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, c.cfg.RetryMax)
			continue
		}
		backoff = retryMin
		c.process(ctx, q, msgs)
	}
	return nil
}

// process handles a batch, holding it through store outages.
func (c *Consumer) process(ctx context.Context, q Queue, msgs []Message) {
	now := c.cfg.Now()
	batch := make([]*inHand, len(msgs))
	for i, m := range msgs {
		batch[i] = &inHand{Message: m, extended: now}
	}
	c.track(batch, true)
	defer c.track(batch, false)
	// In-flight work finishes even when ctx is cancelled: each write is
	// bounded by Timeout.
	wctx := context.WithoutCancel(ctx)
	backoff, outage := retryMin, false
	for {
		var held, done []*inHand
		for _, m := range batch {
			if outage && ctx.Err() != nil {
				break // shutting down during an outage: the rest stay in the queue
			}
			c.extend(wctx, q, batch, false)
			r := c.handle(wctx, m.Body)
			m.eventTime = r.EventTime
			switch r.Outcome {
			case StoreFailed:
				if !outage {
					outage = true
					c.log.LogAttrs(ctx, slog.LevelError, "events: store down: holding messages, receiving stopped",
						slog.String("event_id", r.EventID), slog.Any("error", r.Err))
				}
				held = append(held, m)
			case Malformed:
				// Left for the redrive policy: not deleted, not extended.
			default:
				done = append(done, m)
			}
		}
		c.delete(wctx, q, done)
		c.untrackDone(batch, held)
		if len(held) == 0 {
			if outage {
				c.log.LogAttrs(ctx, slog.LevelInfo, "events: store back: held messages recorded")
			}
			return
		}
		batch = held
		c.extend(wctx, q, batch, true)
		if !sleep(ctx, backoff) {
			return // abandoned: the messages come back after their visibility timeout
		}
		backoff = min(2*backoff, c.cfg.RetryMax)
	}
}

// delete deletes the messages done, in one call when q can.
func (c *Consumer) delete(ctx context.Context, q Queue, done []*inHand) {
	if len(done) == 0 {
		return
	}
	if bd, ok := q.(BatchDeleter); ok {
		ms := make([]Message, len(done))
		for i, m := range done {
			ms[i] = m.Message
		}
		if err := bd.DeleteBatch(ctx, ms); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "events: batch delete failed; the messages not deleted will be handled again",
				slog.Int("messages", len(ms)), slog.Any("error", err))
		}
		return
	}
	for _, m := range done {
		if err := q.Delete(ctx, m.Message); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "events: delete failed; the message will be handled again",
				slog.String("message_id", m.ID), slog.Any("error", err))
		}
	}
}

// extend extends the visibility of the messages in hand: all of them
// when held through an outage, else those whose last extension is a third
// of the visibility timeout old.
func (c *Consumer) extend(ctx context.Context, q Queue, batch []*inHand, held bool) {
	now := c.cfg.Now()
	for _, m := range batch {
		if !held && now.Sub(m.extended) < c.cfg.Visibility/3 {
			continue
		}
		if err := q.ExtendVisibility(ctx, m.Message, c.cfg.Visibility); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "events: visibility not extended",
				slog.String("message_id", m.ID), slog.Any("error", err))
			continue
		}
		m.extended = now
	}
}

// track adds (or removes) messages to the set of received, unapplied ones.
func (c *Consumer) track(batch []*inHand, add bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range batch {
		if add {
			c.unapplied[m] = struct{}{}
		} else {
			delete(c.unapplied, m)
		}
	}
}

// untrackDone removes the messages of batch that are not held.
func (c *Consumer) untrackDone(batch, held []*inHand) {
	keep := make(map[*inHand]bool, len(held))
	for _, m := range held {
		keep[m] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range batch {
		if !keep[m] {
			delete(c.unapplied, m)
		}
	}
}

// OldestUnapplied returns the age (now − eventTime, at least 0) of the
// oldest event received and not yet applied by [Consumer.Run], and the
// number of such messages; 0, 0 when none is in hand. A message not yet
// judged counts from when it was received.
func (c *Consumer) OldestUnapplied() (time.Duration, int) {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var oldest time.Duration
	for m := range c.unapplied {
		t := m.eventTime
		if t.IsZero() {
			t = m.SentAt
		}
		if t.IsZero() {
			continue
		}
		oldest = max(oldest, now.Sub(t))
	}
	return oldest, len(c.unapplied)
}

// sleep waits d or until ctx is done, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

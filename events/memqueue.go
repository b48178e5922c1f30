package events

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
)

// MemQueueConfig holds the settings of a [MemQueue]. Its zero value
// behaves as an SQS standard queue with default settings and no redrive
// policy.
type MemQueueConfig struct {
	// Capacity bounds the messages held (visible, in flight, and dead).
	// Default 10000.
	Capacity int
	// MaxBodyBytes bounds a message body. Default [MaxMessageBytes].
	MaxBodyBytes int
	// Visibility is how long a received message stays hidden. Default 30s.
	Visibility time.Duration
	// Wait is the long poll of Receive. Default 20s.
	Wait time.Duration
	// MaxBatch bounds the messages of one Receive. Default 10.
	MaxBatch int
	// MaxReceiveCount, if positive, is the redrive policy: a message
	// received that many times and due again moves to the dead letters
	// ([MemQueue.DeadLetters]) instead.
	MaxReceiveCount int
}

// ErrQueueFull is returned by [MemQueue.Send] when the queue holds
// Capacity messages.
var ErrQueueFull = errors.New("events: queue full")

// ErrReceiptHandle is returned by Delete and ExtendVisibility of a
// [MemQueue] for a receipt handle that is not the message's current
// delivery (it was deleted, or delivered again since).
var ErrReceiptHandle = errors.New("events: receipt handle is not current")

// MemQueue is an in-process, bounded [Queue] with SQS's delivery rules
// (visibility timeout, receive counts, a redrive policy), for demos and
// tests. Its clock is time.Now. Its methods are safe for concurrent use.
// It owns no goroutine.
type MemQueue struct {
	cfg MemQueueConfig

	mu      sync.Mutex
	msgs    []*memMessage // visible or in flight, in send order
	dead    []Message
	seq     int
	changed chan struct{} // closed and replaced on every change
}

type memMessage struct {
	Message
	hiddenUntil time.Time
}

// NewMemQueue returns an empty queue.
func NewMemQueue(cfg MemQueueConfig) *MemQueue {
	if cfg.Capacity <= 0 {
		cfg.Capacity = 10000
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = MaxMessageBytes
	}
	if cfg.Visibility <= 0 {
		cfg.Visibility = 30 * time.Second
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 20 * time.Second
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 10
	}
	return &MemQueue{cfg: cfg, changed: make(chan struct{})}
}

var (
	_ Queue        = (*MemQueue)(nil)
	_ BatchDeleter = (*MemQueue)(nil)
)

// Send appends a message with body (copied) and returns its ID.
func (q *MemQueue) Send(body []byte) (string, error) {
	if len(body) > q.cfg.MaxBodyBytes {
		return "", errors.New("events: message body too large")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.msgs)+len(q.dead) >= q.cfg.Capacity {
		return "", ErrQueueFull
	}
	q.seq++
	id := "m" + strconv.Itoa(q.seq)
	q.msgs = append(q.msgs, &memMessage{Message: Message{ID: id, Body: append([]byte(nil), body...), SentAt: time.Now()}})
	q.notifyLocked()
	return id, nil
}

func (q *MemQueue) notifyLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// Receive returns up to MaxBatch visible messages, waiting up to Wait for
// one; an empty batch when none came.
func (q *MemQueue) Receive(ctx context.Context) ([]Message, error) {
	poll := time.NewTimer(q.cfg.Wait)
	defer poll.Stop()
	for {
		out, changed, next := q.take()
		if len(out) > 0 {
			return out, nil
		}
		if done, err := q.wait(ctx, poll.C, changed, next); done {
			return nil, err
		}
	}
}

// wait waits for a change, the next message due or the end of the poll
// (done) or of ctx (done, with its error).
func (q *MemQueue) wait(ctx context.Context, poll <-chan time.Time, changed <-chan struct{}, next time.Time) (bool, error) {
	var due <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(time.Until(next))
		defer t.Stop()
		due = t.C
	}
	select {
	case <-ctx.Done():
		return true, ctx.Err()
	case <-poll:
		return true, nil
	case <-changed:
	case <-due:
	}
	return false, nil
}

// take delivers the visible messages, moving those past the redrive
// policy to the dead letters. It returns the change channel and when the
// next hidden message becomes visible.
func (q *MemQueue) take() ([]Message, <-chan struct{}, time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	var out []Message
	var next time.Time
	keep := q.msgs[:0]
	for _, m := range q.msgs {
		switch {
		case m.hiddenUntil.After(now):
			if next.IsZero() || m.hiddenUntil.Before(next) {
				next = m.hiddenUntil
			}
		case len(out) >= q.cfg.MaxBatch:
		case q.cfg.MaxReceiveCount > 0 && m.ReceiveCount >= q.cfg.MaxReceiveCount:
			q.dead = append(q.dead, m.Message)
			continue
		default:
			q.seq++
			m.ReceiveCount++
			m.Handle = m.ID + "/" + strconv.Itoa(q.seq)
			m.hiddenUntil = now.Add(q.cfg.Visibility)
			out = append(out, m.Message)
		}
		keep = append(keep, m)
	}
	clear(q.msgs[len(keep):])
	q.msgs = keep
	for i := range out {
		out[i].Body = append([]byte(nil), out[i].Body...)
	}
	return out, q.changed, next
}

// current returns the message whose current delivery is m's.
func (q *MemQueue) currentLocked(m Message) (int, *memMessage) {
	for i, x := range q.msgs {
		if x.ID == m.ID && x.Handle == m.Handle && m.Handle != "" {
			return i, x
		}
	}
	return -1, nil
}

// Delete removes m, if its receipt handle is current.
func (q *MemQueue) Delete(_ context.Context, m Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	i, x := q.currentLocked(m)
	if x == nil {
		return ErrReceiptHandle
	}
	q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
	q.notifyLocked()
	return nil
}

// DeleteBatch deletes each of ms whose receipt handle is current; it
// returns ErrReceiptHandle if any was not.
func (q *MemQueue) DeleteBatch(ctx context.Context, ms []Message) error {
	var errs []error
	for _, m := range ms {
		errs = append(errs, q.Delete(ctx, m))
	}
	return errors.Join(errs...)
}

// ExtendVisibility hides m for d from now, if its receipt handle is
// current; d == 0 makes it visible at once.
func (q *MemQueue) ExtendVisibility(_ context.Context, m Message, d time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, x := q.currentLocked(m)
	if x == nil {
		return ErrReceiptHandle
	}
	x.hiddenUntil = time.Now().Add(d)
	q.notifyLocked()
	return nil
}

// Len returns the messages in the queue (visible or in flight), dead
// letters excluded.
func (q *MemQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

// DeadLetters returns the messages moved out by the redrive policy.
func (q *MemQueue) DeadLetters() []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Message(nil), q.dead...)
}

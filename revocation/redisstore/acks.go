package redisstore

import (
	"context"
	"fmt"
	"github.com/cognitoguard/cognitoguard/revocation"
	"log/slog"
	"sync"
	"sync/atomic"
)

// ackQueue bounds the acknowledgements waiting to be sent; beyond it they
// are dropped (the requester then reports a shortfall: safe).
const ackQueue = 1024

// acks holds the acknowledgement traffic of [Config.WaitInstances]:
// the acknowledgements this instance owes (sent by its acker goroutine, so
// that a slow publish never delays a subscription) and those it awaits.
type acks struct {
	id      string // this instance's random id, naming its acknowledgement channels
	run     *runner
	publish func(ctx context.Context, channel, msg string) (int64, error)
	log     *slog.Logger

	q             chan ackSend
	mu            sync.Mutex
	waits         map[string]*ackWait // this instance's writes awaiting acknowledgements, by nonce
	sent, dropped atomic.Uint64
}

// ackSend is an acknowledgement to publish: nonce on channel.
type ackSend struct{ channel, nonce string }

// ackWait counts the acknowledgements of one request.
type ackWait struct {
	got, need int64 // need is -1 until PUBLISH has answered
	from      map[string]bool
	done      chan struct{}
}

func newAcks(id string, run *runner, publish func(ctx context.Context, channel, msg string) (int64, error), log *slog.Logger) *acks {
	return &acks{id: id, run: run, publish: publish, log: log,
		q: make(chan ackSend, ackQueue), waits: make(map[string]*ackWait)}
}

// queue schedules an acknowledgement, or drops it when the queue is full.
func (a *acks) queue(channel, nonce string) {
	select {
	case a.q <- ackSend{channel, nonce}:
	default:
		a.dropped.Add(1)
	}
}

// expect registers a request about to be published with nonce.
func (a *acks) expect(nonce string) *ackWait {
	aw := &ackWait{need: -1, from: make(map[string]bool), done: make(chan struct{})}
	a.mu.Lock()
	a.waits[nonce] = aw
	a.mu.Unlock()
	return aw
}

func (a *acks) forget(nonce string) {
	a.mu.Lock()
	delete(a.waits, nonce)
	a.mu.Unlock()
}

// received counts responder's acknowledgement of nonce, if it is one of
// ours and the first of that responder.
func (a *acks) received(responder, nonce string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if aw := a.waits[nonce]; aw != nil && !aw.from[responder] {
		aw.from[responder] = true
		aw.got++
		if aw.got == aw.need {
			close(aw.done)
		}
	}
}

// setNeed records how many receivers the request reached; it reports
// whether they have all acknowledged already.
func (a *acks) setNeed(aw *ackWait, n int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	aw.need = n
	return aw.got >= n
}

func (a *acks) got(aw *ackWait) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return aw.got
}

// confirm waits within Timeout until every subscriber that the sign-out
// message reached (receivers) has acknowledged it. A subscriber handles a
// channel's messages in order, so one that acknowledges has applied the
// sign-out.
func (a *acks) confirm(ctx context.Context, run *runner, aw *ackWait, receivers int64) error {
	if a.setNeed(aw, receivers) {
		return nil
	}
	if err := run.wait(ctx, aw.done); err != nil {
		return fmt.Errorf("%w: %w: applied by %d of %d instances (retry): %w",
			revocation.ErrUnavailable, revocation.ErrUnconfirmed, a.got(aw), receivers, err)
	}
	return nil
}

// runAcker publishes the queued acknowledgements until Close: those
// queued together for one requester channel go in one message.
func (a *acks) runAcker() {
	for {
		var first ackSend
		select {
		case <-a.run.ctx.Done():
			return
		case first = <-a.q:
		}
		batch := map[string][]string{first.channel: {first.nonce}}
		for more := true; more; {
			select {
			case a := <-a.q:
				batch[a.channel] = append(batch[a.channel], a.nonce)
			default:
				more = false
			}
		}
		for channel, nonces := range batch {
			for len(nonces) > 0 {
				n := min(len(nonces), maxAcksPerMessage)
				a.sendAcks(channel, nonces[:n])
				nonces = nonces[n:]
			}
		}
	}
}

// sendAcks publishes one acknowledgement message.
func (a *acks) sendAcks(channel string, nonces []string) {
	ctx, cancel := context.WithTimeout(a.run.ctx, a.run.timeout)
	_, err := a.publish(ctx, channel, encodeAck(a.id, nonces))
	cancel()
	if err == nil {
		a.sent.Add(uint64(len(nonces)))
		return
	}
	a.dropped.Add(uint64(len(nonces)))
	if a.run.ctx.Err() == nil {
		a.log.LogAttrs(a.run.ctx, slog.LevelWarn, "redisstore: could not acknowledge sign-outs (the requester will report it)",
			slog.Int("acknowledgements", len(nonces)), slog.String("error", err.Error()))
	}
}

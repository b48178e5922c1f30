package keyfetch

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Owner owns the goroutines of one key source's shared fetches: [Start]
// runs each fetch on a goroutine of its own, and [Owner.Close] cancels
// them and waits for them. The zero Owner is not usable; use [NewOwner].
type Owner struct {
	life   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewOwner returns an Owner whose fetches run until they end or Close.
func NewOwner() *Owner {
	o := &Owner{}
	o.life, o.cancel = context.WithCancel(context.Background())
	return o
}

// Close cancels the fetches in flight and waits for their goroutines to
// end. It is idempotent; a fetch started after Close starts cancelled.
func (o *Owner) Close() {
	o.cancel()
	o.wg.Wait()
}

// Call is one fetch shared by every caller that asks for it while it runs.
type Call[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// Start runs fetch on a goroutine owned by o and returns the Call its
// callers wait on. This is the single-flight rule of every key source: the
// fetch keeps ctx's values (traces, log attributes) but never its
// cancellation, so that the first caller going away does not fail the
// others who joined; it is bounded by timeout instead, and cancelled by
// [Owner.Close]. The Call's waiters are released once fetch has returned,
// so fetch may publish its outcome (under its caller's lock) before they
// see it.
func Start[V any](o *Owner, ctx context.Context, timeout time.Duration, fetch func(context.Context) (V, error)) *Call[V] {
	c := &Call[V]{done: make(chan struct{})}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	stop := context.AfterFunc(o.life, cancel)
	if o.life.Err() != nil {
		cancel() // closed: start cancelled, not whenever AfterFunc runs
	}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		defer close(c.done)
		defer stop()
		defer cancel()
		c.val, c.err = fetch(fctx)
	}()
	return c
}

// Wait returns the outcome of the fetch, or, when ctx ends first, an error
// wrapping ctx.Err(); the fetch then goes on for the other callers.
func (c *Call[V]) Wait(ctx context.Context) (V, error) {
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero V
		return zero, fmt.Errorf("waiting for the key fetch: %w", ctx.Err())
	}
}

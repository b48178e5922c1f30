package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errStoreClosed is what a caller waiting on a closed store gets.
var errStoreClosed = errors.New("store closed")

// runner owns the goroutines of a store and bounds the Redis calls made
// for callers: each runs in a goroutine it owns, so that the caller gets
// its answer within timeout even if the client ignores context deadlines.
// Its context ends at Close; stop waits for every goroutine.
type runner struct {
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	timeout time.Duration
}

func newRunner(timeout time.Duration) *runner {
	g := &runner{timeout: timeout}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	return g
}

// start runs fn in a goroutine owned by g.
func (g *runner) start(fn func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		fn()
	}()
}

// stop ends g's context and waits for its goroutines.
func (g *runner) stop() {
	g.cancel()
	g.wg.Wait()
}

// wait waits for done, at most timeout and while ctx and g live.
func (g *runner) wait(ctx context.Context, done <-chan struct{}) error {
	t := time.NewTimer(g.timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("no answer within %v", g.timeout)
	case <-ctx.Done():
		return ctx.Err()
	case <-g.ctx.Done():
		return errStoreClosed
	}
}

// call runs fn in a goroutine owned by g and waits for it as wait does.
// fn's context ends at timeout or Close.
func (g *runner) call(ctx context.Context, fn func(ctx context.Context) error) error {
	var err error
	done := make(chan struct{})
	g.start(func() {
		defer close(done)
		cctx, cancel := context.WithTimeout(g.ctx, g.timeout)
		defer cancel()
		err = fn(cctx)
	})
	if werr := g.wait(ctx, done); werr != nil {
		return werr
	}
	return err
}

// callValue is call for an fn with a result: the result is returned only
// when fn has returned; a call that timed out or was cancelled returns the
// zero T, as fn, still running, may write its result later.
func callValue[T any](ctx context.Context, g *runner, fn func(ctx context.Context) (T, error)) (T, error) {
	var v T
	err := g.call(ctx, func(ctx context.Context) error {
		r, err := fn(ctx)
		v = r
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// await waits until cond holds, testing it at every change of tr, within
// timeout and while ctx and g live; it returns why it stopped waiting, or
// nil.
func (g *runner) await(ctx context.Context, tr *trust, cond func() bool) error {
	t := time.NewTimer(g.timeout)
	defer t.Stop()
	for {
		ch := tr.wait()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("not within %v", g.timeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-g.ctx.Done():
			return errStoreClosed
		}
	}
}

// sleep waits d, or until Close; false means closed.
func (g *runner) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-g.ctx.Done():
		return false
	}
}

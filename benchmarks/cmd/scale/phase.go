package main

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/scale"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// maxWrites bounds the sign-outs in flight in a ladder step, cpuWrites in
// the CPU phase; a schedule needing more waits (and its achieved rate falls
// short of the target).
const maxWrites = 256

// cpuWrites bounds the sign-outs in flight in the CPU phase.
var cpuWrites = 4

// drain bounds how long a phase waits, after its last sign-out, for every
// instance to have seen every sign-out.
const drain = 5 * time.Second

// pending is one sign-out on its way to every instance.
type pending struct {
	probe  *cognitoguard.Claims
	issued time.Time
	seen   []bool
	left   int
}

// summarise returns the nearest-rank percentiles of d (so that the p99 of
// 100 samples is the second largest, not the largest).
func summarise(d []time.Duration) scale.Latency {
	if len(d) == 0 {
		return scale.Latency{}
	}
	slices.Sort(d)
	ms := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(d)))) - 1
		return float64(d[max(0, min(len(d)-1, i))]) / 1e6
	}
	return scale.Latency{P50: ms(0.50), P99: ms(0.99), Max: float64(d[len(d)-1]) / 1e6}
}

// writes issues sign-outs at a rate, from the instances in turn, and
// gathers RevokeUser's latencies and errors into res.
type writes struct {
	f       *fleet
	res     *scale.Phase
	wg      sync.WaitGroup
	mu      sync.Mutex
	revokes []time.Duration
	sem     chan struct{}
}

// issue sends count sign-outs at rate per second (open loop, at most
// inFlight at once), calling each(j, probe) just before sign-out j. It
// returns when the last is sent; wait waits for the calls.
func (w *writes) issue(ctx context.Context, rate float64, count, inFlight int, each func(probe *cognitoguard.Claims)) {
	w.sem = make(chan struct{}, inFlight)
	start := time.Now()
	for k := range count {
		time.Sleep(time.Until(start.Add(time.Duration(float64(k) / rate * float64(time.Second)))))
		w.sem <- struct{}{}
		j := w.f.next
		w.f.next++
		sub, at, probe := w.f.signOut(j)
		if each != nil {
			each(probe)
		}
		w.wg.Add(1)
		go w.write(ctx, w.f.stores[j%len(w.f.stores)], sub, at)
	}
	w.res.Achieved = float64(count) / max(time.Since(start).Seconds(), 1e-9)
}

func (w *writes) write(ctx context.Context, s *redisstore.Store, sub string, at time.Time) {
	defer w.wg.Done()
	defer func() { <-w.sem }()
	t0 := time.Now()
	err := s.RevokeUser(ctx, pool, sub, at)
	d := time.Since(t0)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.revokes = append(w.revokes, d)
	if err != nil {
		w.res.Errors++
		if errors.Is(err, revocation.ErrUnconfirmed) {
			w.res.Unconfirmed++
		}
	}
}

// wait waits for every RevokeUser call and summarises their latencies.
func (w *writes) wait() {
	w.wg.Wait()
	w.res.Revoke = summarise(w.revokes)
}

// cpuRound is one round of the CPU phase, bracketed by two idle windows
// whose mean is the background subtracted from it; it adds the round to c
// and RevokeUser's latencies to revokes.
func (f *fleet) cpuRound(ctx context.Context, topo *topology, o options, rate float64, c *scale.Config, revokes *[]time.Duration) error {
	before, err := topo.idle(ctx, o.idle)
	if err != nil {
		return err
	}
	calls0, err := topo.publishes(ctx)
	if err != nil {
		return err
	}
	p, w, err := f.cpuPhase(ctx, topo, rate, o.signOuts)
	if err != nil {
		return err
	}
	calls1, err := topo.publishes(ctx)
	if err != nil {
		return err
	}
	after, err := topo.idle(ctx, o.idle)
	if err != nil {
		return err
	}
	idle, calls := make([]float64, len(before)), make([]int64, len(calls0))
	for i := range idle {
		idle[i] = (before[i] + after[i]) / 2
		calls[i] = calls1[i] - calls0[i]
	}
	*revokes = append(*revokes, w.revokes...)
	p.Revoke = summarise(slices.Clone(*revokes))
	c.AddRound(*p, idle, calls)
	return nil
}

// cpuPhase issues count sign-outs at rate and measures each node's Redis
// CPU from the first sign-out until every instance has received every
// message (its Messages counter), or drain after the last call returned.
// It does not look into the views, so it causes no Redis command itself.
func (f *fleet) cpuPhase(ctx context.Context, topo *topology, rate float64, count int) (*scale.Phase, *writes, error) {
	res := &scale.Phase{Rate: rate, SignOuts: count}
	want := f.messages() + uint64(count*len(f.stores))
	cpu0, sys0, err := topo.cpu(ctx)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	w := &writes{f: f, res: res}
	w.issue(ctx, rate, count, cpuWrites, nil)
	w.wait()
	deadline := time.Now().Add(drain)
	for f.messages() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	res.Window = time.Since(start).Seconds()
	cpu1, sys1, err := topo.cpu(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i := range sys0 {
		res.Sys = append(res.Sys, sys1[i]-sys0[i])
	}
	if got := f.messages(); got < want {
		res.Lost = int((want - got) / uint64(len(f.stores)))
	}
	for i := range cpu0 {
		res.CPU = append(res.CPU, cpu1[i]-cpu0[i])
	}
	return res, w, nil
}

// phase issues count sign-outs at rate and measures their propagation to
// every instance by polling each instance's view with a token each
// sign-out revokes.
func (f *fleet) phase(ctx context.Context, topo *topology, rate float64, count int) (*scale.Phase, error) {
	res := &scale.Phase{Rate: rate, SignOuts: count}
	l0, s0, _ := f.counters()
	cpu0, _, err := topo.cpu(ctx)
	if err != nil { // Redis still swamped by the step before: this one fails
		res.Overloaded = err.Error()
		return res, nil
	}
	p := &poller{f: f, stop: make(chan struct{}), done: make(chan struct{})}
	go p.run(ctx)
	start := time.Now()
	w := &writes{f: f, res: res}
	w.issue(ctx, rate, count, maxWrites, func(probe *cognitoguard.Claims) {
		p.add(&pending{probe: probe, issued: time.Now(), seen: make([]bool, len(f.stores)), left: len(f.stores)})
	})
	prop := p.finish(drain)
	end := time.Now()
	cpu1, _, err := topo.cpu(ctx)
	w.wait()
	if err != nil { // Redis swamped: the step failed, the run goes on
		cpu1, res.Overloaded = cpu0, err.Error()
	}
	l1, s1, _ := f.counters()
	res.Lost, res.Lookups, res.Stale = count-len(prop), l1-l0, s1-s0
	res.Window = end.Sub(start).Seconds()
	for i := range cpu0 {
		res.CPU = append(res.CPU, cpu1[i]-cpu0[i])
	}
	res.Prop = summarise(prop)
	return res, nil
}

// poller watches the pending sign-outs until every instance has them.
type poller struct {
	f    *fleet
	mu   sync.Mutex
	list []*pending
	prop []time.Duration
	stop chan struct{} // closed: finish once the list is empty
	done chan struct{} // closed by run when it returns
}

func (p *poller) add(x *pending) {
	p.mu.Lock()
	p.list = append(p.list, x)
	p.mu.Unlock()
}

// run scans the pending sign-outs, asking each instance that has not yet
// seen one whether its view revokes the probe token, every 250µs.
func (p *poller) run(ctx context.Context) {
	defer close(p.done)
	for {
		p.mu.Lock()
		list := slices.Clone(p.list)
		p.mu.Unlock()
		for _, x := range list {
			for i, s := range p.f.stores {
				if x.seen[i] {
					continue
				}
				if ok, err := s.Revoked(ctx, x.probe); ok && err == nil {
					x.seen[i] = true
					x.left--
				}
			}
			if x.left == 0 {
				d := time.Since(x.issued)
				p.mu.Lock()
				p.prop = append(p.prop, d)
				p.list = slices.DeleteFunc(p.list, func(y *pending) bool { return y == x })
				p.mu.Unlock()
			}
		}
		select {
		case <-p.stop:
			p.mu.Lock()
			empty := len(p.list) == 0
			p.mu.Unlock()
			if empty {
				return
			}
		default:
		}
		time.Sleep(250 * time.Microsecond)
	}
}

// finish waits until every sign-out has been seen, or drain passes, and
// returns the propagation times of those seen by all.
func (p *poller) finish(drain time.Duration) []time.Duration {
	close(p.stop)
	t := time.NewTimer(drain)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.mu.Lock()
		p.list = nil // run returns at its next look
		p.mu.Unlock()
		<-p.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prop
}

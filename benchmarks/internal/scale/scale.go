// Package scale holds the results of cmd/scale (the sign-out fan-out at
// fleet scale) and renders them as the scale section of BENCHMARKS.md,
// for cmd/scale itself and for cmd/report.
package scale

import (
	"fmt"
	"math"
	"slices"
)

// Result is one run of cmd/scale.
type Result struct {
	Command      string   `json:"command"`
	RedisVersion string   `json:"redisVersion"`
	Go           string   `json:"go"`
	CPUs         int      `json:"cpus"`
	LoadStart    string   `json:"loadStart"` // /proc/loadavg 1, 5, 15 min
	LoadEnd      string   `json:"loadEnd"`
	Seconds      float64  `json:"seconds"`
	Channels     int      `json:"channels"`   // K, redisstore.Config.Channels
	Users        int      `json:"users"`      // users every instance has seen; sign-outs cycle through them
	SignOuts     int      `json:"signOuts"`   // sign-outs of each CPU round
	Rounds       int      `json:"rounds"`     // CPU rounds per configuration, the topologies alternating
	P99BoundMs   float64  `json:"p99BoundMs"` // the ladder's propagation bound
	RateMax      float64  `json:"rateMax"`    // the ladder's last rate
	Staleness    float64  `json:"staleness"`  // redisstore.Config.Staleness of every instance, s
	Timeout      float64  `json:"timeout"`    // redisstore.Config.Timeout, s
	Deliveries   float64  `json:"deliveries"` // the CPU phase's rate × N
	Configs      []Config `json:"configs"`
	Failed       []string `json:"failed,omitempty"` // rows (N, WaitInstances) that could not be measured, and why
}

// Config is one topology, N and WaitInstances.
type Config struct {
	Topology      string    `json:"topology"` // "single" or "cluster-3"
	Nodes         int       `json:"nodes"`
	N             int       `json:"n"`
	WaitInstances bool      `json:"waitInstances"`
	IdleCPU       []float64 `json:"idleCPU"`                // per node: Redis CPU seconds per second, no sign-outs (mean over the rounds' idle windows)
	CPUPhase      *Phase    `json:"cpuPhase"`               // the CPU rounds together, at a moderate rate
	Publishes     []int64   `json:"publishes"`              // per node: PUBLISH + SPUBLISH calls in the CPU rounds
	RoundBusiest  []float64 `json:"roundBusiest,omitempty"` // per CPU round: the busiest node's Redis CPU per sign-out, µs
	Ladder        []Phase   `json:"ladder"`
	MaxRate       float64   `json:"maxRate"` // highest ladder rate that passed; 0: none
	Capped        bool      `json:"capped"`  // no step failed: MaxRate is a lower bound
}

// Phase is what one phase of sign-outs measured.
type Phase struct {
	Rate        float64   `json:"rate"`                 // target sign-outs/s
	Achieved    float64   `json:"achieved"`             // sign-outs issued / time issuing
	SignOuts    int       `json:"signOuts"`             // issued
	Lost        int       `json:"lost"`                 // not seen by every instance within the drain
	Errors      int       `json:"errors"`               // RevokeUser errors (Unconfirmed among them)
	Unconfirmed int       `json:"unconfirmed"`          // ErrUnconfirmed (WaitInstances shortfalls)
	Lookups     uint64    `json:"lookups"`              // Redis reads by the probes: a view was reset (must be 0)
	Stale       uint64    `json:"stale"`                // probes refused: a view not fresh
	Window      float64   `json:"window"`               // seconds from the first sign-out until all seen (or drain)
	CPU         []float64 `json:"cpu"`                  // per node: Redis CPU seconds over Window
	Sys         []float64 `json:"sys,omitempty"`        // per node: of which in the kernel (CPU phase)
	Prop        Latency   `json:"propagation"`          // issue → seen by all N instances
	Revoke      Latency   `json:"revokeUser"`           // RevokeUser's own latency
	Overloaded  string    `json:"overloaded,omitempty"` // a node did not answer INFO: the step failed
}

// Latency summarises durations in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Passed reports whether a ladder step sustained its rate: every sign-out
// written, confirmed and seen by every instance, from the views alone,
// with a propagation p99 within bound (ms), at 90% of the target rate.
func Passed(p Phase, boundMs float64) bool {
	return p.Lost == 0 && p.Errors == 0 && p.Lookups == 0 && p.Stale == 0 && p.Overloaded == "" &&
		p.Prop.P99 <= boundMs && p.Achieved >= 0.9*p.Rate
}

// PerSignOut returns each node's Redis CPU per sign-out of the CPU phase,
// in µs, less the idle background over the same window (never below 0).
func (c Config) PerSignOut() []float64 {
	p := c.CPUPhase
	out := make([]float64, len(p.CPU))
	for i, cpu := range p.CPU {
		idle := 0.0
		if i < len(c.IdleCPU) {
			idle = c.IdleCPU[i] * p.Window
		}
		out[i] = math.Max(0, cpu-idle) / float64(p.SignOuts) * 1e6
	}
	return out
}

// AddRound adds one CPU round to c: its phase, each node's idle CPU
// (seconds per second) measured around it, and each node's publishes.
// The sums keep PerSignOut exact: IdleCPU becomes the window-weighted mean
// of the rounds' idle rates.
func (c *Config) AddRound(p Phase, idle []float64, publishes []int64) {
	busiest := 0.0
	for i, cpu := range p.CPU {
		busiest = math.Max(busiest, math.Max(0, cpu-idle[i]*p.Window)/float64(p.SignOuts)*1e6)
	}
	c.RoundBusiest = append(c.RoundBusiest, busiest)
	if c.CPUPhase == nil {
		c.CPUPhase, c.IdleCPU, c.Publishes = &p, slices.Clone(idle), slices.Clone(publishes)
		return
	}
	a := c.CPUPhase
	w := a.Window + p.Window
	for i := range a.CPU {
		c.IdleCPU[i] = (c.IdleCPU[i]*a.Window + idle[i]*p.Window) / w
		a.CPU[i] += p.CPU[i]
		if i < len(a.Sys) && i < len(p.Sys) {
			a.Sys[i] += p.Sys[i]
		}
		c.Publishes[i] += publishes[i]
	}
	a.Achieved = (a.Achieved*float64(a.SignOuts) + p.Achieved*float64(p.SignOuts)) / float64(a.SignOuts+p.SignOuts)
	a.Window, a.SignOuts = w, a.SignOuts+p.SignOuts
	a.Lost, a.Errors, a.Unconfirmed = a.Lost+p.Lost, a.Errors+p.Errors, a.Unconfirmed+p.Unconfirmed
	a.Lookups, a.Stale = a.Lookups+p.Lookups, a.Stale+p.Stale
	a.Revoke = p.Revoke // the caller summarises every round's calls
}

// Busiest is the highest of PerSignOut.
func (c Config) Busiest() float64 { return slices.Max(c.PerSignOut()) }

// PerDelivery returns, without WaitInstances, the Redis CPU per message
// delivered by node i (µs), its sign-outs being its publishes, and the
// kernel's share of its CPU.
func (c Config) PerDelivery(i int) (us, sys float64) {
	p := c.CPUPhase
	if c.WaitInstances || i >= len(c.Publishes) || c.Publishes[i] == 0 {
		return 0, 0
	}
	us = c.PerSignOut()[i] * float64(p.SignOuts) / float64(c.Publishes[i]*int64(c.N))
	if i < len(p.Sys) && p.CPU[i] > 0 {
		sys = p.Sys[i] / p.CPU[i]
	}
	return us, sys
}

// Total is the sum of PerSignOut: the Redis CPU a sign-out costs all nodes.
func (c Config) Total() float64 {
	t := 0.0
	for _, v := range c.PerSignOut() {
		t += v
	}
	return t
}

// Check returns an error if, in some configuration, the CPU phase or the
// ladder's first (lowest) step lost or failed a sign-out, or a view could
// not answer alone at that rate: the machinery is broken, whatever the
// machine's speed.
func Check(r *Result) error {
	for _, c := range r.Configs {
		p, f := c.CPUPhase, first(&c)
		switch {
		case p == nil || len(c.Ladder) == 0:
			return fmt.Errorf("%s N=%d WaitInstances=%v: not measured", c.Topology, c.N, c.WaitInstances)
		case p.Lost > 0 || p.Errors > 0:
			return fmt.Errorf("%s N=%d WaitInstances=%v: CPU phase: %d of %d sign-outs not received by all, %d RevokeUser errors",
				c.Topology, c.N, c.WaitInstances, p.Lost, p.SignOuts, p.Errors)
		case f.Lost > 0 || f.Errors > 0 || f.Lookups > 0 || f.Stale > 0:
			return fmt.Errorf("%s N=%d WaitInstances=%v: at %.0f/s: %d lost, %d errors, %d Redis reads, %d stale refusals",
				c.Topology, c.N, c.WaitInstances, f.Rate, f.Lost, f.Errors, f.Lookups, f.Stale)
		}
	}
	return nil
}

// AtMaxRate returns the busiest node's Redis CPU per sign-out (µs, less
// the idle background) in the ladder step at MaxRate, or 0 when none
// passed.
func (c Config) AtMaxRate() float64 {
	for _, p := range c.Ladder {
		if p.Rate != c.MaxRate || p.SignOuts == 0 {
			continue
		}
		busiest := 0.0
		for i, cpu := range p.CPU {
			idle := 0.0
			if i < len(c.IdleCPU) {
				idle = c.IdleCPU[i] * p.Window
			}
			busiest = math.Max(busiest, math.Max(0, cpu-idle)/float64(p.SignOuts)*1e6)
		}
		return busiest
	}
	return 0
}

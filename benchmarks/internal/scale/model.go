package scale

import (
	"fmt"
	"slices"
	"strings"
)

// budget is one Redis node's CPU budget per second, in µs: Redis runs
// commands on one thread.
const budget = 1e6

// model writes the capacity model and checks it against the figures.
func (r *Result) model(p func(string, ...any)) {
	p("### Capacity model, checked against the figures above")
	p("")
	p("Every instance receives every sign-out, and Redis spends about the same CPU on each delivery, `u`; a")
	p("node spends it only on the sign-outs of the channels it owns, a share 1/S of them with the K channels")
	p("spread over S masters. So, with `B` the CPU a node may spend (at most one core: Redis runs commands on")
	p("one thread; plan for about half),")
	p("")
	p("    sign-outs/s ≈ S × B ÷ (u × N)        busiest node's CPU per sign-out ≈ u × N ÷ S")
	p("")
	p("`u` is taken from the one-node rows (CPU per sign-out ÷ N); the Cluster column predicts the busiest")
	p("node from it (u × N ÷ 3) beside what was measured. The Redis-bound rate is B ÷ (busiest CPU per")
	p("sign-out) with B one core. At a high rate Redis writes several messages to a subscriber per system call,")
	p("so a sign-out costs less than at the CPU phase's rate: the last columns give the busiest node's CPU per")
	p("sign-out in the highest ladder step that passed, and the rate that cost would allow. The rates measured")
	p("here stop lower wherever the machine's cores ran out first: they also run the N instances, which read")
	p("N messages per sign-out between them.")
	p("")
	p("| N | WaitInstances | u, one node | Cluster busiest: model / measured | Redis-bound rate, one node / Cluster | highest rate measured, one node / Cluster | busiest CPU / sign-out there, one node / Cluster | Redis-bound rate at that cost |")
	p("|---:|---|---:|---:|---:|---:|---:|---:|")
	var us [2][]float64
	for _, n := range r.ns() {
		for wi, wait := range []bool{false, true} {
			s, c := r.find(false, n, wait), r.find(true, n, wait)
			if s == nil || c == nil {
				continue
			}
			u := s.Busiest() / float64(n)
			us[wi] = append(us[wi], u)
			pred := u * float64(n) / float64(c.Nodes)
			p("| %d | %s | %.2f µs | %.0f / %.0f µs | %s / %s | %s / %s | %s / %s | %s / %s |", n, yesNo(wait), u, pred, c.Busiest(),
				perS(budget/s.Busiest()), perS(budget/c.Busiest()), rate(s), rate(c),
				usOr(s.AtMaxRate()), usOr(c.AtMaxRate()), perSOr(s.AtMaxRate()), perSOr(c.AtMaxRate()))
		}
	}
	p("")
	for wi, name := range []string{"without", "with"} {
		if len(us[wi]) == 0 {
			continue
		}
		p("u %s WaitInstances across N: %s µs per instance per sign-out.", name, spreadOf(us[wi]))
	}
	p("")
	r.idle(p)
}

// idle writes the background CPU of the idle fleets.
func (r *Result) idle(p func(string, ...any)) {
	p("Idle background: Redis CPU per node with no sign-outs (the mean of the idle windows around the CPU")
	p("rounds), in ms per second. Every subscription pings every Staleness/4 (%gs here): one subscription", r.Staleness/4)
	p("per instance on one node, and one per instance on each Cluster master (carrying its %d of the K = %d", max(1, r.Channels/3), r.Channels)
	p("channels); every instance also checks every master (eviction policy, data-loss marker) every few")
	p("seconds. It grows with N, not with the sign-outs:")
	p("")
	p("| N | one node | Cluster, each node |")
	p("|---:|---:|---|")
	ns := r.ns()
	for _, n := range ns {
		s, c := r.find(false, n, false), r.find(true, n, false)
		if s == nil || c == nil {
			continue
		}
		nodes := make([]string, len(c.IdleCPU))
		for i, v := range c.IdleCPU {
			nodes[i] = fmt.Sprintf("%.1f", v*1e3)
		}
		p("| %d | %.1f | %s |", n, s.IdleCPU[0]*1e3, strings.Join(nodes, ", "))
	}
	p("")
	if len(ns) == 0 {
		return
	}
	lo, hi := ns[0], ns[len(ns)-1]
	s0, s1, c0, c1 := r.find(false, lo, false), r.find(false, hi, false), r.find(true, lo, false), r.find(true, hi, false)
	if hi == lo || s0 == nil || s1 == nil || c0 == nil || c1 == nil {
		return
	}
	// The slope between the smallest and the largest N: the per-second
	// costs that do not depend on N (serverCron, the cluster bus) cancel.
	mean := func(xs []float64) float64 {
		t := 0.0
		for _, x := range xs {
			t += x
		}
		return t / float64(len(xs))
	}
	d := float64(hi - lo)
	p("Per idle instance (the slope from N = %d to N = %d): %.0f µs of CPU per second on one node, %.0f µs per",
		lo, hi, (s1.IdleCPU[0]-s0.IdleCPU[0])*1e6/d, (mean(c1.IdleCPU)-mean(c0.IdleCPU))*1e6/d)
	p("second on each Cluster master.")
	p("")
}

func perS(v float64) string { return fmt.Sprintf("%.0f /s", v) }

func usOr(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f µs", v)
}

func perSOr(v float64) string {
	if v == 0 {
		return "–"
	}
	return perS(budget / v)
}

func spreadOf(xs []float64) string {
	lo, hi := slices.Min(xs), slices.Max(xs)
	return fmt.Sprintf("%.2f–%.2f", lo, hi)
}

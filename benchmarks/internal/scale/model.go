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
	p("sign-out) with B one core; the highest rate measured here is lower wherever the machine's cores ran")
	p("out first: they also run the N instances, which decode N messages per sign-out between them.")
	p("")
	p("| N | WaitInstances | u, one node | Cluster busiest: model / measured | Redis-bound rate, one node / Cluster | highest rate measured, one node / Cluster |")
	p("|---:|---|---:|---:|---:|---:|")
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
			p("| %d | %s | %.2f µs | %.0f / %.0f µs | %s / %s | %s / %s |", n, yesNo(wait), u, pred, c.Busiest(),
				perS(budget/s.Busiest()), perS(budget/c.Busiest()), rate(s), rate(c))
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
	perNode := max(1, r.Channels/3)
	p("Idle background: Redis CPU per node with no sign-outs, in ms per second, and per freshness ping. Every")
	p("subscription pings every Staleness/4 (%gs here): one subscription per instance on one node, %d per", r.Staleness/4, perNode)
	p("instance on each Cluster master (K = %d over 3). It grows with N ÷ Staleness, not with the sign-outs:", r.Channels)
	p("")
	p("| N | one node: ms/s | µs per ping | Cluster, each node: ms/s | µs per ping |")
	p("|---:|---:|---:|---|---:|")
	for _, n := range r.ns() {
		s, c := r.find(false, n, false), r.find(true, n, false)
		if s == nil || c == nil {
			continue
		}
		nodes := make([]string, len(c.IdleCPU))
		sum := 0.0
		for i, v := range c.IdleCPU {
			nodes[i] = fmt.Sprintf("%.1f", v*1e3)
			sum += v
		}
		pings := float64(n) * 4 / r.Staleness // per subscription-set per second
		p("| %d | %.1f | %.0f | %s | %.0f |", n, s.IdleCPU[0]*1e3, s.IdleCPU[0]*1e6/pings,
			strings.Join(nodes, ", "), sum/float64(len(c.IdleCPU))*1e6/(pings*float64(perNode)))
	}
	p("")
}

func perS(v float64) string { return fmt.Sprintf("%.0f /s", v) }

func spreadOf(xs []float64) string {
	lo, hi := slices.Min(xs), slices.Max(xs)
	return fmt.Sprintf("%.2f–%.2f", lo, hi)
}

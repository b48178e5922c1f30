package scale

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func config(topology string, n int, wait bool, cpu, idle []float64, pubs []int64) Config {
	return Config{Topology: topology, Nodes: len(cpu), N: n, WaitInstances: wait, IdleCPU: idle, Publishes: pubs,
		CPUPhase: &Phase{SignOuts: 100, Window: 2, CPU: cpu, Sys: cpu},
		Ladder:   []Phase{{Rate: 10, Achieved: 10, SignOuts: 20, Prop: Latency{P50: 1, P99: 2, Max: 3}}}}
}

func TestAddRoundKeepsPerSignOutExact(t *testing.T) {
	var c Config
	// Round 1: 100 sign-outs over 2 s, idle 0.05 CPU-s/s: (0.3 - 0.1) / 100 = 2000 µs.
	c.AddRound(Phase{SignOuts: 100, Window: 2, CPU: []float64{0.3}, Sys: []float64{0.1}, Achieved: 50}, []float64{0.05}, []int64{100})
	// Round 2: 100 over 4 s, idle 0.025: (0.5 - 0.1) / 100 = 4000 µs.
	c.AddRound(Phase{SignOuts: 100, Window: 4, CPU: []float64{0.5}, Sys: []float64{0.2}, Achieved: 25}, []float64{0.025}, []int64{100})
	if got := c.Busiest(); math.Abs(got-3000) > 1e-6 {
		t.Errorf("Busiest() = %v, want 3000 (the rounds' net CPU over their sign-outs)", got)
	}
	if want := []float64{2000, 4000}; len(c.RoundBusiest) != 2 || math.Abs(c.RoundBusiest[0]-want[0]) > 1e-6 || math.Abs(c.RoundBusiest[1]-want[1]) > 1e-6 {
		t.Errorf("RoundBusiest = %v, want %v", c.RoundBusiest, want)
	}
	p := c.CPUPhase
	if p.SignOuts != 200 || p.Window != 6 || c.Publishes[0] != 200 || math.Abs(p.Sys[0]-0.3) > 1e-9 || p.Achieved != 37.5 {
		t.Errorf("merged phase %+v, publishes %v", *p, c.Publishes)
	}
}

func TestPerSignOutSubtractsIdle(t *testing.T) {
	c := config("cluster-3", 200, false, []float64{0.3, 0.1, 0.001}, []float64{0.05, 0.05, 0.05}, []int64{50, 30, 20})
	got := c.PerSignOut()
	// (0.3 - 0.05×2) / 100 s = 2000 µs; (0.1 - 0.1) = 0; below idle: 0, never negative.
	want := []float64{2000, 0, 0}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Errorf("PerSignOut()[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if b := c.Busiest(); math.Abs(b-2000) > 1e-6 {
		t.Errorf("Busiest() = %v, want 2000", b)
	}
	// 2000 µs × 100 sign-outs over 50 publishes × 200 instances.
	if us, sys := c.PerDelivery(0); math.Abs(us-20) > 1e-6 || sys != 1 {
		t.Errorf("PerDelivery(0) = %v, %v; want 20, 1", us, sys)
	}
}

func TestPassed(t *testing.T) {
	ok := Phase{Rate: 100, Achieved: 95, Prop: Latency{P99: 100}}
	if !Passed(ok, 100) {
		t.Errorf("Passed(%+v) = false", ok)
	}
	for name, mod := range map[string]func(*Phase){
		"p99":      func(p *Phase) { p.Prop.P99 = 101 },
		"lost":     func(p *Phase) { p.Lost = 1 },
		"errors":   func(p *Phase) { p.Errors = 1 },
		"lookups":  func(p *Phase) { p.Lookups = 1 },
		"stale":    func(p *Phase) { p.Stale = 1 },
		"overload": func(p *Phase) { p.Overloaded = "INFO cpu: context deadline exceeded" },
		"too slow": func(p *Phase) { p.Achieved = 89 },
	} {
		p := ok
		mod(&p)
		if Passed(p, 100) {
			t.Errorf("%s: Passed(%+v) = true", name, p)
		}
	}
}

func TestCheck(t *testing.T) {
	r := &Result{Configs: []Config{config("single", 10, false, []float64{0.1}, []float64{0}, []int64{100})}}
	if err := Check(r); err != nil {
		t.Fatalf("Check: %v", err)
	}
	r.Configs[0].Ladder[0].Lookups = 3
	if err := Check(r); err == nil || !strings.Contains(err.Error(), "3 Redis reads") {
		t.Errorf("Check with lookups at the first step: %v", err)
	}
	r.Configs[0].Ladder = nil
	if err := Check(r); err == nil {
		t.Error("Check without a ladder: nil error")
	}
}

func TestSpliceReplacesOnlyItsSection(t *testing.T) {
	r := &Result{CPUs: 2, Channels: 6, Staleness: 10, Configs: []Config{
		config("single", 200, false, []float64{0.2}, []float64{0.01}, []int64{100}),
		config("cluster-3", 200, false, []float64{0.07, 0.07, 0.07}, []float64{0.01, 0.01, 0.01}, []int64{33, 33, 34}),
	}}
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := os.WriteFile(path, []byte("# Benchmarks\n\nbefore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Splice(path, r); err != nil {
		t.Fatal(err)
	}
	once, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(once, []byte("\n## After\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Splice(path, r); err != nil {
		t.Fatal(err)
	}
	twice, _ := os.ReadFile(path)
	s := string(twice)
	if strings.Count(s, Begin) != 1 || strings.Count(s, End) != 1 {
		t.Fatalf("markers not unique after two splices:\n%s", s)
	}
	if !strings.HasPrefix(s, "# Benchmarks\n\nbefore\n") || !strings.HasSuffix(s, "\n## After\n") {
		t.Errorf("text outside the section changed:\n%s", s)
	}
	if !strings.Contains(s, "| 200 | no | 1800 µs | 500 µs (500, 500, 500) | 0.28 |") {
		t.Errorf("section lacks the N = 200 row or its ratio:\n%s", s)
	}
}

func TestRenderWithoutConfigs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Splice(path, &Result{}); err != nil {
		t.Fatal(err)
	}
}

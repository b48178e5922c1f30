// The raw results of run.sh, as report reads them.

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// sample is one benchmark's runs, in order.
type sample struct {
	ns, bytes, allocs []float64
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ x-\S+)*(?:\s+([\d.]+) B/op)?(?:\s+([\d.]+) allocs/op)?`)

func parseBench(path string) (map[string]*sample, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	m := map[string]*sample{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		g := benchLine.FindStringSubmatch(sc.Text())
		if g == nil {
			continue
		}
		s := m[g[1]]
		if s == nil {
			s = new(sample)
			m[g[1]] = s
			order = append(order, g[1])
		}
		s.ns = append(s.ns, num(g[2]))
		if g[3] != "" {
			s.bytes = append(s.bytes, num(g[3]))
		}
		if g[4] != "" {
			s.allocs = append(s.allocs, num(g[4]))
		}
	}
	return m, order, sc.Err()
}

func num(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is the largest deviation from the median, in percent.
func spread(xs []float64) float64 {
	m := median(xs)
	var d float64
	for _, x := range xs {
		d = max(d, math.Abs(x-m)/m*100)
	}
	return d
}

// ratios pairs the i-th run of x with the i-th run of the floor.
func ratios(x, floor []float64) []float64 {
	n := min(len(x), len(floor))
	r := make([]float64, n)
	for i := range n {
		r[i] = x[i] / floor[i]
	}
	return r
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func readText(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(b), "\n")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func goVersion() string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

// wrkResult is what report reads from a wrk output.
type wrkResult struct {
	reqs    float64   // median over the rounds
	rounds  []float64 // req/s of each round, in order
	latency string
	errors  string
}

var (
	wrkReqs    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)`)
	wrkP50     = regexp.MustCompile(`(?m)^\s+50%\s+(\S+)`)
	wrkP99     = regexp.MustCompile(`(?m)^\s+99%\s+(\S+)`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket  = regexp.MustCompile(`Socket errors:[^\n]*`)
)

func parseWrk(path string) (*wrkResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := string(b)
	all := wrkReqs.FindAllStringSubmatch(s, -1)
	if all == nil {
		return nil, fmt.Errorf("%s: no Requests/sec", path)
	}
	r := &wrkResult{}
	for _, g := range all {
		r.rounds = append(r.rounds, num(g[1]))
	}
	r.reqs = median(r.rounds)
	if g := wrkLatency.FindStringSubmatch(s); g != nil {
		r.latency = fmt.Sprintf("avg %s, max %s", g[1], g[3])
	}
	if g, h := wrkP50.FindStringSubmatch(s), wrkP99.FindStringSubmatch(s); g != nil && h != nil {
		r.latency = fmt.Sprintf("p50 %s, p99 %s, ", g[1], h[1]) + r.latency
	}
	var errs []string
	if g := wrkNon2xx.FindStringSubmatch(s); g != nil {
		errs = append(errs, g[1]+" non-2xx responses")
	}
	if g := wrkSocket.FindString(s); g != "" {
		errs = append(errs, g)
	}
	r.errors = strings.Join(errs, "; ")
	return r, nil
}

// nodeResult is node/bench.mjs's output.
type nodeResult struct {
	Library      string    `json:"library"`
	Version      string    `json:"version"`
	Node         string    `json:"node"`
	Call         string    `json:"call"`
	Rounds       []float64 `json:"rounds"`
	MedianMicros float64   `json:"medianMicros"`
	OpsPerSec    float64   `json:"opsPerSec"`
}

type fixtureMeta struct {
	TokenBytes int `json:"tokenBytes"`
	Signed     int `json:"signingInputBytes"`
}

// Command report turns the raw results of run.sh (results/) into
// BENCHMARKS.md: machine, commands, the Go benchmark table with ratios to
// the floor measured in the same run, aws-jwt-verify, wrk, the Redis
// command count, the memory figures and the sign-out fan-out at scale.
// Missing optional inputs (node, wrk, redis-server not installed) become a
// "not measured" line.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cognitoguard/cognitoguard/benchmarks/internal/scale"
)

func main() {
	dir := flag.String("results", "results", "directory of run.sh's raw results")
	out := flag.String("out", "../BENCHMARKS.md", "file to write")
	prelim := flag.String("preliminary", "", "if set, a warning printed at the top (for runs on a noisy machine)")
	flag.Parse()
	var b bytes.Buffer
	if err := write(&b, *dir, *prelim); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("report: wrote", *out)
}

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

type redisResult struct {
	RedisVersion     string            `json:"redisVersion"`
	Users            int               `json:"users"`
	WarmupRequests   int               `json:"warmupRequests"`
	Requests         int               `json:"requests"`
	Concurrency      int               `json:"concurrency"`
	WindowMillis     float64           `json:"windowMillis"`
	CommandsDelta    map[string]int64  `json:"commandsDelta"`
	RequestCommands  int64             `json:"requestCommands"`
	BackgroundPings  int64             `json:"backgroundPings"`
	StoreDelta       map[string]uint64 `json:"storeStatsDelta"`
	ViewEntryBytes   float64           `json:"viewEntryBytes"`
	ViewEntries      int               `json:"viewEntries"`
	ViewEntryLookups uint64            `json:"viewEntryLookups"`
}

type memResult struct {
	CacheEntryBytes   float64 `json:"cacheEntryBytes"`
	CacheEntries      int     `json:"cacheEntries"`
	TokenBytes        int     `json:"tokenBytes"`
	MemoryRecordBytes float64 `json:"memoryRecordBytes"`
	MemoryRecords     int     `json:"memoryRecords"`
	Method            string  `json:"method"`
}

type fixtureMeta struct {
	TokenBytes int `json:"tokenBytes"`
	Signed     int `json:"signingInputBytes"`
}

// peerNotes say what each row measures.
var peerNotes = map[string]string{
	"BenchmarkPeers/cognitoguard-cold":        "never-seen tokens: parse, RSA, claims, revocation lookup (in-process store), cache insert",
	"BenchmarkPeers/cognitoguard-repeat":      "the same token again: cache hit, exp check, revocation lookup",
	"BenchmarkPeers/jwx-v3":                   "lestrrat-go/jwx v3.3.0 `jwt.Parse` + `WithKeySet` + iss/exp/token_use/client_id options",
	"BenchmarkPeers/golang-jwt-v5+keyfunc-v3": "golang-jwt/jwt v5 + MicahParks/keyfunc v3.9.0 (`NewJWKSetJSON`), MapClaims, checks by hand",
	"BenchmarkPeers/auth0-v2":                 "auth0/go-jwt-middleware v2 `validator` (go-jose v2), custom claims; needs `aud`, so its token has `aud` added",
	"BenchmarkPeers/go-oidc-v3":               "coreos/go-oidc v3 `NewVerifier` + `StaticKeySet` (go-jose v4), client check skipped and done by hand",
	"BenchmarkFloor":                          "SHA-256 + `crypto/rsa.VerifyPKCS1v15`, same token and key, nothing else",
}

func write(w *bytes.Buffer, dir, prelim string) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	path := func(name string) string { return filepath.Join(dir, name) }

	p("# Benchmarks")
	p("")
	if prelim != "" {
		p("> **%s**", prelim)
		p("")
	}
	p("Generated by `benchmarks/run.sh` on %s. Every figure below comes from that one run; regenerate", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	p("them with `cd benchmarks && ./run.sh` on a quiet machine (it rewrites this file).")
	p("")
	p("## Machine")
	p("")
	p("| | |")
	p("|---|---|")
	p("| CPUs (`nproc`) | %d |", runtime.NumCPU())
	p("| CPU | %s |", cpuModel())
	p("| Go | `%s` |", goVersion())
	p("| OS/arch | %s/%s |", runtime.GOOS, runtime.GOARCH)
	if v := readText(path("versions.txt")); v != "" {
		for _, line := range strings.Split(v, "\n") {
			if k, val, ok := strings.Cut(line, "="); ok {
				p("| %s | %s |", k, val)
			}
		}
	}
	var meta fixtureMeta
	if err := readJSON(filepath.Join("testdata", "fixture.json"), &meta); err == nil {
		p("")
		p("The token: a Cognito access token as Cognito issues it (claims `sub, cognito:groups, iss, version,")
		p("client_id, origin_jti, event_id, token_use, scope, auth_time, exp, iat, jti, username`, in that order),")
		p("RS256 with a 2048-bit key, %d bytes (%d-byte signing input), minted by `cognitotest` and written to", meta.TokenBytes, meta.Signed)
		p("`benchmarks/testdata/` by `cmd/mkfixture`, so that Go, node and wrk verify the same bytes.")
	}
	p("")
	p("## Commands")
	p("")
	p("```")
	p("%s", readText(path("commands.txt")))
	p("```")
	p("")

	// Go benchmarks.
	benches, order, err := parseBench(path("bench.txt"))
	if err != nil {
		return err
	}
	floor := benches["BenchmarkFloor"]
	if floor == nil {
		return fmt.Errorf("no BenchmarkFloor in %s", path("bench.txt"))
	}
	p("## Verifying one token (Go, one goroutine)")
	p("")
	p("Median of %d rounds (± the largest deviation from it). Each round runs every benchmark once, back to", len(floor.ns))
	p("back (`-count 1`), so that \"× floor\" divides each benchmark by `BenchmarkFloor` of the same round, a")
	p("few seconds apart, and reports the median of those ratios: on a shared machine this ratio is far")
	p("steadier than the absolute times.")
	p("")
	p("| benchmark | ns/op | time | ±%% | B/op | allocs/op | × floor | what it does |")
	p("|---|---:|---:|---:|---:|---:|---:|---|")
	for _, name := range order {
		s := benches[name]
		p("| `%s` | %.0f | %s | %.0f%% | %.0f | %.0f | %.2f | %s |", name, median(s.ns), fmtNs(median(s.ns)), spread(s.ns),
			median(s.bytes), median(s.allocs), median(ratios(s.ns, floor.ns)), peerNotes[name])
	}
	p("")
	p("All verifiers check the signature (RS256 only), `iss`, `exp`, `token_use` = access and `client_id`;")
	p("`TestPeersVerify` proves each of them rejects a flipped signature bit. Only cognitoguard also checks")
	p("revocation. The peers have no verified-token cache, so a repeated token costs them what a new one does.")
	p("")
	if bs := readText(path("benchstat.txt")); bs != "" {
		p("<details><summary>benchstat output</summary>")
		p("")
		p("```")
		p("%s", bs)
		p("```")
		p("")
		p("</details>")
		p("")
	}

	// node.
	p("## cognitoguard vs aws-jwt-verify (node)")
	p("")
	var nr nodeResult
	if err := readJSON(path("node.json"), &nr); err != nil {
		p("Not measured: %s (node or aws-jwt-verify missing).", strings.TrimSpace(readText(path("node.skipped"))))
	} else {
		cold, repeat := benches["BenchmarkPeers/cognitoguard-cold"], benches["BenchmarkPeers/cognitoguard-repeat"]
		p("%s %s on node %s, `%s`, same token and JWKS, one thread, median of %d rounds.", nr.Library, nr.Version, nr.Node, nr.Call, len(nr.Rounds))
		p("aws-jwt-verify keeps no verified-token cache: every call verifies the signature.")
		p("")
		p("| verifier | µs/op | ops/s (one core) | vs aws-jwt-verify |")
		p("|---|---:|---:|---:|")
		p("| aws-jwt-verify `verifySync` | %.1f | %.0f | 1.00 |", nr.MedianMicros, nr.OpsPerSec)
		if cold != nil {
			ops := 1e9 / median(cold.ns)
			p("| cognitoguard, new token (cold) | %.1f | %.0f | %.2f× |", median(cold.ns)/1e3, ops, ops/nr.OpsPerSec)
		}
		if repeat != nil {
			ops := 1e9 / median(repeat.ns)
			p("| cognitoguard, repeat token | %.2f | %.0f | %.0f× |", median(repeat.ns)/1e3, ops, ops/nr.OpsPerSec)
		}
		p("| floor (Go `crypto/rsa`) | %.1f | %.0f | %.2f× |", median(floor.ns)/1e3, 1e9/median(floor.ns), 1e9/median(floor.ns)/nr.OpsPerSec)
	}
	p("")

	// wrk.
	p("## HTTP: bare handler vs the middleware (wrk)")
	p("")
	bare, errB := parseWrk(path("wrk-bare.txt"))
	guarded, errG := parseWrk(path("wrk-guarded.txt"))
	cold, errC := parseWrk(path("wrk-cold.txt"))
	if errB != nil || errG != nil || errC != nil {
		p("Not measured: %s", firstNonEmpty(strings.TrimSpace(readText(path("wrk.skipped"))), fmt.Sprint(errB, errG, errC)))
	} else {
		p("`cmd/httpbench` (one process, GOMAXPROCS = all CPUs) serves a handler writing `ok`: bare, and behind")
		p("`middleware.New` with a Verifier using the in-process revocation store. wrk (`%s`) runs on the", readText(path("wrk-args.txt")))
		p("same machine, so the two share the CPUs: compare the ratios more than the absolute figures.")
		p("")
		p("Each route runs %d times, the routes alternating round by round; req/s is the median of the rounds and", len(bare.rounds))
		p("\"× bare\" the median of the per-round ratios (latency: first round).")
		p("")
		p("| route | req/s | × bare | latency | errors |")
		p("|---|---:|---:|---|---|")
		row := func(name string, r *wrkResult) {
			ratio := r.reqs / bare.reqs
			if len(r.rounds) == len(bare.rounds) {
				rs := make([]float64, len(r.rounds))
				for i := range rs {
					rs[i] = r.rounds[i] / bare.rounds[i]
				}
				ratio = median(rs)
			}
			p("| %s | %.0f | %.2f | %s | %s |", name, r.reqs, ratio, r.latency, firstNonEmpty(r.errors, "none"))
		}
		row("`/bare` — no verification (same `Authorization` header sent)", bare)
		row("`/guarded` — middleware, one token repeated (cache hit)", guarded)
		row("`/cold` — middleware, 1,024 distinct tokens in turn, 16-entry cache: every request verifies the signature", cold)
	}
	p("")

	// Redis.
	p("## Redis round trips on the hot path")
	p("")
	var rr redisResult
	if err := readJSON(path("redis.json"), &rr); err != nil {
		p("Not measured: %s", firstNonEmpty(strings.TrimSpace(readText(path("redis.skipped"))), err.Error()))
	} else {
		p("`cmd/rediscount`: its own redis-server %s on loopback, `revocation.NewRedis` (defaults) as the Verifier's", rr.RedisVersion)
		p("store behind the middleware. Warm-up: one request for each of %d users. Then %d requests of those users", rr.Users, rr.Requests)
		p("(%d concurrent clients, tokens mostly new to the verified-token cache, so the store is asked every time),", rr.Concurrency)
		p("%.0f ms. Delta of `INFO commandstats` over those requests (the snapshot's own `INFO` excluded):", rr.WindowMillis)
		p("")
		p("| | count |")
		p("|---|---:|")
		cmds := make([]string, 0, len(rr.CommandsDelta))
		for c := range rr.CommandsDelta {
			cmds = append(cmds, c)
		}
		slices.Sort(cmds)
		for _, c := range cmds {
			p("| `%s` | %d |", c, rr.CommandsDelta[c])
		}
		p("| **commands caused by the %d requests** (all but the subscriber's pings) | **%d** |", rr.Requests, rr.RequestCommands)
		p("| the store's own count: lookups / memory hits / round trips | %d / %d / %d |", rr.StoreDelta["lookups"], rr.StoreDelta["memoryHits"], rr.StoreDelta["roundTrips"])
		p("")
		p("The `ping`s are the subscriber's freshness proof (every `Staleness/4` = 250 ms by default), independent")
		p("of the request rate. A first-seen user costs one `HGETALL` (%d users → %d lookups below).", rr.ViewEntries, rr.ViewEntryLookups)
	}
	p("")

	// The main module's benchmarks.
	if err := writeRoot(p, path("root.txt")); err != nil {
		return err
	}

	// Memory.
	p("## Memory")
	p("")
	var mr memResult
	merr := readJSON(path("memsize.json"), &mr)
	p("| structure | bytes per entry | measured on |")
	p("|---|---:|---|")
	if merr == nil {
		p("| verified-token cache (Verifier, default 4,096 entries) | %.0f | %d distinct %d-byte tokens verified by `cmd/memsize` |", mr.CacheEntryBytes, mr.CacheEntries, mr.TokenBytes)
		p("| `revocation.Memory` record (one user sign-out) | %.0f | %d users signed out (36-byte subs) by `cmd/memsize` |", mr.MemoryRecordBytes, mr.MemoryRecords)
	}
	if rr.ViewEntries > 0 {
		p("| `revocation.Redis` local-view entry (a seen user, no sign-out) | %.0f | %d first-seen users asked of the store by `cmd/rediscount` |", rr.ViewEntryBytes, rr.ViewEntries)
	}
	p("")
	method := mr.Method
	if method == "" {
		method = "runtime.MemStats.HeapAlloc after two runtime.GC(), before and after filling, divided by the entries"
	}
	p("How: %s (package `internal/heap`). The figures include the map's share of buckets at that fill level", method)
	p("and the copies each structure keeps of its keys; the caller's own strings are alive before and after, so")
	p("they are not counted. A cache entry is dominated by the token it is keyed by: it grows with the token.")
	p("")

	// The sign-out fan-out at fleet scale (cmd/scale).
	var sr scale.Result
	if err := readJSON(path("scale.json"), &sr); err != nil {
		p("## Sign-out fan-out at scale: one Redis vs a 3-master Cluster")
		p("")
		p("Not measured: %s", firstNonEmpty(strings.TrimSpace(readText(path("scale.skipped"))), err.Error()))
	} else {
		scale.Render(w, &sr)
	}
	return nil
}

var xFloorLine = regexp.MustCompile(`^BenchmarkColdVsFloor\S*\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) x-floor`)

// writeRoot reports the main module's benchmarks: medians of each, and
// the paired cold/floor ratio.
func writeRoot(p func(string, ...any), file string) error {
	m, order, err := parseBench(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var ratios []float64
	for _, line := range strings.Split(string(b), "\n") {
		if g := xFloorLine.FindStringSubmatch(line); g != nil {
			if r, err := strconv.ParseFloat(g[1], 64); err == nil {
				ratios = append(ratios, r)
			}
		}
	}
	p("## The main module's benchmarks (`go test -bench` in the repository root)")
	p("")
	p("Same machine, run right after the tables above. `BenchmarkColdVsFloor` times the floor and a full cold")
	p("`Verify` of the same token alternately, token by token, and divides the sums: pairing cancels the drift")
	p("that separate benchmarks suffer from here.")
	p("")
	p("| benchmark | median ns/op | B/op | allocs/op | runs |")
	p("|---|---:|---:|---:|---:|")
	for _, name := range order {
		s := m[name]
		p("| %s | %s | %.0f | %.0f | %d |", name, fmtNs(median(s.ns)), median(s.bytes), median(s.allocs), len(s.ns))
	}
	if len(ratios) > 0 {
		sort.Float64s(ratios)
		p("")
		p("**Cold verification / floor, paired: median %.3f× (min %.3f, max %.3f, %d runs).**", median(ratios), ratios[0], ratios[len(ratios)-1], len(ratios))
	}
	p("")
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

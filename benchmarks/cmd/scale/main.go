// Command scale measures how the Redis revocation store's sign-out fan-out
// grows with the fleet: N store instances (redisstore.New, each with
// its own client and connections, all in this process) against one
// redis-server and against a Cluster of three masters, both started by
// the command on free loopback ports and removed at the end.
//
// For each N and each topology, with and without WaitInstances, it
// measures the Redis CPU of each node per sign-out (INFO cpu deltas, less
// the idle background measured just before), then, from a low rate raised
// by half at each step until the p99 exceeds 100 ms, the propagation of
// each sign-out to all N instances (polled in their views). It prints one JSON object (see
// internal/scale), and with -md splices the report's scale section into
// that file.
//
//	go run ./cmd/scale -json results/scale.json -md ../BENCHMARKS.md
//	go run ./cmd/scale -quick   # N = 10 only, well under a minute (ci.sh)
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cognitoguard/cognitoguard/benchmarks/internal/scale"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// options are the knobs of one run.
type options struct {
	ns         []int
	signOuts   int           // sign-outs of each CPU round
	rounds     int           // CPU rounds per topology, alternating between them
	users      int           // users each instance has seen (sign-outs cycle through them)
	idle       time.Duration // each idle window around a CPU round
	rate0      float64       // first rate of the ladder × N, within [10, 50] per second
	rateMax    float64       // the ladder stops (capped) above it
	step       time.Duration // length of a ladder step
	minStep    int           // sign-outs of a ladder step, at least
	p99Bound   time.Duration
	deliveries float64 // messages per second the CPU phase sends the N instances (sets its rate)
	staleness  time.Duration
	timeout    time.Duration
	channels   int
	ladder     bool // run the rate ladders
}

func main() {
	quick := flag.Bool("quick", false, "N = 10 only, few sign-outs: a smoke run (CI); implies -check")
	check := flag.Bool("check", false, "exit with status 1 if a sign-out was lost, refused or read from Redis at the lowest rate")
	nsFlag := flag.String("n", "10,50,200,500", "instance counts")
	jsonOut := flag.String("json", "", "write the JSON result to this file (default stdout)")
	md := flag.String("md", "", "splice the scale section into this Markdown file")
	from := flag.String("from", "", "measure nothing: splice the section of this JSON result into -md")
	server := flag.String("redis-server", "redis-server", "redis-server binary")
	cli := flag.String("redis-cli", "redis-cli", "redis-cli binary")
	timeout := flag.Duration("timeout", 45*time.Minute, "abort the run after this long (the rows measured by then are still written)")
	channels := flag.Int("channels", redisstore.DefaultChannels, "redisstore.Config.Channels (K) of every instance")
	deliveries := flag.Float64("deliveries", 10_000, "the CPU phase's rate × N")
	flag.IntVar(&cpuWrites, "cpu-writes", cpuWrites, "sign-outs in flight in the CPU phase")
	rounds := flag.Int("rounds", 0, "CPU rounds per topology (default 6; -quick 2)")
	noLadder := flag.Bool("no-ladder", false, "measure the CPU rounds only (a quick look; no rates)")
	flag.Parse()
	o := options{signOuts: 200, rounds: 6, users: 300, idle: time.Second, rate0: 2000, rateMax: 2000,
		step: time.Second, minStep: 100, p99Bound: 100 * time.Millisecond, deliveries: 10_000,
		staleness: 10 * time.Second, timeout: time.Second}
	o.deliveries, o.channels = *deliveries, *channels
	if *quick {
		o = options{channels: o.channels, ns: []int{10}, signOuts: 40, rounds: 2, users: 40, idle: 250 * time.Millisecond, rate0: 250, rateMax: 100,
			step: 300 * time.Millisecond, minStep: 10, p99Bound: 100 * time.Millisecond, deliveries: 10_000,
			staleness: time.Second, timeout: time.Second}
	} else {
		for f := range strings.SplitSeq(*nsFlag, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				log.Fatalf("scale: bad -n %q", *nsFlag)
			}
			o.ns = append(o.ns, n)
		}
	}
	o.rounds = cmp.Or(*rounds, o.rounds)
	o.ladder = !*noLadder
	if *from != "" {
		if err := spliceFrom(*from, *md); err != nil {
			log.Fatal("scale: ", err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := run(ctx, o, lookPath(*server), lookPath(*cli))
	if err != nil && res == nil {
		log.Fatal("scale: ", err)
	}
	if err != nil { // aborted: write the rows measured so far
		res.Failed = append(res.Failed, "the rest: "+err.Error())
		defer log.Fatal("scale: ", err)
	}
	res.Command = "go run ./cmd/scale " + strings.Join(os.Args[1:], " ")
	if err := output(res, *jsonOut, *md); err != nil {
		log.Fatal("scale: ", err)
	}
	if *quick || *check {
		if err := scale.Check(res); err != nil {
			log.Fatal("scale: ", err)
		}
	}
}

func lookPath(bin string) string {
	p, err := exec.LookPath(bin)
	if err != nil {
		log.Fatalf("scale: %s not found: %v", bin, err)
	}
	return p
}

// run starts both topologies and measures every configuration, in the
// order N, WaitInstances; the two topologies of a row are measured
// together (see measure).
func run(ctx context.Context, o options, server, cli string) (*scale.Result, error) {
	t0 := time.Now()
	single, err := startTopology(ctx, server, cli, 0)
	if err != nil {
		return nil, err
	}
	defer single.stop()
	cluster, err := startTopology(ctx, server, cli, 3)
	if err != nil {
		return nil, err
	}
	defer cluster.stop()
	res := &scale.Result{RedisVersion: single.version(ctx), Go: runtime.Version(), CPUs: runtime.NumCPU(),
		LoadStart: loadAvg(), Channels: o.channels, Users: o.users, SignOuts: o.signOuts, Rounds: o.rounds,
		P99BoundMs: float64(o.p99Bound) / 1e6, RateMax: o.rateMax,
		Staleness: o.staleness.Seconds(), Timeout: o.timeout.Seconds(), Deliveries: o.deliveries}
	for _, n := range o.ns {
		for _, wait := range []bool{false, true} {
			cs, err := measure(ctx, o, []*topology{single, cluster}, n, wait, len(res.Configs)+len(res.Failed)*2)
			if err != nil {
				if ctx.Err() != nil {
					res.LoadEnd, res.Seconds = loadAvg(), time.Since(t0).Seconds()
					return res, err
				}
				// The other rows stand; this one is reported as failed.
				res.Failed = append(res.Failed, fmt.Sprintf("N=%d WaitInstances=%v: %v", n, wait, err))
				log.Printf("scale: N=%d wait=%v: %v", n, wait, err)
				continue
			}
			for _, c := range cs {
				log.Printf("scale: %s N=%d wait=%v: busiest node %.0f µs/sign-out (rounds %.0f), max rate %.0f/s",
					c.Topology, n, wait, c.Busiest(), c.RoundBusiest, c.MaxRate)
				res.Configs = append(res.Configs, *c)
			}
		}
	}
	res.LoadEnd = loadAvg()
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

// measure measures one N and WaitInstances on every topology, each with a
// fleet of its own. The fleets live together, so that the CPU rounds can
// alternate between the topologies (ABBA…): a change in the machine's load
// then weighs on both alike. Each round is bracketed by idle windows.
// The rate ladders follow, one topology after the other.
func measure(ctx context.Context, o options, topos []*topology, n int, wait bool, id int) ([]*scale.Config, error) {
	fleets := make([]*fleet, len(topos))
	closeAll := func() {
		for t, f := range fleets {
			if f != nil {
				f.close()
				fleets[t] = nil
			}
		}
	}
	defer closeAll()
	cfg := func(prefix string) redisstore.Config {
		return redisstore.Config{Prefix: prefix, WaitInstances: wait, Staleness: o.staleness, Timeout: o.timeout, Channels: o.channels}
	}
	cs := make([]*scale.Config, len(topos))
	for t, topo := range topos {
		f, err := newFleet(ctx, topo, n, o.users, cfg(fmt.Sprintf("scale%d:", id+t)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", topo.name, err)
		}
		fleets[t] = f
		cs[t] = &scale.Config{Topology: topo.name, Nodes: len(topo.nodes), N: n, WaitInstances: wait}
	}
	// A rate whose deliveries (N per sign-out) the instances of this one
	// process can roughly follow.
	cpuRate := min(400, max(5, o.deliveries/float64(n)))
	revokes := make([][]time.Duration, len(topos))
	for r := range o.rounds {
		for k := range topos {
			t := k
			if r%2 == 1 {
				t = len(topos) - 1 - k
			}
			if err := fleets[t].cpuRound(ctx, topos[t], o, cpuRate, cs[t], &revokes[t]); err != nil {
				return nil, fmt.Errorf("%s: %w", topos[t].name, err)
			}
		}
	}
	closeAll()
	if !o.ladder {
		return cs, nil
	}
	// Each ladder pushes this process and one topology to their limits:
	// on a fleet of its own (fresh keys), the other fleet closed.
	for t, topo := range topos {
		f, err := newFleet(ctx, topo, n, o.users, cfg(fmt.Sprintf("scale%d-ladder:", id+t)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", topo.name, err)
		}
		fleets[t] = f
		err = f.ladder(ctx, topo, o, cs[t])
		closeAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", topo.name, err)
		}
	}
	return cs, nil
}

// ladder raises the rate by half at each step until a step fails (see
// scale.Passed) or the rate passes rateMax.
func (f *fleet) ladder(ctx context.Context, topo *topology, o options, c *scale.Config) error {
	c.Capped = true
	for rate := min(50, max(10, o.rate0/float64(c.N))); rate <= o.rateMax; rate *= 1.5 {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := f.phase(ctx, topo, rate, max(o.minStep, int(rate*o.step.Seconds())))
		if err != nil {
			return err
		}
		c.Ladder = append(c.Ladder, *r)
		if !scale.Passed(*r, float64(o.p99Bound)/1e6) {
			c.Capped = false
			break
		}
		c.MaxRate = rate
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// output writes the JSON result and, with md, splices the section.
func output(res *scale.Result, jsonOut, md string) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if jsonOut == "" {
		_, err = os.Stdout.Write(b)
	} else if err = os.MkdirAll(filepath.Dir(jsonOut), 0o755); err == nil {
		err = os.WriteFile(jsonOut, b, 0o644)
	}
	if err != nil || md == "" {
		return err
	}
	return scale.Splice(md, res)
}

// spliceFrom splices the section of a saved result into md.
func spliceFrom(from, md string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	var res scale.Result
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if md == "" {
		return errors.New("-from needs -md")
	}
	return scale.Splice(md, &res)
}

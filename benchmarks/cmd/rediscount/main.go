// Command rediscount shows that the Redis revocation store keeps Redis off
// the hot path. It starts its own redis-server on a free loopback port,
// serves the fixture's handler behind the cognitoguard middleware with
// redisstore.New, warms up with one request per user, then sends
// -requests more requests of those known users and reports the delta of
// Redis' INFO commandstats over them (the expectation: no lookups, only
// the subscriber's background pings). It then measures the memory of one
// entry of the store's local view, and prints one JSON object.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/fixture"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/heap"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/results"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

func main() {
	dir := flag.String("testdata", "testdata", "fixture directory")
	requests := flag.Int("requests", 1000, "requests after warm-up")
	conc := flag.Int("c", 8, "concurrent clients")
	viewUsers := flag.Int("view-users", 20_000, "first-seen users added to measure a local-view entry (0: skip)")
	server := flag.String("redis-server", "redis-server", "redis-server binary")
	check := flag.Bool("check", false, "exit with status 1 if the requests caused any Redis command")
	flag.Parse()
	r, err := run(*dir, *requests, *conc, *viewUsers, *server)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		log.Fatal(err)
	}
	if *check && (r.RequestCommands != 0 || r.StoreDelta["lookups"] != 0) {
		log.Fatalf("rediscount: %d requests of known users caused %d Redis commands (%d store lookups); want 0",
			r.Requests, r.RequestCommands, r.StoreDelta["lookups"])
	}
}

func run(dir string, requests, conc, viewUsers int, server string) (*results.Redis, error) {
	ctx := context.Background()
	f, _, err := fixture.Get(dir)
	if err != nil {
		return nil, err
	}
	addr, stop, err := startRedis(server)
	if err != nil {
		return nil, err
	}
	defer stop()

	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	admin := redis.NewClient(&redis.Options{Addr: addr}) // INFO and nothing else
	defer admin.Close()
	store, err := redisstore.New(rdb, redisstore.Config{})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := store.Ready(rctx); err != nil {
		return nil, err
	}

	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(f.JWKS) }))
	defer jwks.Close()
	v, err := fixture.NewVerifier(jwks.URL+"/jwks.json", cognitoguard.Config{Revocation: store})
	if err != nil {
		return nil, err
	}
	defer v.Close()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	srv := httptest.NewServer(middleware.New(v, middleware.Config{})(ok))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}

	get := func(tok string) error {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	// Warm-up: each user once (tokens[i] belongs to user i % Users).
	for i := range fixture.Users {
		if err := get(f.Tokens[i]); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	r := results.Redis{Users: fixture.Users, WarmupRequests: fixture.Users, Requests: requests, Concurrency: conc}
	if r.RedisVersion, err = redisVersion(ctx, admin); err != nil {
		return nil, err
	}

	before, err := commandStats(ctx, admin)
	if err != nil {
		return nil, err
	}
	s0 := store.Stats()
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, conc)
	for w := range conc {
		wg.Go(func() {
			for i := w; i < requests; i += conc {
				// Known users, tokens new to the verifier's cache for the
				// most part: the cache does not hide the store.
				if err := get(f.Tokens[(fixture.Users+i)%len(f.Tokens)]); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	r.WindowMillis = float64(time.Since(start).Microseconds()) / 1000
	s1 := store.Stats()
	after, err := commandStats(ctx, admin)
	if err != nil {
		return nil, err
	}
	r.CommandsDelta = map[string]int64{}
	for cmd, n := range after {
		if d := n - before[cmd]; d != 0 && cmd != "info" {
			r.CommandsDelta[cmd] = d
		}
	}
	if d := after["info"] - before["info"]; d != 1 {
		r.CommandsDelta["info (beyond the snapshot)"] = d - 1
	}
	for cmd, d := range r.CommandsDelta {
		switch cmd {
		case "ping":
			r.BackgroundPings = d
		case "info (beyond the snapshot)", "evalsha", "eval":
			// Requests of known users never write: a script in the window
			// is the health check's marker, every 2 s.
			r.BackgroundChecks += d
		default:
			r.RequestCommands += d
		}
	}
	r.StoreDelta = map[string]uint64{
		"memoryHits": s1.MemoryHits - s0.MemoryHits,
		"lookups":    s1.Lookups - s0.Lookups,
		"roundTrips": s1.RoundTrips - s0.RoundTrips,
	}

	if viewUsers > 0 {
		subs := make([]string, viewUsers)
		for i := range subs {
			subs[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, i%65536, i%4096, i%4096, i)
		}
		at := time.Now().Add(-time.Minute)
		s2 := store.Stats()
		r.ViewEntryBytes = heap.PerEntry(viewUsers, func() {
			for _, s := range subs {
				c := &cognitoguard.Claims{UserPoolID: fixture.PoolID, Subject: s, AuthTime: at, IssuedAt: at}
				if _, err := store.Revoked(ctx, c); err != nil {
					log.Fatal(err)
				}
			}
		})
		runtime.KeepAlive(subs)
		r.ViewEntries = viewUsers
		r.ViewEntryLookups = store.Stats().Lookups - s2.Lookups
	}
	return &r, nil
}

// startRedis runs redis-server on a free loopback port, without
// persistence, until stop is called.
func startRedis(bin string) (addr string, stop func(), err error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return "", nil, fmt.Errorf("%s not found: %w", bin, err)
	}
	tmp, err := os.MkdirTemp("", "rediscount")
	if err != nil {
		return "", nil, err
	}
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp)
		if err := cmd.Start(); err != nil {
			return "", nil, err
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
			os.RemoveAll(tmp)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := c.Ping(context.Background()).Err()
			if err == nil {
				c.Close()
				return addr, stop, nil
			}
			select {
			case <-exited:
			case <-time.After(20 * time.Millisecond):
				if time.Now().Before(deadline) {
					continue
				}
			}
			break
		}
		c.Close()
		stop()
	}
	return "", nil, errors.New("redis-server did not start")
}

// commandStats parses INFO commandstats into calls per command.
func commandStats(ctx context.Context, c *redis.Client) (map[string]int64, error) {
	s, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, err
				}
				out[strings.TrimPrefix(name, "cmdstat_")] = n
			}
		}
	}
	return out, sc.Err()
}

func redisVersion(ctx context.Context, c *redis.Client) (string, error) {
	s, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, nil
		}
	}
	return "unknown", nil
}

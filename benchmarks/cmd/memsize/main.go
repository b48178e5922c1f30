// Command memsize measures the memory of cognitoguard's two per-user
// structures in one process, and prints one JSON object:
//
//   - a verified-token cache entry: the growth of the live heap when a
//     Verifier (default cache size) verifies the fixture's 1,024 distinct
//     tokens, divided by 1,024 (token string, decoded claims, map slot);
//   - an in-process revocation record (revocation.Memory): the growth
//     when 100,000 users of one pool are signed out (issuer interned by
//     the store or not, sub a 36-byte UUID), divided by 100,000.
//
// The Redis store's local view is measured by cmd/rediscount, which needs
// a redis-server.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/fixture"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/heap"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/results"
	"github.com/cognitoguard/cognitoguard/revocation"
)

func main() {
	dir := flag.String("testdata", "testdata", "fixture directory")
	users := flag.Int("users", 100_000, "users signed out in the in-process store")
	flag.Parse()
	f, _, err := fixture.Get(*dir)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	r := results.Memory{TokenBytes: f.Meta.TokenBytes, CacheEntries: len(f.Tokens), MemoryRecords: *users, GoVersion: runtime.Version(),
		MeasuredWithMethod: "runtime.MemStats.HeapAlloc after two runtime.GC(), before and after filling, divided by the entries"}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(f.JWKS) }))
	defer srv.Close()
	v, err := fixture.NewVerifier(srv.URL+"/jwks.json", cognitoguard.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	if err := v.Refresh(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := v.Verify(ctx, f.Token); err != nil { // warm: first-use allocations outside the count
		log.Fatal(err)
	}
	tokens := append([]string(nil), f.Tokens...) // the caller's copies, alive before and after
	r.CacheEntryBytes = heap.PerEntry(len(tokens), func() {
		for _, t := range tokens {
			if _, err := v.Verify(ctx, t); err != nil {
				log.Fatal(err)
			}
		}
	})
	runtime.KeepAlive(v)
	runtime.KeepAlive(tokens)

	store := revocation.NewMemory(revocation.MemoryConfig{})
	subs := make([]string, *users)
	for i := range subs {
		subs[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, i%65536, i%4096, i%4096, i)
	}
	now := time.Now()
	r.MemoryRecordBytes = heap.PerEntry(len(subs), func() {
		for _, s := range subs {
			if err := store.RevokeUser(ctx, fixture.PoolID, s, now); err != nil {
				log.Fatal(err)
			}
		}
	})
	runtime.KeepAlive(store)
	runtime.KeepAlive(subs)
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		log.Fatal(err)
	}
}

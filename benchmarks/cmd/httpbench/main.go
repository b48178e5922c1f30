// Command httpbench serves the same tiny handler bare and behind the
// cognitoguard middleware, for a load generator (wrk) to compare:
//
//	GET /bare      the handler alone
//	GET /guarded   middleware.New(v) in front of it; v has the default
//	               verified-token cache, so a repeated token costs a lookup
//	GET /cold      the same with a 16-entry cache: a client cycling
//	               through the fixture's 1,024 distinct tokens misses on
//	               every request and pays the full verification (parse,
//	               RSA, claims, cache insert)
//
// Both verifiers check revocation against the in-process store (one
// unrelated sign-out recorded) and fetch their keys, once, from the
// server's own /{pool}/.well-known/jwks.json, which serves the fixture's
// JWKS. It prints "listening http://ADDR" when ready and stops on SIGINT
// or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/benchmarks/internal/fixture"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dir := flag.String("testdata", "testdata", "fixture directory (see cmd/mkfixture)")
	coldCache := flag.Int("cold-cache", 16, "verified-token cache size of /cold")
	flag.Parse()
	if err := run(*addr, *dir, *coldCache); err != nil {
		log.Fatal(err)
	}
}

func run(addr, dir string, coldCache int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, _, err := fixture.Get(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	jwksPath := "/" + fixture.PoolID + "/.well-known/jwks.json"

	store := revocation.NewMemory(revocation.MemoryConfig{})
	if err := store.RevokeUser(ctx, fixture.PoolID, "someone-else", time.Now()); err != nil {
		return err
	}
	newVerifier := func(cacheSize int) (*cognitoguard.Verifier, error) {
		return fixture.NewVerifier(base+jwksPath, cognitoguard.Config{
			Revocation: store,
			CacheSize:  cacheSize,
		})
	}
	repeat, err := newVerifier(0)
	if err != nil {
		return err
	}
	defer repeat.Close()
	cold, err := newVerifier(coldCache)
	if err != nil {
		return err
	}
	defer cold.Close()

	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+jwksPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(f.JWKS)
	})
	mux.Handle("GET /bare", ok)
	mux.Handle("GET /guarded", middleware.New(repeat, middleware.Config{})(ok))
	mux.Handle("GET /cold", middleware.New(cold, middleware.Config{})(ok))

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	for _, v := range []*cognitoguard.Verifier{repeat, cold} {
		if err := v.Refresh(ctx); err != nil {
			return fmt.Errorf("fetching keys: %w", err)
		}
	}
	fmt.Println("listening", base)
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

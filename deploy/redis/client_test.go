package deploy_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// TestTLS: the store works over TLS through go-redis's TLSConfig, with
// the server's CA as RootCAs; without it (the system's roots) the
// certificate is refused and the store is never ready.
func TestTLS(t *testing.T) {
	leaktest.Check(t)
	addr, caFile := redistest.TLSServer(t)
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate")
	}
	for _, tc := range []struct {
		name  string
		roots *x509.CertPool
		ok    bool
	}{{"CA given", roots, true}, {"system roots", nil, false}} {
		t.Run(tc.name, func(t *testing.T) {
			client := redis.NewUniversalClient(&redis.UniversalOptions{
				Addrs:                 []string{addr},
				TLSConfig:             &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: tc.roots},
				DialTimeout:           time.Second,
				ReadTimeout:           time.Second,
				WriteTimeout:          time.Second,
				ContextTimeoutEnabled: true,
			})
			t.Cleanup(func() { client.Close() })
			s, err := redisstore.New(client, redisstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			wait := 5 * time.Second
			if !tc.ok {
				wait = 500 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(t.Context(), wait)
			defer cancel()
			err = s.Ready(ctx)
			if !tc.ok {
				if !errors.Is(err, revocation.ErrUnavailable) {
					t.Fatalf("Ready with an unverifiable certificate = %v, want ErrUnavailable", err)
				}
				var cerr *tls.CertificateVerificationError
				if rerr := client.Ping(t.Context()).Err(); !errors.As(rerr, &cerr) {
					t.Errorf("PING = %v, want a certificate verification error", rerr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeUser(ctx, pool, "alice", time.Now()); err != nil {
				t.Fatal(err)
			}
			if r, err := s.Revoked(ctx, claims("alice", time.Now().Add(-time.Minute))); !r || err != nil {
				t.Fatalf("Revoked = %v, %v", r, err)
			}
		})
	}
}

// TestContextTimeoutEnabled: with Redis hung (SIGSTOP), a go-redis call
// ends at its context's deadline only with ContextTimeoutEnabled; without
// it the call, and the pooled connection it holds, waits for ReadTimeout,
// whatever deadline the store gave it.
func TestContextTimeoutEnabled(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a read timeout: not with -short")
	}
	addr, proc := redistest.Server(t)
	const readTimeout = 2 * time.Second
	clients := map[bool]*redis.Client{}
	for _, enabled := range []bool{true, false} {
		c := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: readTimeout, MaxRetries: -1, ContextTimeoutEnabled: enabled})
		t.Cleanup(func() { c.Close() })
		if err := c.Ping(t.Context()).Err(); err != nil { // a pooled connection, before the hang
			t.Fatal(err)
		}
		clients[enabled] = c
	}
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proc.Signal(syscall.SIGCONT) })
	for enabled, c := range clients {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		start := time.Now()
		err := c.HGet(ctx, "cognitoguard:2:{x}", "u").Err()
		d := time.Since(start)
		cancel()
		if err == nil {
			t.Fatalf("ContextTimeoutEnabled %v: a hung Redis answered", enabled)
		}
		switch {
		case enabled && d >= readTimeout/2:
			t.Errorf("ContextTimeoutEnabled: the call took %v, want about the 100ms deadline", d)
		case !enabled && d < readTimeout*9/10:
			t.Errorf("without ContextTimeoutEnabled: the call took %v, want ReadTimeout (%v)", d, readTimeout)
		}
		t.Logf("ContextTimeoutEnabled %v: %v after %v", enabled, err, d.Round(time.Millisecond))
	}
}

package signout_test

// The fixture of the outage tests (outage_test.go): sign-outs during a
// Redis outage, on a real redis-server started by
// internal/redistest, with the real AWS SDK client against a fake pool
// (cognitotest): what the caller is told, what Cognito sees, what the
// Verifiers answer meanwhile, and how the same store recovers by itself.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
	"github.com/cognitoguard/cognitoguard/signout"
)

// outageStaleness is the Staleness of the stores of these tests: long
// enough that a sign-out started right after the server is paused still
// finds the view trusted, short enough to keep the tests quick.
const outageStaleness = 2 * time.Second

var outageSeq atomic.Int64

// outageService is what one instance of a service holds: its own Redis
// client, store, Verifier and sign-out helper.
type outageService struct {
	client *redis.Client
	store  *redisstore.Store
	v      *cognitoguard.Verifier
	so     *signout.Helper
}

// newOutageService builds a service on the Redis at addr, sharing prefix,
// whose SDK client makes at most attempts attempts per call (1: no retry;
// 3: the SDK's default). It waits until the store is ready.
func newOutageService(t *testing.T, p *cognitotest.Pool, addr, prefix string, attempts int, cfg signout.Config) *outageService {
	t.Helper()
	s := &outageService{client: redis.NewClient(&redis.Options{Addr: addr})}
	t.Cleanup(func() { s.client.Close() })
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(outageLog{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	var err error
	s.store, err = redisstore.New(s.client, redisstore.Config{Prefix: prefix, Staleness: outageStaleness, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() }) // before the client's Close
	s.v, err = cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{p.ClientID()}}}, cognitoguard.Config{
		Revocation: s.store,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.v.Close() })
	cfg.UserPoolID, cfg.Logger = p.PoolID(), log
	s.so, err = signout.New(cip.New(cip.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(p.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("x", "x", ""),
		RetryMaxAttempts: attempts,
	}), s.v, s.store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

type outageLog struct{ t *testing.T }

func (l outageLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func outagePrefix() string { return fmt.Sprintf("outage%d:", outageSeq.Add(1)) }

// outagePool is a fake pool with users of those names. The outage tests
// that use it pause, stop and restart a real redis-server for seconds:
// they are skipped with -short.
func outagePool(t *testing.T, names ...string) *cognitotest.Pool {
	if testing.Short() {
		t.Skip("multi-second Redis outage: not with -short")
	}
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	for _, n := range names {
		p.AddUser(cognitotest.User{Username: n})
	}
	return p
}

func outageSub(t *testing.T, p *cognitotest.Pool, name string) string {
	t.Helper()
	u, ok := p.User(name)
	if !ok {
		t.Fatalf("no user %s", name)
	}
	return u.Sub
}

// verifyErr is the Verifier's answer for token, bounded in time.
func (s *outageService) verifyErr(t *testing.T, token string) error {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := s.v.Verify(ctx, token)
	return err
}

// wantVerify fails the test unless Verify answers want (nil: accepted).
func (s *outageService) wantVerify(t *testing.T, what, token string, want error) {
	t.Helper()
	err := s.verifyErr(t, token)
	if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
		t.Errorf("%s: Verify = %v, want %v", what, err, want)
	}
}

// waitVerify polls Verify until it answers want (nil: accepted) or d
// passes, and returns how long it took.
func (s *outageService) waitVerify(t *testing.T, what, token string, want error, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := s.verifyErr(t, token)
		if (want == nil && err == nil) || (want != nil && errors.Is(err, want)) {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: Verify = %v after %v, want %v", what, err, d, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitHealthy polls the store until it answers (Ready and a Revoked
// without error), and returns how long it took.
func (s *outageService) waitHealthy(t *testing.T, what string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	probe := &cognitoguard.Claims{UserPoolID: "us-east-1_probe", Subject: "probe", AuthTime: time.Now()}
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		err := s.store.Ready(ctx)
		if err == nil {
			_, err = s.store.Revoked(ctx, probe)
		}
		cancel()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: store not healthy %v after the outage ended: %v", what, d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recorded reports the user sign-out of sub recorded in Redis, read by s.
func (s *outageService) recorded(t *testing.T, iss, sub string) (time.Time, bool) {
	t.Helper()
	at, ok, err := s.store.SignedOutAt(t.Context(), iss, sub)
	if err != nil {
		t.Fatalf("SignedOutAt: %v", err)
	}
	return at, ok
}

// pause stops the server with SIGSTOP; the returned function resumes it
// (SIGCONT), also run at cleanup in case the test stops early.
func pause(t *testing.T, proc *os.Process) (resume func()) {
	t.Helper()
	t.Cleanup(func() { proc.Signal(syscall.SIGCONT) })
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := proc.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}
}

// wantStoreFailure checks a sign-out that failed to record while Cognito
// answered: ErrStore, not recorded, no Cognito failure, and the Cognito
// operation op called exactly once more than before.
func wantStoreFailure(t *testing.T, what string, err error, p *cognitotest.Pool, op string, before int) {
	t.Helper()
	var soe *signout.Error
	switch {
	case !errors.Is(err, signout.ErrStore):
		t.Errorf("%s: err = %v, want ErrStore", what, err)
	case !errors.Is(err, revocation.ErrUnavailable):
		t.Errorf("%s: err = %v, want the store's ErrUnavailable inside", what, err)
	case !errors.As(err, &soe) || soe.Recorded || soe.Cognito != nil:
		t.Errorf("%s: err = %#v, want a Error not recorded, Cognito fine", what, err)
	}
	if got := p.Calls(op); got != before+1 {
		t.Errorf("%s: Cognito %s calls = %d, want %d (Cognito is called whatever the store does)", what, op, got, before+1)
	}
}

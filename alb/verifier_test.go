package alb_test

import (
	"context"
	"errors"
	"github.com/cognitoguard/cognitoguard/internal/clocktest"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/alb"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// fixture is a fake pool and load balancer with a Verifier of the latter.
type fixture struct {
	pool *cognitotest.Pool
	lb   *cognitotest.ALB
	v    *alb.Verifier
}

func newFixture(t *testing.T, cfg alb.Config) *fixture {
	t.Helper()
	f := &fixture{pool: cognitotest.NewPool(cognitotest.Config{}), lb: cognitotest.NewALB(cognitotest.ALBConfig{})}
	t.Cleanup(f.pool.Close)
	t.Cleanup(f.lb.Close)
	f.pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com",
		Attributes: map[string]string{"custom:tenant": "t1", "email_verified": "true"}})
	f.pool.AddUser(cognitotest.User{Username: "bob"})
	if cfg.KeyURL == "" {
		cfg.KeyURL = f.lb.KeyURL()
	}
	v, err := alb.NewVerifier([]string{f.lb.ARN()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.v = v
	return f
}

const otherARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/other/0123456789abcdef"

// unpad strips the "=" padding of every segment.
func unpad(tok string) string { return strings.ReplaceAll(tok, "=", "") }

// TestVerify: every check of a data token, each failure of the right kind
// and class.
func TestVerify(t *testing.T) {
	f := newFixture(t, alb.Config{})
	strictV, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: f.lb.KeyURL(),
		ClientIDs: []string{f.pool.ClientID()}, Issuers: []string{f.pool.Issuer()}})
	if err != nil {
		t.Fatal(err)
	}
	foreign := cognitotest.NewALB(cognitotest.ALBConfig{})
	t.Cleanup(foreign.Close)
	good := f.lb.DataToken(f.pool, "alice")
	past := time.Now().Add(-time.Minute)
	segs := strings.Split(good, ".")
	for _, tc := range []struct {
		name  string
		v     *alb.Verifier
		token string
		want  error // nil: accepted
	}{
		{"valid, padded as the ALB writes it", f.v, good, nil},
		{"padding stripped: the signature covers the bytes sent", f.v, unpad(good), cognitoguard.ErrSignature},
		{"client and issuer configured", strictV, good, nil},
		{"wrong padding", f.v, segs[0] + "=." + segs[1] + "." + segs[2], cognitoguard.ErrMalformed},
		{"two segments", f.v, segs[0] + "." + segs[1], cognitoguard.ErrMalformed},
		{"line break", f.v, segs[0] + "\n." + segs[1] + "." + segs[2], cognitoguard.ErrMalformed},
		{"too large", f.v, good + strings.Repeat("A", cognitoguard.DefaultMaxTokenSize), cognitoguard.ErrMalformed},
		{"signature not 64 bytes", f.v, segs[0] + "." + segs[1] + "." + segs[2][:80], cognitoguard.ErrMalformed},
		{"alg RS256", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"alg": "RS256"})), cognitoguard.ErrMalformed},
		{"alg none", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"alg": "none"})), cognitoguard.ErrMalformed},
		{"no kid", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"kid": nil})), alb.ErrKeyID},
		{"kid a path", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"kid": "../../etc/passwd"})), alb.ErrKeyID},
		{"no signer", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"signer": nil})), alb.ErrSigner},
		{"another load balancer", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"signer": otherARN})), alb.ErrSigner},
		{"expired", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithExpiry(past)), cognitoguard.ErrExpired},
		{"header exp expired", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"exp": past.Unix()})), cognitoguard.ErrExpired},
		{"no exp", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithClaims(map[string]any{"exp": nil})), cognitoguard.ErrExpired},
		{"exp a string", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithClaims(map[string]any{"exp": "soon"})), cognitoguard.ErrMalformed},
		{"no sub", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithClaims(map[string]any{"sub": nil})), cognitoguard.ErrMalformed},
		{"other client", strictV, f.lb.DataToken(f.pool, "alice", cognitotest.WithClient("intruder")), cognitoguard.ErrClient},
		{"other issuer", strictV, f.lb.DataToken(f.pool, "alice", cognitotest.WithClaims(map[string]any{"iss": "https://evil"})), cognitoguard.ErrIssuer},
		{"header issuer differs", strictV, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"iss": "https://evil"})), cognitoguard.ErrIssuer},
		{"signed by another key", f.v, foreign.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"kid": f.lb.KeyID(), "signer": f.lb.ARN()})), cognitoguard.ErrSignature},
		{"payload swapped", f.v, segs[0] + "." + strings.Split(f.lb.DataToken(f.pool, "bob"), ".")[1] + "." + segs[2], cognitoguard.ErrSignature},
		{"jku: a key named by URL", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"jku": "https://evil/keys"})), cognitoguard.ErrMalformed},
		{"jwk: an embedded key", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"jwk": map[string]any{"kty": "EC"}})), cognitoguard.ErrMalformed},
		{"x5u", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"x5u": "https://evil/cert"})), cognitoguard.ErrMalformed},
		{"x5c", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"x5c": []string{"MIIB"}})), cognitoguard.ErrMalformed},
		{"b64 false: unencoded payload", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"b64": false})), cognitoguard.ErrMalformed},
		{"crit", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"crit": []string{"exp"}})), cognitoguard.ErrMalformed},
		{"typ not a string", f.v, f.lb.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"typ": 1})), cognitoguard.ErrMalformed},
		{"kid unknown to the endpoint", f.v, foreign.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"signer": f.lb.ARN()})), cognitoguard.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.v.Verify(t.Context(), tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if u, _ := f.pool.User("alice"); c.Subject != u.Sub {
					t.Fatalf("sub %q", c.Subject)
				}
				return
			}
			if c != nil || !errors.Is(err, tc.want) || !errors.Is(err, cognitoguard.ErrInvalidToken) {
				t.Fatalf("Verify: %v, %v; want %v (invalid token)", c, err, tc.want)
			}
			if strings.Contains(err.Error(), tc.token) {
				t.Fatal("error text contains the token")
			}
		})
	}
}

// TestClaims: the verified claims, typed and raw.
func TestClaims(t *testing.T) {
	f := newFixture(t, alb.Config{})
	c, err := f.v.Verify(t.Context(), f.lb.DataToken(f.pool, "alice", cognitotest.WithClaims(map[string]any{"custom:tenant": "t1"})))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := f.pool.User("alice")
	if c.Signer != f.lb.ARN() || c.KeyID != f.lb.KeyID() || c.ClientID != f.pool.ClientID() || c.Issuer != f.pool.Issuer() ||
		c.Subject != u.Sub || c.Username != "alice" || c.Email != "alice@example.com" || !c.EmailVerified ||
		time.Until(c.Expiry) <= 0 || time.Until(c.Expiry) > cognitotest.DefaultALBDataTTL {
		t.Fatalf("claims %+v", c)
	}
	var custom struct {
		Tenant string `json:"custom:tenant"`
	}
	if err := c.Decode(&custom); err != nil || custom.Tenant != "t1" {
		t.Fatalf("Decode: %v, %q", err, custom.Tenant)
	}
}

// TestNewVerifierErrors: configurations that must be refused.
func TestNewVerifierErrors(t *testing.T) {
	arn := cognitotest.DefaultALBARN
	for _, tc := range []struct {
		name    string
		signers []string
		cfg     alb.Config
	}{
		{"no signer", nil, alb.Config{}},
		{"not an ALB ARN", []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/0123"}, alb.Config{}},
		{"region missing", []string{"arn:aws:elasticloadbalancing::123456789012:loadbalancer/app/web/0123"}, alb.Config{}},
		{"plain http to a public host", []string{arn}, alb.Config{KeyURL: "http://public-keys.example.com"}},
		{"relative KeyURL", []string{arn}, alb.Config{KeyURL: "/keys"}},
		{"leeway too large", []string{arn}, alb.Config{Leeway: time.Hour}},
		{"negative size", []string{arn}, alb.Config{MaxTokenSize: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := alb.NewVerifier(tc.signers, tc.cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	for _, s := range []string{arn, "arn:aws:elasticloadbalancing:eu-west-1:083589282917:loadbalancer/app/Web-DMZ-ALB/9fc6c0992b74af07", "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/app/my-app/50dc6c495c0c9188"} {
		if _, err := alb.NewVerifier([]string{s}, alb.Config{}); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// TestKeyURLRegion: the key is fetched from the signer's region's URL.
func TestKeyURLRegion(t *testing.T) {
	f := newFixture(t, alb.Config{})
	var path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		http.Redirect(w, r, f.lb.KeyURL()+"/"+r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	v, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: srv.URL + "/{region}/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), f.lb.DataToken(f.pool, "alice")); err != nil {
		t.Fatal(err)
	}
	if got, want := path.Load(), "/us-east-1/"+f.lb.KeyID(); got != want {
		t.Fatalf("fetched %v, want %s", got, want)
	}
}

// TestKeyEndpointFailures: a key that cannot be fetched or read is 503
// (ErrUnavailable and ErrKeyFetch), never 401, and is not remembered.
func TestKeyEndpointFailures(t *testing.T) {
	f := newFixture(t, alb.Config{})
	tok := f.lb.DataToken(f.pool, "alice")
	rsaPEM := "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END PUBLIC KEY-----\n"
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) }},
		{"not PEM", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }},
		{"RSA key", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(rsaPEM)) }},
		{"body over 16 KiB", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(make([]byte, 17<<10)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); tc.h(w, r) }))
			t.Cleanup(srv.Close)
			v, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				_, err := v.Verify(t.Context(), tok)
				if !errors.Is(err, cognitoguard.ErrUnavailable) || !errors.Is(err, alb.ErrKeyFetch) || errors.Is(err, cognitoguard.ErrInvalidToken) {
					t.Fatalf("Verify: %v", err)
				}
			}
			if hits.Load() != 2 {
				t.Fatalf("%d fetches, want 2 (failures are not cached)", hits.Load())
			}
		})
	}
	t.Run("endpoint down", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		v, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: url})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(t.Context(), tok); !errors.Is(err, cognitoguard.ErrUnavailable) {
			t.Fatalf("Verify: %v", err)
		}
	})
	t.Run("endpoint hangs: bounded by the caller's context", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		v, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		if _, err := v.Verify(ctx, tok); !errors.Is(err, cognitoguard.ErrUnavailable) {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// TestKeyCache: a known key is fetched once; an unknown kid once per
// UnknownKeyTTL; the unknown kids remembered are bounded.
func TestKeyCache(t *testing.T) {
	clk := clocktest.New(time.Now())
	f := newFixture(t, alb.Config{Now: clk.Now, UnknownKeyTTL: time.Minute, MaxUnknownKeys: 4})
	foreign := cognitotest.NewALB(cognitotest.ALBConfig{})
	t.Cleanup(foreign.Close)
	hits := func() int64 { return f.lb.KeyHits() }
	verify := func(tok string) error { _, err := f.v.Verify(t.Context(), tok); return err }

	for range 3 {
		if err := verify(f.lb.DataToken(f.pool, "alice")); err != nil {
			t.Fatal(err)
		}
	}
	if hits() != 1 {
		t.Fatalf("%d fetches of one key, want 1", hits())
	}

	bogus := func() string {
		foreign.RotateKey()
		return foreign.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"signer": f.lb.ARN()}))
	}
	first := bogus()
	for range 3 {
		if err := verify(first); !errors.Is(err, cognitoguard.ErrUnknownKey) {
			t.Fatalf("Verify: %v", err)
		}
	}
	if hits() != 2 {
		t.Fatalf("%d fetches, want 2: an unknown kid is remembered", hits())
	}
	clk.Advance(time.Minute)
	_ = verify(first)
	if hits() != 3 {
		t.Fatalf("%d fetches, want 3: remembered for UnknownKeyTTL only", hits())
	}
	for range 4 { // fills the 4 entries: first, the oldest, goes
		clk.Advance(time.Second)
		_ = verify(bogus())
	}
	before := hits()
	_ = verify(first)
	if hits() != before+1 {
		t.Fatal("more unknown kids remembered than MaxUnknownKeys")
	}
}

// TestConcurrentMissesShareOneFetch: many requests naming one new kid
// cause one fetch, and all succeed.
func TestConcurrentMissesShareOneFetch(t *testing.T) {
	f := newFixture(t, alb.Config{})
	release := make(chan struct{})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
		http.Redirect(w, r, f.lb.KeyURL()+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	v, err := alb.NewVerifier([]string{f.lb.ARN()}, alb.Config{KeyURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.lb.DataToken(f.pool, "alice")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { _, err := v.Verify(t.Context(), tok); errs <- err })
	}
	for hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the others queue behind the fetch
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d fetches, want 1", hits.Load())
	}
}

// TestRandomKidsDoNotStarveANewKey: while clients flood the verifier with
// tokens naming random kids, a token signed with the load balancer's new
// key verifies at once: there is no cooldown for bogus kids to keep armed.
func TestRandomKidsDoNotStarveANewKey(t *testing.T) {
	f := newFixture(t, alb.Config{})
	foreign := cognitotest.NewALB(cognitotest.ALBConfig{})
	t.Cleanup(foreign.Close)
	var bogus []string
	for range 8 {
		foreign.RotateKey()
		bogus = append(bogus, foreign.DataToken(f.pool, "alice", cognitotest.WithHeader(map[string]any{"signer": f.lb.ARN()})))
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for n := 0; n < 500 && ctx.Err() == nil; n++ {
				_, _ = f.v.Verify(ctx, bogus[(i+n)%len(bogus)])
			}
		})
	}
	f.lb.RotateKey()
	_, err := f.v.Verify(t.Context(), f.lb.DataToken(f.pool, "alice"))
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("new key refused during the flood: %v", err)
	}
}

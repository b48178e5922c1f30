package jwks

import (
	"cmp"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/keyfetch"
)

// ErrKeyNotFound reports that a key ID is not in the key set: either a refetch
// did not bring it, or a refetch was not allowed yet (cooldown) and the last
// fetch succeeded. A token naming such a key is invalid (HTTP 401).
var ErrKeyNotFound = errors.New("jwks: key not found")

// ErrUnavailable reports that the key set could not be fetched and no usable
// key can answer the lookup: a cold start that failed (or is backing off), an
// unknown key ID while the last fetch failed, a caller's context that ended
// while waiting for a fetch, or a closed [Set]. The token may well be valid:
// callers should fail closed with a retryable error (HTTP 503).
var ErrUnavailable = errors.New("jwks: key set unavailable")

// Defaults used for the zero values of [Config] fields.
const (
	DefaultFetchTimeout       = 5 * time.Second
	DefaultCooldown           = 10 * time.Second
	DefaultMaxBodySize  int64 = 1 << 20
	DefaultMaxKeys            = 64
)

// initialBackoff is the wait after the first failed fetch of a Set that has no
// keys yet. It doubles with each further failure, up to the cooldown.
const initialBackoff = 250 * time.Millisecond

// StatusError is the cause of a fetch answered with a status other than
// 200 OK. It is wrapped in [ErrUnavailable]; errors.As finds it.
type StatusError struct {
	Code int // the HTTP status code
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("unexpected HTTP status %d %s", e.Code, http.StatusText(e.Code))
}

var discardLogger = slog.New(slog.DiscardHandler)

// errClosed is the cause given to fetches and lookups of a closed Set.
var errClosed = errors.New("set closed")

// Config holds the optional settings of a [Set]. The zero value is valid and
// gives the documented defaults. Negative values are rejected by [New].
type Config struct {
	// HTTPClient fetches the key set. If nil, a client with Timeout =
	// FetchTimeout and http.DefaultTransport is used (never
	// http.DefaultClient, which has no timeout); it follows at most 3
	// redirects. Whatever the client, a redirect from https to anything
	// else is refused (a given client is copied, not modified, and its
	// own CheckRedirect still applies), and each fetch is bounded by
	// FetchTimeout.
	HTTPClient *http.Client

	// FetchTimeout bounds every fetch: connecting, waiting for the response
	// and reading the body. Default 5s ([DefaultFetchTimeout]).
	FetchTimeout time.Duration

	// Cooldown is the minimum time between the starts of two fetches
	// triggered by unknown key IDs: at most one such refetch per Cooldown,
	// whatever the request rate. It also caps the backoff after failed
	// cold-start fetches. Default 10s ([DefaultCooldown]).
	Cooldown time.Duration

	// MaxBodySize bounds the response body in bytes; a larger body is a
	// fetch failure and is not read beyond the limit. Default 1 MiB
	// ([DefaultMaxBodySize]).
	MaxBodySize int64

	// MaxKeys bounds the number of usable keys in a fetched set; more is a
	// fetch failure. Default 64 ([DefaultMaxKeys]).
	MaxKeys int

	// Now is the clock for the cooldown, the backoff and Stats.LastSuccess.
	// Default time.Now. FetchTimeout is measured by the runtime timers, not
	// by Now.
	Now func() time.Time

	// Logger receives fetch failures (Warn, with the URL and the error),
	// successful fetches and skipped keys (Debug). Tokens are never logged.
	// If nil, nothing is logged.
	Logger *slog.Logger
}

// Stats is a snapshot of a [Set]'s counters.
type Stats struct {
	Fetches uint64 // fetch attempts started
	// Failures counts fetch attempts that failed, including one abandoned
	// because of Close.
	Failures uint64
	// Misses counts lookups of key IDs that were not cached at the time of
	// the call, whatever their outcome (including the first use).
	Misses      uint64
	Keys        int       // usable keys cached; 0 after Close
	LastSuccess time.Time // end of the last successful fetch (Config.Now); zero if none
}

// Set is a JSON Web Key Set fetched over HTTP(S) and kept in memory. It
// fetches lazily on the first lookup (or eagerly with [Set.Refresh]) and
// refetches, at most once per cooldown, when asked for an unknown key ID.
// Concurrent lookups share one in-flight fetch.
//
// A Set is safe for concurrent use. It starts no background goroutine other
// than the one running an in-flight fetch, which ends within FetchTimeout and
// is cancelled and waited for by [Set.Close].
type Set struct {
	url      string
	client   *http.Client
	timeout  time.Duration
	cooldown time.Duration
	maxBody  int64
	maxKeys  int
	now      func() time.Time
	log      *slog.Logger

	// keys is the current immutable key map; nil before the first successful
	// fetch and after Close. Only the fetch goroutine (one at a time) and
	// Close store it.
	keys atomic.Pointer[map[string]*rsa.PublicKey]
	// version moves after keys changes (see KeysVersion).
	version atomic.Uint64

	fetches, failures, misses atomic.Uint64

	// owner runs the fetches (one at a time); Close stops them.
	owner *keyfetch.Owner

	mu          sync.Mutex
	closed      bool
	inflight    *keyfetch.Call[struct{}] // nil when no fetch runs
	lastAttempt time.Time                // start of the last fetch
	lastErr     error                    // cause of the last fetch's failure; nil after a success
	lastSuccess time.Time                // end of the last successful fetch
	backoff     time.Duration            // current cold-start backoff; 0 after a success
	retryAt     time.Time                // no cold-start lookup fetches before this
}

// New returns a Set for the key set at rawURL, which must be an absolute
// https URL, or http to a loopback host (localhost, 127.0.0.0/8, ::1: tests
// and emulators): whoever can alter the response can make the Set accept
// keys of their choosing. It validates cfg but fetches nothing: the first
// [Set.Key] or [Set.Refresh] does. The caller should call [Set.Close] when
// done with the Set.
func New(rawURL string, cfg Config) (*Set, error) {
	u, err := keyfetch.CheckURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if cfg.FetchTimeout < 0 || cfg.Cooldown < 0 || cfg.MaxBodySize < 0 || cfg.MaxKeys < 0 {
		return nil, errors.New("jwks: invalid config: negative FetchTimeout, Cooldown, MaxBodySize or MaxKeys")
	}
	s := &Set{
		url:      u.String(),
		client:   cfg.HTTPClient,
		timeout:  cmp.Or(cfg.FetchTimeout, DefaultFetchTimeout),
		cooldown: cmp.Or(cfg.Cooldown, DefaultCooldown),
		maxBody:  cmp.Or(cfg.MaxBodySize, DefaultMaxBodySize),
		maxKeys:  cmp.Or(cfg.MaxKeys, DefaultMaxKeys),
		now:      cfg.Now,
		log:      cfg.Logger,
	}
	s.client = keyfetch.Client(s.client, s.timeout)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = discardLogger
	}
	s.owner = keyfetch.NewOwner()
	return s, nil
}

// Key returns the RSA public key with key ID kid.
//
// A cached key is returned without locking or allocating. Otherwise Key
// fetches the key set when allowed (first use; cooldown elapsed since the last
// fetch started; cold-start backoff elapsed) or joins the fetch in flight, and
// waits for it or for ctx to end. Errors match [ErrKeyNotFound] (the key is
// not in a freshly fetched set, or the cooldown forbids a refetch after a
// successful one) or [ErrUnavailable] (no fetch could answer; see there).
// When ctx ends first, the error also matches ctx.Err(); the fetch goes on
// for the other waiters.
//
// The returned key is shared: callers MUST NOT modify it. While the key
// material of a kid is unchanged, refetches return the same pointer.
func (s *Set) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if m := s.keys.Load(); m != nil {
		if k := (*m)[kid]; k != nil {
			return k, nil
		}
	}
	return s.miss(ctx, kid)
}

func (s *Set) lookup(kid string) *rsa.PublicKey {
	if m := s.keys.Load(); m != nil {
		return (*m)[kid]
	}
	return nil
}

func (s *Set) cached() int {
	if m := s.keys.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// miss is the slow path of Key.
func (s *Set) miss(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, errClosed)
	}
	if k := s.lookup(kid); k != nil { // a fetch ended since the lock-free lookup
		s.mu.Unlock()
		return k, nil
	}
	s.misses.Add(1)
	if kid == "" {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: empty kid", ErrKeyNotFound)
	}
	c := s.inflight
	if c == nil {
		now := s.now()
		switch {
		case s.cached() > 0 && now.Sub(s.lastAttempt) < s.cooldown:
			err := s.lastErr
			s.mu.Unlock()
			if err != nil {
				// The kid may be a rotated key the failed fetch would have brought.
				return nil, fmt.Errorf("%w: unknown kid during refetch cooldown, last fetch failed: %w", ErrUnavailable, err)
			}
			return nil, fmt.Errorf("%w (refetch cooldown)", ErrKeyNotFound)
		case s.cached() == 0 && now.Before(s.retryAt):
			err := s.lastErr
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: retrying after backoff, last fetch failed: %w", ErrUnavailable, err)
		}
		c = s.startLocked(ctx)
	}
	s.mu.Unlock()

	if err := s.wait(ctx, c); err != nil {
		return nil, err
	}
	if k := s.lookup(kid); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w (after refetch)", ErrKeyNotFound)
}

// Refresh fetches the key set now, ignoring the cooldown and the backoff, or
// joins the fetch in flight, and waits for it or for ctx to end. Use it to
// fetch eagerly at start-up. A failure matches [ErrUnavailable]; keys fetched
// before stay in use.
func (s *Set) Refresh(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrUnavailable, errClosed)
	}
	c := s.inflight
	if c == nil {
		c = s.startLocked(ctx)
	}
	s.mu.Unlock()
	return s.wait(ctx, c)
}

// Ready reports whether s can serve keys: nil when keys are cached, else
// the outcome of a fetch made now (see [Set.Refresh]). Readiness probes may
// call it on every request: with keys in memory it costs an atomic load.
func (s *Set) Ready(ctx context.Context) error {
	if s.cached() > 0 {
		return nil
	}
	return s.Refresh(ctx)
}

func (s *Set) wait(ctx context.Context, c *keyfetch.Call[struct{}]) error {
	if _, err := c.Wait(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// startLocked starts a fetch. s.mu must be held and s not closed. The fetch
// follows the single-flight rule of internal/keyfetch: it keeps ctx's
// values but not its cancellation, ends within s.timeout and is cancelled
// by Close.
func (s *Set) startLocked(ctx context.Context) *keyfetch.Call[struct{}] {
	s.lastAttempt = s.now()
	s.fetches.Add(1)
	s.inflight = keyfetch.Start(s.owner, ctx, s.timeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.run(ctx)
	})
	return s.inflight
}

// run performs a fetch and publishes its outcome; its waiters are released
// once it returns the fetch's error (the cause, without the ErrUnavailable
// wrapper).
func (s *Set) run(ctx context.Context) error {
	var prev map[string]*rsa.PublicKey
	if m := s.keys.Load(); m != nil {
		prev = *m
	}
	keys, err := s.fetch(ctx, prev)
	now := s.now()

	s.mu.Lock()
	closed := s.closed
	if closed && err == nil {
		err = errClosed
	}
	if err == nil {
		old := s.keys.Swap(&keys)
		if old == nil || !maps.Equal(*old, keys) { // unchanged keys keep their pointers
			s.version.Add(1) // after the store: see KeysVersion
		}
		s.lastErr = nil
		s.lastSuccess = now
		s.backoff = 0
		s.retryAt = time.Time{}
	} else {
		s.failures.Add(1)
		s.lastErr = err
		if s.cached() == 0 {
			s.backoff = min(max(2*s.backoff, initialBackoff), s.cooldown)
			s.retryAt = now.Add(s.backoff)
		}
	}
	backoff := s.backoff
	s.inflight = nil
	s.mu.Unlock()
	// Waiters are released after logging (when run returns), so that the
	// log of a fetch precedes the results it explains.

	switch {
	case err == nil:
		s.log.LogAttrs(ctx, slog.LevelDebug, "jwks: key set fetched",
			slog.String("url", s.url), slog.Int("keys", len(keys)))
	case closed:
		s.log.LogAttrs(ctx, slog.LevelDebug, "jwks: fetch abandoned: set closed",
			slog.String("url", s.url), slog.Any("error", err))
	default:
		attrs := []slog.Attr{slog.String("url", s.url), slog.Any("error", err)}
		if backoff > 0 && s.cached() == 0 {
			attrs = append(attrs, slog.String("retry_after", backoff.String()))
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "jwks: fetch failed", attrs...)
	}
	return err
}

// fetch gets and parses the key set. Its errors are causes, without the
// "jwks:" prefix.
func (s *Set) fetch(ctx context.Context, prev map[string]*rsa.PublicKey) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, &StatusError{Code: resp.StatusCode}
	}
	if resp.ContentLength > s.maxBody {
		return nil, fmt.Errorf("body of %d bytes exceeds limit of %d", resp.ContentLength, s.maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > s.maxBody {
		return nil, fmt.Errorf("body exceeds limit of %d bytes", s.maxBody)
	}
	return parseSet(ctx, body, s.maxKeys, prev, s.log)
}

// Stats returns a snapshot of the Set's counters. It is safe for concurrent
// use.
func (s *Set) Stats() Stats {
	st := Stats{
		Fetches:  s.fetches.Load(),
		Failures: s.failures.Load(),
		Misses:   s.misses.Load(),
		Keys:     s.cached(),
	}
	s.mu.Lock()
	st.LastSuccess = s.lastSuccess
	s.mu.Unlock()
	return st
}

// Close cancels any in-flight fetch and waits for its goroutine to end. Its
// waiters, and every later [Set.Key] and [Set.Refresh], get [ErrUnavailable].
// Close is idempotent, safe for concurrent use, and always returns nil.
func (s *Set) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.owner.Close()
	s.keys.Store(nil)
	s.version.Add(1)
	return nil
}

// KeysVersion returns a number that moves whenever the keys the set
// serves change (a refetch that brings the same keys keeps it), for the
// Verifier's cache: a key looked up after reading version v is still
// served while KeysVersion returns v. It moves after the change is
// visible to [Set.Key], so a lookup never pairs a newer version with
// older keys.
func (s *Set) KeysVersion() uint64 { return s.version.Load() }

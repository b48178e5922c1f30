package alb

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/keyfetch"
	"github.com/cognitoguard/cognitoguard/internal/signature"
)

// keyCache fetches ALB public keys by (region, kid) and remembers them, and
// remembers the kids the endpoint did not know. Fetches are per kid, so a
// flood of bogus kids never delays a real new one by a cooldown: it only
// competes for the MaxFetches slots, and each bogus kid is fetched once per
// UnknownKeyTTL. Each fetch runs on a goroutine of its own (the
// single-flight rule of internal/keyfetch), stopped by close.
type keyCache struct {
	base       string // with {region}
	client     *http.Client
	timeout    time.Duration
	maxKeys    int
	maxUnknown int
	unknownTTL time.Duration
	now        func() time.Time
	slots      chan struct{}
	log        *slog.Logger
	owner      *keyfetch.Owner

	mu      sync.Mutex
	closed  bool
	keys    map[string]*ecdsa.PublicKey
	order   []string             // keys in insertion order, for eviction
	unknown map[string]time.Time // region/kid → refused until
	flights map[string]*keyfetch.Call[*ecdsa.PublicKey]
}

func newKeyCache(cfg Config, now func() time.Time) (*keyCache, error) {
	k := &keyCache{
		base: cfg.KeyURL, client: cfg.HTTPClient, timeout: cfg.FetchTimeout,
		maxKeys: cfg.MaxKeys, maxUnknown: cfg.MaxUnknownKeys, unknownTTL: cfg.UnknownKeyTTL,
		now: now, log: cfg.Logger, owner: keyfetch.NewOwner(),
		keys: map[string]*ecdsa.PublicKey{}, unknown: map[string]time.Time{},
		flights: map[string]*keyfetch.Call[*ecdsa.PublicKey]{},
	}
	if k.base == "" {
		k.base = DefaultKeyURL
	}
	k.base = strings.TrimSuffix(k.base, "/")
	if _, err := keyfetch.CheckURL(strings.ReplaceAll(k.base, "{region}", "us-east-1")); err != nil {
		return nil, fmt.Errorf("alb: KeyURL: %w", err)
	}
	if k.timeout <= 0 {
		k.timeout = DefaultFetchTimeout
	}
	k.client = keyfetch.Client(k.client, k.timeout)
	if k.maxKeys <= 0 {
		k.maxKeys = DefaultMaxKeys
	}
	if k.maxUnknown <= 0 {
		k.maxUnknown = DefaultMaxUnknownKeys
	}
	if k.unknownTTL <= 0 {
		k.unknownTTL = DefaultUnknownKeyTTL
	}
	n := cfg.MaxFetches
	if n <= 0 {
		n = DefaultMaxFetches
	}
	k.slots = make(chan struct{}, n)
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	return k, nil
}

// get returns the key of kid in region, fetching it when it is neither
// kept nor remembered as unknown. Concurrent misses of one kid share one
// fetch, which runs under none of their contexts; each waiter is bounded
// by its own ctx.
func (k *keyCache) get(ctx context.Context, region, kid string) (*ecdsa.PublicKey, error) {
	id := region + "/" + kid
	k.mu.Lock()
	if key := k.keys[id]; key != nil {
		k.mu.Unlock()
		return key, nil
	}
	if until, ok := k.unknown[id]; ok && k.now().Before(until) {
		k.mu.Unlock()
		return nil, unknownKey()
	}
	if k.closed {
		k.mu.Unlock()
		return nil, newError(cognitoguard.ErrUnavailable, "verifier closed", ErrKeyFetch)
	}
	f := k.flights[id]
	if f == nil {
		f = keyfetch.Start(k.owner, ctx, k.timeout, func(ctx context.Context) (*ecdsa.PublicKey, error) {
			key, err := k.fetch(ctx, region, kid)
			k.settle(id, key, err)
			return key, err
		})
		k.flights[id] = f
	}
	k.mu.Unlock()
	key, err := f.Wait(ctx)
	var ce *cognitoguard.Error
	if err != nil && !errors.As(err, &ce) {
		// ctx ended first; the fetch goes on for the others.
		return nil, newError(cognitoguard.ErrUnavailable, "waiting for the key fetch", errors.Join(ErrKeyFetch, err))
	}
	return key, err
}

// close cancels the fetches in flight and waits for them; later misses
// fail unavailable.
func (k *keyCache) close() {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	k.owner.Close()
}

// settle records a finished fetch; its waiters are released after.
func (k *keyCache) settle(id string, key *ecdsa.PublicKey, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.flights, id)
	switch {
	case key != nil:
		if len(k.order) >= k.maxKeys {
			delete(k.keys, k.order[0])
			k.order = k.order[1:]
		}
		k.keys[id] = key
		k.order = append(k.order, id)
	case errors.Is(err, cognitoguard.ErrUnknownKey):
		now := k.now()
		if len(k.unknown) >= k.maxUnknown {
			k.evictUnknownLocked(now)
		}
		k.unknown[id] = now.Add(k.unknownTTL)
	}
}

// evictUnknownLocked drops the expired unknown kids, or else the one that
// expires first.
func (k *keyCache) evictUnknownLocked(now time.Time) {
	var oldest string
	var oldestUntil time.Time
	for id, until := range k.unknown {
		if !now.Before(until) {
			delete(k.unknown, id)
			continue
		}
		if oldest == "" || until.Before(oldestUntil) {
			oldest, oldestUntil = id, until
		}
	}
	if len(k.unknown) >= k.maxUnknown {
		delete(k.unknown, oldest)
	}
}

// fetch takes a slot, then GETs and parses the PEM key, all within ctx
// (bounded by the fetch timeout). A 403 or 404 is an unknown kid; anything
// else that fails makes the key unavailable.
func (k *keyCache) fetch(ctx context.Context, region, kid string) (*ecdsa.PublicKey, error) {
	select {
	case k.slots <- struct{}{}:
		defer func() { <-k.slots }()
	case <-ctx.Done():
		return nil, newError(cognitoguard.ErrUnavailable, "waiting for a key fetch slot", errors.Join(ErrKeyFetch, ctx.Err()))
	}
	u := strings.ReplaceAll(k.base, "{region}", region) + "/" + kid
	key, status, err := k.download(ctx, u)
	switch {
	case err == nil:
		return key, nil
	case status == http.StatusForbidden || status == http.StatusNotFound:
		return nil, unknownKey()
	}
	k.log.LogAttrs(ctx, slog.LevelWarn, "alb: public key fetch failed",
		slog.String("url", u), slog.String("error", err.Error()))
	return nil, newError(cognitoguard.ErrUnavailable, "public key fetch", errors.Join(ErrKeyFetch, err))
}

// download GETs url and parses a PEM P-256 public key of at most
// maxKeyBody bytes; status is the HTTP status (0 without a response).
func (k *keyCache) download(ctx context.Context, url string) (*ecdsa.PublicKey, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	res, err := k.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxKeyBody+1))
	if err != nil {
		return nil, res.StatusCode, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, res.StatusCode, errors.New("status " + strconv.Itoa(res.StatusCode))
	}
	if len(body) > maxKeyBody {
		return nil, res.StatusCode, errors.New("key larger than 16 KiB")
	}
	key, err := signature.P256PEM(body)
	return key, res.StatusCode, err
}

func unknownKey() error {
	return newError(cognitoguard.ErrUnknownKey, "kid unknown to the key endpoint", nil)
}

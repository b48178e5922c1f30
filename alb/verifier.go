package alb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/signature"
)

// Errors specific to data tokens. Each is wrapped in a [*cognitoguard.Error]
// of the matching class, so errors.Is finds both (for example ErrSigner and
// [cognitoguard.ErrInvalidToken]) and the middleware answers 401 or 503.
var (
	// ErrSigner: the signer header is missing or not a configured ALB ARN
	// (kind [cognitoguard.ErrIssuer]).
	ErrSigner = errors.New("alb: signer is not a configured load balancer")
	// ErrKeyID: the kid header is missing or not of the ALB's format
	// (kind [cognitoguard.ErrMalformed]).
	ErrKeyID = errors.New("alb: malformed key ID")
	// ErrKeyFetch: the public key could not be fetched or read (kind
	// [cognitoguard.ErrUnavailable]).
	ErrKeyFetch = errors.New("alb: public key unavailable")
	// ErrSubjectMismatch: the data token and the access token name
	// different users (kind [cognitoguard.ErrInvalidToken]).
	ErrSubjectMismatch = errors.New("alb: data token and access token name different users")
)

// Default bounds of a [Verifier].
const (
	// DefaultKeyURL is the base of the ALB public key endpoint; {region} is
	// the signer ARN's region. A key is fetched from the base + "/" + kid.
	DefaultKeyURL = "https://public-keys.auth.elb.{region}.amazonaws.com"
	// DefaultFetchTimeout bounds one key fetch.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultMaxKeys bounds the public keys kept.
	DefaultMaxKeys = 64
	// DefaultMaxUnknownKeys bounds the key IDs remembered as unknown.
	DefaultMaxUnknownKeys = 4096
	// DefaultUnknownKeyTTL is how long a key ID the endpoint did not know is
	// refused without asking again.
	DefaultUnknownKeyTTL = time.Minute
	// DefaultMaxFetches bounds the key fetches in flight.
	DefaultMaxFetches = 4
)

// maxKeyBody bounds a fetched PEM key.
const maxKeyBody = 16 << 10

// Config holds the optional settings of [NewVerifier]. Its zero value
// fetches keys from AWS, checks no client nor issuer beyond the signature,
// and allows no leeway.
type Config struct {
	// KeyURL is the base URL of the public keys; "{region}" in it is
	// replaced by the region of the token's signer ARN, and the key is
	// fetched from KeyURL + "/" + kid. Default [DefaultKeyURL]. It must be
	// https, or http to a loopback host (tests). Set it for partitions
	// whose endpoint differs (GovCloud; the default names amazonaws.com,
	// and no other partition's ALB key host has been verified) and for
	// tests (cognitotest.ALB.KeyURL).
	KeyURL string

	// ClientIDs, if set, are the app clients accepted in the header's
	// "client" field (the ALB's OIDC client ID).
	ClientIDs []string

	// Issuers, if set, are the accepted "iss" values (header and payload):
	// the user pool's issuer for Cognito.
	Issuers []string

	// Leeway tolerates clock skew on exp. Default 0; at most 5 minutes.
	Leeway time.Duration

	// MaxTokenSize bounds the token length in bytes. Default
	// [cognitoguard.DefaultMaxTokenSize].
	MaxTokenSize int

	// HTTPClient fetches the keys. Default: a client with FetchTimeout as
	// its Timeout (never http.DefaultClient) following at most 3
	// redirects. Whatever the client, a redirect from https to anything
	// else is refused (a given client is copied, not modified, and its own
	// CheckRedirect still applies), as in package jwks.
	HTTPClient *http.Client

	// FetchTimeout bounds one key fetch, the wait for a slot included.
	// A fetch runs under none of the requests' contexts, so that a request
	// giving up does not fail the others waiting for the same key; each
	// request waits for it within its own context. Default
	// [DefaultFetchTimeout].
	FetchTimeout time.Duration

	// MaxKeys bounds the public keys kept (the oldest is dropped). Default
	// [DefaultMaxKeys]. A kept key is never fetched again.
	MaxKeys int

	// MaxUnknownKeys bounds the key IDs remembered as unknown (the endpoint
	// answered 403 or 404), so that tokens repeating a bogus kid cost no
	// fetch. Default [DefaultMaxUnknownKeys]; expired entries go first,
	// then the oldest.
	MaxUnknownKeys int

	// UnknownKeyTTL is how long such a kid is refused without a fetch.
	// Default [DefaultUnknownKeyTTL].
	UnknownKeyTTL time.Duration

	// MaxFetches bounds the key fetches in flight; further misses wait for
	// a slot within their context. Each kid is fetched once at a time,
	// however many requests name it. Default [DefaultMaxFetches].
	MaxFetches int

	// Now is the clock. Default time.Now.
	Now func() time.Time

	// Logger receives a Warn record for every failed key fetch. Nil
	// discards.
	Logger *slog.Logger
}

// Verifier checks the x-amzn-oidc-data tokens of Application Load
// Balancers. It is safe for concurrent use. Its only goroutines are the key
// fetches in flight, each ending within [Config.FetchTimeout];
// [Verifier.Close] cancels them and waits.
type Verifier struct {
	signers map[string]string // ARN → region
	clients []string
	issuers []string
	leeway  time.Duration
	maxSize int
	now     func() time.Time
	keys    *keyCache
}

var (
	// arnRe matches an ALB ARN and captures its partition and region,
	// which [cognitoguard.RegionPartition] checks.
	arnRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:(aws[a-z-]*):elasticloadbalancing:([a-z0-9-]+):\d{12}:loadbalancer/app/[A-Za-z0-9-]{1,32}/[0-9a-f]{1,32}$`)
	})
	// kidRe is the ALB key ID format: a UUID.
	kidRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	})
)

// NewVerifier returns a Verifier of the data tokens signed by the load
// balancers signers (their ARNs, such as
// "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188").
// It fails on no signer, a malformed ARN or an invalid cfg.
func NewVerifier(signers []string, cfg Config) (*Verifier, error) {
	if len(signers) == 0 {
		return nil, errors.New("alb: no load balancer ARN configured")
	}
	v := &Verifier{
		signers: make(map[string]string, len(signers)),
		clients: slices.Clone(cfg.ClientIDs),
		issuers: slices.Clone(cfg.Issuers),
		leeway:  cfg.Leeway,
		maxSize: cfg.MaxTokenSize,
		now:     cfg.Now,
	}
	for _, s := range signers {
		m := arnRe().FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("alb: %q is not an Application Load Balancer ARN", s)
		}
		if p, err := cognitoguard.RegionPartition(m[2]); err != nil || p.ID != m[1] {
			return nil, fmt.Errorf("alb: %q: region %q is not of partition %q", s, m[2], m[1])
		}
		v.signers[s] = m[2]
	}
	if cfg.Leeway < 0 || cfg.Leeway > 5*time.Minute {
		return nil, errors.New("alb: Leeway must be between 0 and 5 minutes")
	}
	if v.maxSize < 0 {
		return nil, errors.New("alb: negative MaxTokenSize")
	}
	if v.maxSize == 0 {
		v.maxSize = cognitoguard.DefaultMaxTokenSize
	}
	if v.now == nil {
		v.now = time.Now
	}
	keys, err := newKeyCache(cfg, v.now)
	if err != nil {
		return nil, err
	}
	v.keys = keys
	return v, nil
}

// Verify checks a data token: its shape (three base64url segments, padded
// as the ALB writes them or not; a JSON header with alg exactly ES256, a
// kid of the ALB's format and a signer among the configured ARNs), exp
// (required in the payload; also checked in the header when present),
// the optional client and issuer rules, and the ES256 signature (the raw
// 64-byte R‖S) by the public key of that kid, fetched from the key
// endpoint of the signer's region. Failures are [*cognitoguard.Error]
// values: the invalid-token class (401) for the token's faults, and
// [cognitoguard.ErrUnavailable] (503) when the key cannot be fetched.
//
// The data token carries no auth_time: it cannot tell whether its user
// signed out. Verify the access token too (see the package documentation).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, newError(cognitoguard.ErrNoToken, "no data token", nil)
	}
	if len(token) > v.maxSize {
		return nil, malformed("token larger than the limit")
	}
	t, err := split(token)
	if err != nil {
		return nil, err
	}
	c := &Claims{raw: t.payload}
	h, err := parseHeader(t.header, c)
	if err != nil {
		return nil, err
	}
	region, ok := v.signers[c.Signer]
	if !ok {
		return nil, newError(cognitoguard.ErrIssuer, "signer not configured", ErrSigner)
	}
	if err := parsePayload(t.payload, c); err != nil {
		return nil, err
	}
	if err := v.checkClaims(c, h); err != nil {
		return nil, err
	}
	key, err := v.keys.get(ctx, region, c.KeyID)
	if err != nil {
		return nil, err
	}
	if signature.ES256(key, token[:t.signedLen], t.sig) != nil {
		return nil, newError(cognitoguard.ErrSignature, "ES256 signature does not verify", nil)
	}
	return c, nil
}

// Close cancels the key fetches in flight and waits for them to end;
// afterwards, tokens whose key is not kept fail with
// [cognitoguard.ErrUnavailable]. It is idempotent and always returns nil.
func (v *Verifier) Close() error {
	v.keys.close()
	return nil
}

// checkClaims applies the time, issuer and client rules.
func (v *Verifier) checkClaims(c *Claims, h *header) error {
	now := v.now()
	if !now.Before(c.Expiry.Add(v.leeway)) {
		return newError(cognitoguard.ErrExpired, "exp "+c.Expiry.UTC().Format(time.RFC3339), nil)
	}
	if h.hasExp && !now.Before(h.exp.Add(v.leeway)) {
		return newError(cognitoguard.ErrExpired, "header exp "+h.exp.UTC().Format(time.RFC3339), nil)
	}
	if len(v.issuers) > 0 {
		if !slices.Contains(v.issuers, c.Issuer) || (h.iss != "" && h.iss != c.Issuer) {
			return newError(cognitoguard.ErrIssuer, "iss not configured", nil)
		}
	}
	if len(v.clients) > 0 && !slices.Contains(v.clients, c.ClientID) {
		return newError(cognitoguard.ErrClient, "client not configured", nil)
	}
	return nil
}

// Claims are the verified claims of a data token: the user's claims as the
// identity provider's userinfo endpoint gave them to the load balancer,
// and the signer's header fields.
type Claims struct {
	Signer   string // header signer: the ALB ARN
	KeyID    string // header kid
	ClientID string // header client
	Issuer   string // iss

	Subject       string    // sub
	Username      string    // username
	Email         string    // email
	EmailVerified bool      // email_verified (a string "true" for Cognito)
	Expiry        time.Time // exp

	raw []byte
}

// Decode unmarshals the verified payload into v, for the claims the struct
// does not carry (custom attributes, phone_number, …).
func (c *Claims) Decode(v any) error { return json.Unmarshal(c.raw, v) }

// Raw returns a copy of the verified payload JSON.
func (c *Claims) Raw() []byte { return slices.Clone(c.raw) }

type ctxKey struct{}

// NewContext returns a copy of ctx carrying c.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the claims stored by [NewContext] (the middleware of
// [NewMiddleware] stores them for every request it lets through).
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(ctxKey{}).(*Claims)
	return c, ok && c != nil
}

func newError(kind error, reason string, cause error) error {
	return &cognitoguard.Error{Kind: kind, Reason: reason, Err: cause}
}

func malformed(reason string) error { return newError(cognitoguard.ErrMalformed, reason, nil) }

package events

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// MaxFuture is how far ahead of the consumer's clock an eventTime may
// be: a later one is malformed (a forged or corrupt record must not
// revoke sign-ins yet to come).
const MaxFuture = 5 * time.Minute

// Defaults of [Config].
const (
	DefaultTimeout    = 5 * time.Second
	DefaultLagWarn    = 5 * time.Minute
	DefaultVisibility = 30 * time.Second
	DefaultRetryMax   = 5 * time.Second
)

// maxSubLen bounds a sub: Cognito's are 36-character UUIDs.
const maxSubLen = 128

// Recorder is where sign-outs are recorded: [signout.Recorder] (the
// stores of package revocation) satisfies it. RevokeUser MUST return nil
// only once the record is durable by the store's rules (on Redis: written,
// and acknowledged by the replicas it waits for), and MUST keep the latest
// time (a write with an earlier time never lowers it), so that duplicates,
// redeliveries and late events are harmless. It MUST be safe for
// concurrent use. The Redis store returns an error while a confirmation
// it waits for is missing, the instances' ones (WaitInstances) included:
// give the consumer a store without WaitInstances, or an instance down
// holds the queue.
type Recorder interface {
	RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error
}

var _ Recorder = signout.Recorder(nil)

// Pool is a user pool whose sign-outs the consumer records.
type Pool struct {
	// ID is the pool ID, such as "eu-west-1_AbCdEf123": sign-outs are
	// recorded under it, as the Verifiers key them. Required.
	ID string
	// Regions are the pool's replica regions (multi-Region replication).
	// With the home region, read from ID, they are where the pool's events
	// come from: an event naming no pool (GlobalSignOut, DeleteUser, …) is
	// recorded under every configured pool of its awsRegion. For an ID
	// that is not of the AWS form region_id (an emulator's), Regions MUST
	// list its region(s).
	Regions []string
}

// Config holds the optional settings of a [Consumer]. Its zero value
// honours the sign-outs only (no password or session events).
type Config struct {
	// Passwords honours password changes and resets (ChangePassword,
	// ConfirmForgotPassword, AdminSetUserPassword,
	// AdminResetUserPassword) as sign-outs: "a password change signs out
	// every device". Default false: counted as PolicyOff.
	Passwords bool

	// Sessions honours RevokeToken, RevokeUserSession and
	// AdminRevokeUserSession. Their records hide the token, so the whole
	// user is signed out, not the one session. Default false: counted as
	// PolicyOff.
	Sessions bool

	// TTL is the record TTL of the store: an event older than TTL is
	// Expired (every token it could revoke has expired). Default
	// [revocation.DefaultTTL]. It MUST NOT exceed the store's.
	TTL time.Duration

	// Timeout bounds each Recorder write. Default [DefaultTimeout]; it is
	// lowered to Visibility/3 if above, so that a hanging store cannot let
	// a message in hand become visible again.
	Timeout time.Duration

	// Visibility is the queue's visibility timeout, and what [Consumer.Run]
	// extends the messages in hand to (a third of it before it runs out,
	// and on every retry while the store fails). Default
	// [DefaultVisibility] (SQS's default). It MUST NOT exceed the queue's
	// visibility timeout: a message whose visibility ran out before its
	// first extension is delivered again, consuming a receive count.
	Visibility time.Duration

	// RetryMax caps the backoff between attempts to record while the store
	// fails (from 100ms, doubling). Default [DefaultRetryMax]; it is
	// lowered to Visibility/3 if above.
	RetryMax time.Duration

	// LagWarn: an event applied more than LagWarn after its eventTime is
	// logged at Warn. Default [DefaultLagWarn].
	LagWarn time.Duration

	// Now is the clock (lag, the MaxFuture and TTL checks). Default
	// time.Now. Never the recorded time: that is the event's eventTime.
	Now func() time.Time

	// Logger receives an Error record per malformed message and per store
	// outage, a Warn record per late event, Info per recorded sign-out.
	// Default: nothing is logged.
	Logger *slog.Logger

	// OnEvent, if set, is called once per handled message with its
	// [Result], for metrics (see the otelguard module). It MUST be fast
	// and safe for concurrent use.
	OnEvent func(ctx context.Context, r Result)
}

// Consumer records the sign-outs of Cognito CloudTrail events. Use
// [Consumer.Handle] per message (a Lambda handler) or [Consumer.Run] over
// a [Queue]. It is safe for concurrent use; several consumers may share a
// queue.
type Consumer struct {
	rec      Recorder
	cfg      Config
	pools    []Pool
	byID     map[string]bool
	byRegion map[string][]string // region → pool IDs
	log      *slog.Logger

	mu        sync.Mutex
	unapplied map[*inHand]struct{} // messages received and not yet applied
}

// New returns a consumer recording into rec the sign-outs of pools. rec
// and at least one pool are required.
func New(rec Recorder, pools []Pool, cfg Config) (*Consumer, error) {
	if rec == nil {
		return nil, errors.New("events: New: nil Recorder")
	}
	if len(pools) == 0 {
		return nil, errors.New("events: New: no pools")
	}
	c := &Consumer{rec: rec, cfg: cfg, byID: map[string]bool{}, byRegion: map[string][]string{},
		unapplied: map[*inHand]struct{}{}}
	for _, p := range pools {
		if err := c.addPool(p); err != nil {
			return nil, fmt.Errorf("events: New: %w", err)
		}
	}
	if err := c.defaults(); err != nil {
		return nil, fmt.Errorf("events: New: %w", err)
	}
	return c, nil
}

func (c *Consumer) addPool(p Pool) error {
	if p.ID == "" {
		return errors.New("empty pool ID")
	}
	if c.byID[p.ID] {
		return fmt.Errorf("pool %q configured twice", p.ID)
	}
	regions := slices.Clone(p.Regions)
	if home, err := cognitoguard.PoolRegion(p.ID); err == nil {
		regions = append(regions, home)
	} else if len(regions) == 0 {
		return fmt.Errorf("pool %q: no region (the ID is not region_id: set Regions)", p.ID)
	}
	c.byID[p.ID] = true
	c.pools = append(c.pools, p)
	slices.Sort(regions)
	for _, r := range slices.Compact(regions) {
		c.byRegion[r] = append(c.byRegion[r], p.ID)
	}
	return nil
}

func (c *Consumer) defaults() error {
	cfg := &c.cfg
	if cfg.TTL < 0 || cfg.Timeout < 0 || cfg.Visibility < 0 || cfg.RetryMax < 0 || cfg.LagWarn < 0 {
		return errors.New("negative duration in Config")
	}
	if cfg.TTL == 0 {
		cfg.TTL = revocation.DefaultTTL
	}
	if cfg.Visibility == 0 {
		cfg.Visibility = DefaultVisibility
	}
	if cfg.Visibility < 3*time.Millisecond {
		return fmt.Errorf("visibility %v too short", cfg.Visibility)
	}
	cfg.Timeout = min(cmp.Or(cfg.Timeout, DefaultTimeout), cfg.Visibility/3)
	cfg.RetryMax = min(cmp.Or(cfg.RetryMax, DefaultRetryMax), cfg.Visibility/3)
	if cfg.LagWarn == 0 {
		cfg.LagWarn = DefaultLagWarn
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c.log = cfg.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Handle judges one message body and records its sign-out. A nil error
// means the message is done (its Outcome is final: delete it); an error
// matching [ErrMalformed] means it MUST be left for the queue's redrive
// policy (it is logged at Error); one matching [ErrStore] means the store
// failed and the message MUST be kept and retried (logged at Error).
// Handling the same message twice is harmless.
func (c *Consumer) Handle(ctx context.Context, body []byte) (Result, error) {
	r := c.handle(ctx, body)
	if r.Outcome == StoreFailed {
		c.log.LogAttrs(ctx, slog.LevelError, "events: sign-out not recorded; keep the message",
			slog.String("event", r.EventName), slog.String("event_id", r.EventID), slog.Any("error", r.Err))
	}
	return r, r.Err
}

// handle is Handle without the store failure's log record (Run logs
// outages once).
func (c *Consumer) handle(ctx context.Context, body []byte) Result {
	p := c.judge(body)
	r := p.Result
	if r.Outcome == Recorded {
		r = c.record(ctx, p)
	}
	c.report(ctx, r)
	return r
}

// pending is a record to write: the Result so far and the sub.
type pending struct {
	Result
	sub string
}

// judge decodes body and applies the policy, the checks and the
// attribution; an Outcome Recorded means "to record".
func (c *Consumer) judge(body []byte) pending {
	ev, err := Decode(body)
	if err != nil {
		return pending{Result: Result{Outcome: Malformed, Err: err}}
	}
	rec := &ev.Record
	r := Result{EventName: boundText(rec.EventName), EventID: boundText(rec.EventID)}
	if t, err := rec.Time(); err == nil {
		r.EventTime = t
		r.Lag = max(c.cfg.Now().Sub(t), 0)
	}
	malformed := func(why string) pending {
		r.Outcome, r.Err = Malformed, fmt.Errorf("%w: %s %s", ErrMalformed, r.EventName, why)
		return pending{Result: r}
	}
	kind := KindOf(rec.EventName)
	switch {
	case ev.Envelope.Source != Source || rec.EventSource != EventSource || kind == KindOther:
		r.Outcome = NotSignOut
	case rec.ErrorCode != "":
		r.Outcome = FailedCall
	case !c.honoured(kind):
		r.Outcome = PolicyOff
	case r.EventTime.IsZero():
		return malformed("without a valid eventTime")
	case r.EventTime.Sub(c.cfg.Now()) > MaxFuture:
		return malformed("with an eventTime over 5 minutes ahead of this clock")
	case r.Lag > c.cfg.TTL:
		r.Outcome = Expired
	default:
		return c.attribute(ev, r, malformed)
	}
	return pending{Result: r}
}

// attribute finds the configured pools of an honoured event.
func (c *Consumer) attribute(ev *Event, r Result, malformed func(string) pending) pending {
	sub := ev.Record.AdditionalEventData.Sub
	if id := ev.PoolID(); id != "" {
		if c.byID[id] {
			r.PoolIDs = []string{id}
		}
	} else if ev.Record.AWSRegion == "" {
		return malformed("naming neither a pool nor a region")
	} else {
		r.PoolIDs = slices.Clone(c.byRegion[ev.Record.AWSRegion])
	}
	switch {
	case len(r.PoolIDs) == 0:
		r.Outcome = Unconfigured
	case sub == "" || len(sub) > maxSubLen || boundText(sub) != sub:
		return malformed("without a valid sub")
	default:
		r.Outcome = Recorded
	}
	return pending{Result: r, sub: sub}
}

// record writes the sign-out under each of its pools.
func (c *Consumer) record(ctx context.Context, p pending) Result {
	r := p.Result
	for _, pool := range r.PoolIDs {
		wctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		err := c.rec.RevokeUser(wctx, pool, p.sub, r.EventTime)
		cancel()
		if err != nil {
			r.Outcome, r.Err = StoreFailed, fmt.Errorf("%w: %s of pool %s: %w", ErrStore, r.EventName, pool, err)
			return r
		}
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "events: sign-out recorded",
		slog.String("event", r.EventName), slog.String("event_id", r.EventID),
		slog.Any("pools", r.PoolIDs), slog.Time("event_time", r.EventTime), slog.Duration("lag", r.Lag))
	if r.Lag > c.cfg.LagWarn {
		c.log.LogAttrs(ctx, slog.LevelWarn, "events: sign-out applied late",
			slog.String("event", r.EventName), slog.String("event_id", r.EventID), slog.Duration("lag", r.Lag))
	}
	return r
}

// report logs a malformed message and calls the hook.
func (c *Consumer) report(ctx context.Context, r Result) {
	if r.Outcome == Malformed {
		c.log.LogAttrs(ctx, slog.LevelError, "events: malformed message left for the redrive policy",
			slog.String("event", r.EventName), slog.String("event_id", r.EventID), slog.Any("error", r.Err))
	}
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(ctx, r)
	}
}

// boundText bounds attacker-chosen text that goes to logs, errors and
// results: at most 128 bytes of valid UTF-8 without control characters.
func boundText(s string) string {
	if len(s) > 128 || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "(invalid)"
	}
	return s
}

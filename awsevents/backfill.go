package awsevents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/events"
)

// CloudTrailAPI is the part of the CloudTrail client a backfill uses;
// *cloudtrail.Client implements it.
type CloudTrailAPI interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

var _ CloudTrailAPI = (*cloudtrail.Client)(nil)

// SignOutReader reads the latest recorded sign-out of a user;
// signout.Recorder (the stores of package revocation) satisfies it.
type SignOutReader interface {
	SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error)
}

// LookupRate is CloudTrail's LookupEvents quota: 2 requests per second per
// account and region.
const LookupRate = 2

// DefaultLookupInterval spaces a region's LookupEvents requests: 1 s /
// [LookupRate] plus a margin, since requests spaced exactly 500 ms apart
// by the sender can arrive closer (network jitter) and be throttled.
const DefaultLookupInterval = 600 * time.Millisecond

// BackfillConfig holds the optional settings of a [Backfill].
type BackfillConfig struct {
	// Passwords and Sessions MUST be those of the consumer's
	// [events.Config]: they choose the event names looked up.
	Passwords, Sessions bool
	// Interval is the least time between the starts of two LookupEvents
	// requests of a region. Default [DefaultLookupInterval]; values under
	// 1 s / [LookupRate] are refused.
	Interval time.Duration
	// Timeout bounds each request. Default [DefaultSQSTimeout].
	Timeout time.Duration
	// Logger receives a record per region and failure. Default: none.
	Logger *slog.Logger
}

// Backfill re-records, through the consumer, the sign-outs CloudTrail's
// event history (LookupEvents, 90 days) holds for a time range: in every
// region of every configured pool, one paginated sequence per honoured
// event name, within [LookupRate] requests per second per region. It is
// safe for concurrent use, but CloudTrail's quota is per account: run one
// at a time ([Lock]).
type Backfill struct {
	consumer *events.Consumer
	store    SignOutReader
	clients  map[string]CloudTrailAPI // region → client
	pools    []string
	names    []string
	cfg      BackfillConfig
	log      *slog.Logger
}

// BackfillStats counts what a backfill found.
type BackfillStats struct {
	Requests int // LookupEvents calls
	Events   int // records seen
	Recorded int // sign-outs recorded (or found recorded)
	// Missed counts the recorded events whose sign-out the store did not
	// yet hold (no record at or after the event's time in one of its
	// pools): events the queue missed or has not delivered yet.
	Missed int
	// Malformed counts records that the consumer could not judge.
	Malformed int
}

// NewBackfill returns a backfill recording through c (whose pools are
// pools) and reading prior records from store, with a CloudTrail client
// per region: clients MUST hold every home and replica region of pools
// (see [Regions]).
func NewBackfill(c *events.Consumer, store SignOutReader, pools []events.Pool, clients map[string]CloudTrailAPI, cfg BackfillConfig) (*Backfill, error) {
	switch {
	case c == nil || store == nil:
		return nil, errors.New("awsevents: NewBackfill: nil Consumer or store")
	case cfg.Interval < 0 || cfg.Timeout < 0:
		return nil, errors.New("awsevents: NewBackfill: negative duration")
	case cfg.Interval > 0 && cfg.Interval < time.Second/LookupRate:
		return nil, fmt.Errorf("awsevents: NewBackfill: Interval %v under CloudTrail's quota", cfg.Interval)
	}
	regions, err := Regions(pools)
	if err != nil {
		return nil, fmt.Errorf("awsevents: NewBackfill: %w", err)
	}
	for _, r := range regions {
		if clients[r] == nil {
			return nil, fmt.Errorf("awsevents: NewBackfill: no CloudTrail client for region %s", r)
		}
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultLookupInterval
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSQSTimeout
	}
	b := &Backfill{consumer: c, store: store, clients: map[string]CloudTrailAPI{}, cfg: cfg,
		names: HonouredNames(cfg.Passwords, cfg.Sessions), log: cfg.Logger}
	for _, r := range regions {
		b.clients[r] = clients[r]
	}
	for _, p := range pools {
		b.pools = append(b.pools, p.ID)
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	return b, nil
}

// HonouredNames returns the event names a consumer honours with these
// policies: the sign-outs, and the password and session events if asked.
func HonouredNames(passwords, sessions bool) []string {
	names := events.EventNames(events.KindSignOut)
	if passwords {
		names = append(names, events.EventNames(events.KindPassword)...)
	}
	if sessions {
		names = append(names, events.EventNames(events.KindSession)...)
	}
	return names
}

// Regions returns every home and replica region of pools, sorted.
func Regions(pools []events.Pool) ([]string, error) {
	var out []string
	for _, p := range pools {
		out = append(out, p.Regions...)
		if home, err := cognitoguard.PoolRegion(p.ID); err == nil {
			out = append(out, home)
		} else if len(p.Regions) == 0 {
			return nil, fmt.Errorf("pool %q: no region", p.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Run backfills [start, end): the regions in parallel, each name's pages
// in sequence. It returns the counts and every region's error joined; a
// failed region does not stop the others.
func (b *Backfill) Run(ctx context.Context, start, end time.Time) (BackfillStats, error) {
	var (
		mu    sync.Mutex
		total BackfillStats
		errs  []error
		wg    sync.WaitGroup
	)
	for region, client := range b.clients {
		wg.Go(func() {
			st, err := b.region(ctx, client, start, end)
			b.log.LogAttrs(ctx, slog.LevelInfo, "awsevents: backfill of region done", slog.String("region", region),
				slog.Int("requests", st.Requests), slog.Int("events", st.Events), slog.Int("recorded", st.Recorded),
				slog.Int("missed", st.Missed), slog.Any("error", err))
			mu.Lock()
			defer mu.Unlock()
			total.add(st)
			if err != nil {
				errs = append(errs, fmt.Errorf("region %s: %w", region, err))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return total, fmt.Errorf("awsevents: backfill: %w", err)
	}
	return total, nil
}

func (s *BackfillStats) add(o BackfillStats) {
	s.Requests += o.Requests
	s.Events += o.Events
	s.Recorded += o.Recorded
	s.Missed += o.Missed
	s.Malformed += o.Malformed
}

// region runs one paginated lookup per name, each request starting at
// least Interval after the previous one.
func (b *Backfill) region(ctx context.Context, client CloudTrailAPI, start, end time.Time) (BackfillStats, error) {
	var st BackfillStats
	var last time.Time
	for _, name := range b.names {
		var token *string
		for {
			if !last.IsZero() && !pause(ctx, time.Until(last.Add(b.cfg.Interval))) {
				return st, ctx.Err()
			}
			last = time.Now()
			out, err := b.lookup(ctx, client, name, token, start, end)
			st.Requests++
			if err != nil {
				return st, fmt.Errorf("LookupEvents %s: %w", name, err)
			}
			for _, e := range out.Events {
				if err := b.apply(ctx, e, &st); err != nil {
					return st, err
				}
			}
			if token = out.NextToken; aws.ToString(token) == "" {
				break
			}
		}
	}
	return st, nil
}

// maxThrottled bounds the retries of one page throttled by CloudTrail
// (the quota is the account's: another client may be using it), each
// after a pause growing from 1 s to 10 s.
const maxThrottled = 8

// lookup asks one page, retrying it while CloudTrail throttles it (beyond
// the SDK's own retries).
func (b *Backfill) lookup(ctx context.Context, client CloudTrailAPI, name string, token *string, start, end time.Time) (*cloudtrail.LookupEventsOutput, error) {
	wait := time.Second
	for i := 0; ; i++ {
		out, err := b.lookupOnce(ctx, client, name, token, start, end)
		var api smithy.APIError
		if err == nil || i == maxThrottled || !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
			return out, err
		}
		b.log.LogAttrs(ctx, slog.LevelInfo, "awsevents: LookupEvents throttled; retrying", slog.Duration("in", wait))
		if !pause(ctx, wait) {
			return nil, ctx.Err()
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func (b *Backfill) lookupOnce(ctx context.Context, client CloudTrailAPI, name string, token *string, start, end time.Time) (*cloudtrail.LookupEventsOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	return client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}},
		StartTime:        aws.Time(start),
		EndTime:          aws.Time(end),
		MaxResults:       aws.Int32(50),
		NextToken:        token,
	})
}

// apply records one event through the consumer, counting it as missed
// when the store did not hold its sign-out before.
func (b *Backfill) apply(ctx context.Context, e cttypes.Event, st *BackfillStats) error {
	st.Events++
	body, err := events.Wrap([]byte(aws.ToString(e.CloudTrailEvent)), aws.ToString(e.EventId), "")
	if err != nil {
		st.Malformed++
		b.log.LogAttrs(ctx, slog.LevelError, "awsevents: backfill: unreadable CloudTrail event",
			slog.String("event_id", aws.ToString(e.EventId)), slog.Any("error", err))
		return nil
	}
	prior := b.prior(ctx, body)
	r, err := b.consumer.Handle(ctx, body)
	switch {
	case errors.Is(err, events.ErrStore):
		return err
	case err != nil:
		st.Malformed++
		return nil
	case r.Outcome != events.Recorded:
		return nil
	}
	st.Recorded++
	for _, pool := range r.PoolIDs {
		if at, ok := prior[pool]; !ok || at.Before(r.EventTime) {
			st.Missed++
			break
		}
	}
	return nil
}

// prior returns the sign-outs the store holds for the event's sub in each
// configured pool (a pool whose read fails counts as holding none).
func (b *Backfill) prior(ctx context.Context, body []byte) map[string]time.Time {
	ev, err := events.Decode(body)
	if err != nil || ev.Record.AdditionalEventData.Sub == "" {
		return nil
	}
	out := map[string]time.Time{}
	for _, pool := range b.pools {
		if at, ok, err := b.store.SignedOutAt(ctx, pool, ev.Record.AdditionalEventData.Sub); err == nil && ok {
			out[pool] = at
		}
	}
	return out
}

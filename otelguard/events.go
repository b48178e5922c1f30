package otelguard

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/cognitoguard/cognitoguard/events"
)

// Events attribute keys.
const (
	AttrEventOutcome = attribute.Key("cognitoguard.event.outcome") // recorded, not_signout, policy_off, failed_call, unconfigured_pool, expired, malformed, store_failed
	AttrEventName    = attribute.Key("cognitoguard.event.name")    // a sign-out event name (GlobalSignOut, …), "other" or "none"
)

// lagBuckets are the lag histogram's boundaries in seconds: EventBridge
// delivers in seconds to minutes; beyond the record TTL (a day) an event
// is expired.
var lagBuckets = []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 24 * 3600}

// eventSets are the attribute sets of every outcome and name, made once:
// the event name comes from the message, so only the names the consumer
// knows are attributes, others are "other".
type eventSets struct {
	counted map[[2]string]metric.AddOption
	timed   map[events.Outcome]metric.RecordOption
}

func newEventSets() eventSets {
	s := eventSets{counted: map[[2]string]metric.AddOption{}, timed: map[events.Outcome]metric.RecordOption{}}
	var names []string
	for _, k := range []events.Kind{events.KindSignOut, events.KindPassword, events.KindSession} {
		names = append(names, events.EventNames(k)...)
	}
	names = append(names, "other", "none")
	for _, o := range events.Outcomes {
		for _, n := range names {
			s.counted[[2]string{string(o), n}] = metric.WithAttributeSet(attribute.NewSet(
				AttrEventOutcome.String(string(o)), AttrEventName.String(n)))
		}
		s.timed[o] = metric.WithAttributeSet(attribute.NewSet(AttrEventOutcome.String(string(o))))
	}
	return s
}

// Events returns the hook of an events consumer ([events.Config.OnEvent]):
// it counts the messages handled in cognitoguard.events, by
// cognitoguard.event.outcome and cognitoguard.event.name (the sign-out
// event names the consumer knows; "other" for any other name, "none" for
// an unparsable message), and records the lag (now − eventTime, seconds,
// at least 0) of every message with an eventTime in the histogram
// cognitoguard.events.lag, by outcome. It fails only if the MeterProvider
// refuses an instrument.
func (t *Telemetry) Events() (func(context.Context, events.Result), error) {
	count, err1 := t.meter.Int64Counter("cognitoguard.events",
		metric.WithUnit("{message}"),
		metric.WithDescription("CloudTrail event messages handled by the events consumer, by outcome and event name."))
	lag, err2 := t.meter.Float64Histogram("cognitoguard.events.lag",
		metric.WithUnit("s"),
		metric.WithDescription("Time from a Cognito call (eventTime) to its handling by the events consumer."),
		metric.WithExplicitBucketBoundaries(lagBuckets...))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	sets := newEventSets()
	return func(ctx context.Context, r events.Result) {
		name := r.EventName
		switch {
		case name == "":
			name = "none"
		case events.KindOf(name) == events.KindOther:
			name = "other"
		}
		count.Add(ctx, 1, sets.counted[[2]string{string(r.Outcome), name}])
		if !r.EventTime.IsZero() {
			lag.Record(ctx, r.Lag.Seconds(), sets.timed[r.Outcome])
		}
	}, nil
}

// ObserveEvents registers gauges reading c ([events.Consumer.OldestUnapplied])
// at each collection:
// cognitoguard.events.unapplied (messages received and not yet applied:
// non-zero and growing while the store is down) and
// cognitoguard.events.oldest_unapplied (seconds since the eventTime of
// the oldest of them; 0 when none). attrs tell several consumers apart.
// The registration is also removed by [Telemetry.Close]. The queue's
// depth is the queue's own metric (SQS ApproximateNumberOfMessagesVisible).
func (t *Telemetry) ObserveEvents(c *events.Consumer, attrs ...attribute.KeyValue) (metric.Registration, error) {
	n, err1 := t.meter.Int64ObservableGauge("cognitoguard.events.unapplied",
		metric.WithUnit("{message}"), metric.WithDescription("Event messages received by the consumer and not yet applied."))
	age, err2 := t.meter.Float64ObservableGauge("cognitoguard.events.oldest_unapplied",
		metric.WithUnit("s"), metric.WithDescription("Age (now − eventTime) of the oldest event received and not yet applied."))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return t.register(func(_ context.Context, o metric.Observer) error {
		a, k := c.OldestUnapplied()
		o.ObserveInt64(n, int64(k), set)
		o.ObserveFloat64(age, a.Seconds(), set)
		return nil
	}, n, age)
}

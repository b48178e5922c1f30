package otelguard

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cognitoguard/cognitoguard"
)

// ScopeName is the instrumentation scope of the meter and tracer.
const ScopeName = "github.com/cognitoguard/cognitoguard/otelguard"

// Attribute keys. Their values are bounded sets (outcomes, reasons, token
// uses, configured issuers and pools), never a token nor a claim read
// from one, except [AttrSubject] under [Config.RecordSubject].
const (
	AttrOutcome   = attribute.Key("cognitoguard.outcome")   // accepted, no_token, invalid_token, insufficient_scope, unavailable
	AttrReason    = attribute.Key("cognitoguard.reason")    // the failed check: expired, revoked, signature, …; absent when accepted
	AttrTokenUse  = attribute.Key("cognitoguard.token_use") // access or id, of accepted tokens only
	AttrOperation = attribute.Key("cognitoguard.operation") // verify or authenticate
	AttrCached    = attribute.Key("cognitoguard.cached")    // answered from the token cache
	AttrPool      = attribute.Key("cognitoguard.user_pool_id")
	AttrIssuer    = attribute.Key("cognitoguard.issuer")
	AttrSubject   = attribute.Key("enduser.id") // the token's sub; only with Config.RecordSubject
)

// Config holds the optional settings of [New]. Its zero value uses the
// global providers and records no subject.
type Config struct {
	// MeterProvider creates the instruments. Default otel.GetMeterProvider().
	MeterProvider metric.MeterProvider

	// TracerProvider creates the verification spans. Default
	// otel.GetTracerProvider().
	TracerProvider trace.TracerProvider

	// RecordSubject adds the sub of a token whose signature verified to its
	// span, as enduser.id. Default false: a sub is personal data under
	// many policies, and a span store is rarely governed as user data is.
	// It is never a metric attribute.
	RecordSubject bool
}

// Telemetry records the metrics and spans of cognitoguard. Create it with
// [New], pass [Telemetry.OnVerify] as [cognitoguard.Config.OnVerify], and
// register the asynchronous instruments of a Verifier and of the stores
// with the Observe methods; [Telemetry.Close] unregisters the latter. Its
// methods are safe for concurrent use.
type Telemetry struct {
	tracer        trace.Tracer
	meter         metric.Meter
	recordSubject bool

	verifications metric.Int64Counter
	duration      metric.Float64Histogram
	cacheHits     metric.Int64Counter
	signOuts      metric.Int64Counter
	cognitoCalls  metric.Int64Counter

	// sets holds the options of every attribute set, by setIndex.
	sets []measureSets

	mu   sync.Mutex
	regs []*registration
}

// durationBuckets are the histogram boundaries in seconds: a cached token
// takes microseconds, an RSA verification tens of them, a key fetch or a
// store lookup milliseconds to seconds.
var durationBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// New creates the instruments: counters cognitoguard.verifications (by
// outcome, reason, token use and operation), cognitoguard.cache.hits,
// cognitoguard.signouts (see [Telemetry.Recorder]) and
// cognitoguard.cognito.calls (see [Telemetry.Cognito]), and the histogram
// cognitoguard.verification.duration in seconds (by outcome, operation and
// cached). It fails only if the MeterProvider refuses an instrument.
func New(cfg Config) (*Telemetry, error) {
	mp, tp := cfg.MeterProvider, cfg.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	t := &Telemetry{
		tracer:        tp.Tracer(ScopeName),
		meter:         mp.Meter(ScopeName),
		recordSubject: cfg.RecordSubject,
		sets:          buildSets(),
	}
	var errs [5]error
	t.verifications, errs[0] = t.meter.Int64Counter("cognitoguard.verifications",
		metric.WithUnit("{verification}"),
		metric.WithDescription("Verify and Authenticate calls, by outcome class, failed check, token use and operation."))
	t.duration, errs[1] = t.meter.Float64Histogram("cognitoguard.verification.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Wall time of Verify and Authenticate calls."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.cacheHits, errs[2] = t.meter.Int64Counter("cognitoguard.cache.hits",
		metric.WithUnit("{verification}"),
		metric.WithDescription("Verifications answered from the token cache, without a signature check."))
	t.signOuts, errs[3] = t.meter.Int64Counter("cognitoguard.signouts",
		metric.WithUnit("{signout}"),
		metric.WithDescription("Sign-out records written to the revocation store, by scope (user, session) and outcome (recorded, unconfirmed, failed)."))
	t.cognitoCalls, errs[4] = t.meter.Int64Counter("cognitoguard.cognito.calls",
		metric.WithUnit("{call}"),
		metric.WithDescription("Cognito API calls of the sign-out helper, by operation and outcome (see Telemetry.Cognito)."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return t, nil
}

// measureSets are the options of one attribute set, as ready-made
// variadic arguments (so that recording allocates nothing).
type measureSets struct {
	counted []metric.AddOption
	timed   []metric.RecordOption
}

// Token uses as set indices.
const (
	useNone = iota
	useAccess
	useID
	useCount
)

// setIndex numbers the attribute sets of a verification: reason ×
// token use × operation × cached.
func setIndex(reason, use int, authenticate, cached bool) int {
	return (reason*useCount+use)*4 + 2*b2i(authenticate) + b2i(cached)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildSets builds the options of every attribute set, once.
func buildSets() []measureSets {
	sets := make([]measureSets, len(reasonNames)*useCount*4)
	for r, name := range reasonNames {
		outcome := outcomeOf(name)
		for use, useName := range [useCount]string{"", "access", "id"} {
			for _, auth := range []bool{false, true} {
				op := "verify"
				if auth {
					op = "authenticate"
				}
				kv := []attribute.KeyValue{AttrOutcome.String(outcome), AttrOperation.String(op)}
				if name != "" && name != outcome {
					kv = append(kv, AttrReason.String(name))
				}
				if useName != "" {
					kv = append(kv, AttrTokenUse.String(useName))
				}
				counted := metric.WithAttributeSet(attribute.NewSet(kv...))
				for _, cached := range []bool{false, true} {
					timed := metric.WithAttributeSet(attribute.NewSet(AttrOutcome.String(outcome), AttrOperation.String(op), AttrCached.Bool(cached)))
					sets[setIndex(r, use, auth, cached)] = measureSets{
						counted: []metric.AddOption{counted},
						timed:   []metric.RecordOption{timed},
					}
				}
			}
		}
	}
	return sets
}

// OnVerify records one verification: it has the signature of
// [cognitoguard.Config.OnVerify]. It adds to the verification and cache
// counters and the duration histogram and, when ctx carries a recording
// span (a traced request), records a child span covering the call. It
// never starts a trace of its own.
func (t *Telemetry) OnVerify(ctx context.Context, ev cognitoguard.VerifyEvent) {
	r := reasonIndex(ev.Err)
	use := useNone
	if ev.Err == nil && ev.Claims != nil {
		switch ev.Claims.TokenUse {
		case cognitoguard.TokenUseAccess:
			use = useAccess
		case cognitoguard.TokenUseID:
			use = useID
		}
	}
	ms := &t.sets[setIndex(r, use, ev.Authenticate, ev.Cached)]
	t.verifications.Add(ctx, 1, ms.counted...)
	t.duration.Record(ctx, ev.Duration.Seconds(), ms.timed...)
	if ev.Cached {
		t.cacheHits.Add(ctx, 1)
	}
	if trace.SpanFromContext(ctx).IsRecording() {
		t.span(ctx, reasonNames[r], ev)
	}
}

// span records the verification as a finished child span of ctx's span.
func (t *Telemetry) span(ctx context.Context, reason string, ev cognitoguard.VerifyEvent) {
	name := "cognitoguard.Verify"
	if ev.Authenticate {
		name = "cognitoguard.Authenticate"
	}
	end := time.Now()
	_, sp := t.tracer.Start(ctx, name, trace.WithTimestamp(end.Add(-ev.Duration)), trace.WithSpanKind(trace.SpanKindInternal))
	outcome := outcomeOf(reason)
	sp.SetAttributes(AttrOutcome.String(outcome), AttrCached.Bool(ev.Cached))
	if reason != "" && reason != outcome {
		sp.SetAttributes(AttrReason.String(reason))
	}
	if c := ev.Claims; c != nil {
		sp.SetAttributes(AttrTokenUse.String(string(c.TokenUse)), AttrPool.String(c.UserPoolID), AttrIssuer.String(c.Issuer))
	}
	if t.recordSubject {
		if sub := subject(ev); sub != "" {
			sp.SetAttributes(AttrSubject.String(sub))
		}
	}
	// Only a failure of the service is an error: a bad token is the
	// client's, and the verification did its job.
	if outcome == outcomeUnavailable {
		sp.SetStatus(codes.Error, "verification unavailable")
	}
	sp.End(trace.WithTimestamp(end))
}

// subject returns the sub of an accepted token, or of a rejected one whose
// signature verified.
func subject(ev cognitoguard.VerifyEvent) string {
	if ev.Claims != nil {
		return ev.Claims.Subject
	}
	var e *cognitoguard.Error
	if errors.As(ev.Err, &e) {
		return e.Subject
	}
	return ""
}

// Close unregisters every callback registered by the Observe methods. The
// synchronous instruments keep working. It is idempotent.
func (t *Telemetry) Close() error {
	t.mu.Lock()
	regs := t.regs
	t.regs = nil
	t.mu.Unlock()
	var errs []error
	for _, r := range regs {
		errs = append(errs, r.Unregister())
	}
	return errors.Join(errs...)
}

// registration is a callback registration that may be unregistered more
// than once (by its owner and by Close).
type registration struct {
	metric.Registration
	once sync.Once
	err  error
}

// Unregister removes the callback; later calls return the first's result.
func (r *registration) Unregister() error {
	r.once.Do(func() { r.err = r.Registration.Unregister() })
	return r.err
}

// register registers cb for the observable instruments and keeps the
// registration for Close.
func (t *Telemetry) register(cb metric.Callback, insts ...metric.Observable) (metric.Registration, error) {
	r, err := t.meter.RegisterCallback(cb, insts...)
	if err != nil {
		return nil, err
	}
	reg := &registration{Registration: r}
	t.mu.Lock()
	t.regs = append(t.regs, reg)
	t.mu.Unlock()
	return reg, nil
}

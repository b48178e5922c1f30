package otelguard

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// ObserveVerifier registers asynchronous instruments reading v's key
// fetchers ([cognitoguard.Verifier.KeyStats]) at each collection, one series per issuer (attribute
// cognitoguard.issuer, plus attrs): counters cognitoguard.jwks.fetches,
// cognitoguard.jwks.fetch_failures and cognitoguard.jwks.misses, and gauges
// cognitoguard.jwks.keys (usable keys cached) and cognitoguard.jwks.age
// (seconds since the last successful fetch; absent before the first).
// attrs tell several Verifiers apart. The registration is also removed by
// [Telemetry.Close].
func (t *Telemetry) ObserveVerifier(v *cognitoguard.Verifier, attrs ...attribute.KeyValue) (metric.Registration, error) {
	m := t.meter
	var (
		fetches, failures, misses metric.Int64ObservableCounter
		keys                      metric.Int64ObservableGauge
		age                       metric.Float64ObservableGauge
		errs                      [5]error
	)
	fetches, errs[0] = m.Int64ObservableCounter("cognitoguard.jwks.fetches",
		metric.WithUnit("{fetch}"), metric.WithDescription("JWKS fetch attempts started."))
	failures, errs[1] = m.Int64ObservableCounter("cognitoguard.jwks.fetch_failures",
		metric.WithUnit("{fetch}"), metric.WithDescription("JWKS fetch attempts that failed."))
	misses, errs[2] = m.Int64ObservableCounter("cognitoguard.jwks.misses",
		metric.WithUnit("{lookup}"), metric.WithDescription("Key lookups of a key ID not cached at the time."))
	keys, errs[3] = m.Int64ObservableGauge("cognitoguard.jwks.keys",
		metric.WithUnit("{key}"), metric.WithDescription("Usable keys cached."))
	age, errs[4] = m.Float64ObservableGauge("cognitoguard.jwks.age",
		metric.WithUnit("s"), metric.WithDescription("Time since the last successful JWKS fetch."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return t.register(func(_ context.Context, o metric.Observer) error {
		now := time.Now()
		for iss, st := range v.KeyStats() {
			set := metric.WithAttributeSet(attribute.NewSet(append([]attribute.KeyValue{AttrIssuer.String(iss)}, attrs...)...))
			o.ObserveInt64(fetches, int64(st.Fetches), set)
			o.ObserveInt64(failures, int64(st.Failures), set)
			o.ObserveInt64(misses, int64(st.Misses), set)
			o.ObserveInt64(keys, int64(st.Keys), set)
			if !st.LastSuccess.IsZero() {
				o.ObserveFloat64(age, max(0, now.Sub(st.LastSuccess).Seconds()), set)
			}
		}
		return nil
	}, fetches, failures, misses, keys, age)
}

// redisCounters are the counters of [redisstore.Stats], reported as
// asynchronous counters.
var redisCounters = []struct {
	name, unit, desc string
	get              func(redisstore.Stats) uint64
}{
	{"cognitoguard.revocation.memory_hits", "{call}", "Revoked calls answered from the local view.", func(s redisstore.Stats) uint64 { return s.MemoryHits }},
	{"cognitoguard.revocation.lookups", "{call}", "Revoked calls that read Redis.", func(s redisstore.Stats) uint64 { return s.Lookups }},
	{"cognitoguard.revocation.round_trips", "{command}", "Redis commands sent for callers.", func(s redisstore.Stats) uint64 { return s.RoundTrips }},
	{"cognitoguard.revocation.messages", "{message}", "Sign-out messages received from pub/sub.", func(s redisstore.Stats) uint64 { return s.Messages }},
	{"cognitoguard.revocation.rebuilds", "{rebuild}", "View resets after a resubscription.", func(s redisstore.Stats) uint64 { return s.Rebuilds }},
	{"cognitoguard.revocation.stale_rejections", "{call}", "Revoked calls failed because the view could be stale.", func(s redisstore.Stats) uint64 { return s.StaleRejections }},
	{"cognitoguard.revocation.unconfirmed", "{write}", "Writes recorded but not confirmed (WaitReplicas, WaitInstances).", func(s redisstore.Stats) uint64 { return s.Unconfirmed }},
	{"cognitoguard.revocation.acks.sent", "{ack}", "Acknowledgements published.", func(s redisstore.Stats) uint64 { return s.AcksSent }},
	{"cognitoguard.revocation.acks.dropped", "{ack}", "Acknowledgements dropped.", func(s redisstore.Stats) uint64 { return s.AcksDropped }},
	{"cognitoguard.revocation.data_losses", "{loss}", "Data losses of Redis detected.", func(s redisstore.Stats) uint64 { return s.DataLosses }},
	{"cognitoguard.revocation.restored", "{signout}", "Sign-outs re-written from the journal after a data loss.", func(s redisstore.Stats) uint64 { return s.Restored }},
}

// redisGauges are the gauges of [redisstore.Stats].
var redisGauges = []struct {
	name, unit, desc string
	get              func(redisstore.Stats) float64
}{
	{"cognitoguard.revocation.view.entries", "{user}", "Users in the local view of the revocation store.",
		func(s redisstore.Stats) float64 { return float64(s.Entries) }},
	{"cognitoguard.revocation.trusted", "1", "1 while the local view answers lookups, else 0 (they fail closed).",
		func(s redisstore.Stats) float64 { return float64(boolInt(s.Trusted)) }},
	{"cognitoguard.revocation.freshness_age", "s", "Age of the last proof that the local view is complete.",
		func(s redisstore.Stats) float64 { return s.FreshnessAge.Seconds() }},
	{"cognitoguard.revocation.evicting", "1", "1 when the last check found a Redis that may evict keys, else 0.",
		func(s redisstore.Stats) float64 { return float64(boolInt(evicting(s.EvictionPolicy))) }},
	{"cognitoguard.revocation.floor", "s", "Unix time at or before which every token is rejected after an unrestored data loss; 0 if none.",
		func(s redisstore.Stats) float64 { return unixSeconds(s.Floor) }},
}

// ObserveRedis registers asynchronous instruments reading r's Stats at
// each collection (with attrs): the gauges
// cognitoguard.revocation.view.entries (users in the local view),
// .trusted (1 while the view answers, else 0: Revoked fails closed),
// .freshness_age (seconds since the last proof that the view is complete),
// .evicting (1 when Redis may evict keys) and .floor (Unix seconds of the
// floor after an unrestored data loss, 0 if none), and one counter per
// counter of [redisstore.Stats] (.lookups, .data_losses, .restored,
// …). The registration is also removed by [Telemetry.Close].
func (t *Telemetry) ObserveRedis(r *redisstore.Store, attrs ...attribute.KeyValue) (metric.Registration, error) {
	m := t.meter
	var errs []error
	gauges := make([]metric.Float64ObservableGauge, len(redisGauges))
	counters := make([]metric.Int64ObservableCounter, len(redisCounters))
	insts := make([]metric.Observable, 0, len(gauges)+len(counters))
	for i, g := range redisGauges {
		var err error
		gauges[i], err = m.Float64ObservableGauge(g.name, metric.WithUnit(g.unit), metric.WithDescription(g.desc))
		errs = append(errs, err)
		insts = append(insts, gauges[i])
	}
	for i, c := range redisCounters {
		var err error
		counters[i], err = m.Int64ObservableCounter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.desc))
		errs = append(errs, err)
		insts = append(insts, counters[i])
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return t.register(func(_ context.Context, o metric.Observer) error {
		st := r.Stats()
		for i, g := range redisGauges {
			o.ObserveFloat64(gauges[i], g.get(st), set)
		}
		for i, c := range redisCounters {
			o.ObserveInt64(counters[i], int64(c.get(st)), set)
		}
		return nil
	}, insts...)
}

// ObserveMemory registers the gauge cognitoguard.revocation.records (the
// records held by an in-process store, expired ones not yet purged
// included), read from m at each collection (with attrs). The
// registration is also removed by [Telemetry.Close].
func (t *Telemetry) ObserveMemory(m *revocation.Memory, attrs ...attribute.KeyValue) (metric.Registration, error) {
	records, err := t.meter.Int64ObservableGauge("cognitoguard.revocation.records",
		metric.WithUnit("{record}"), metric.WithDescription("Records held by the in-process revocation store."))
	if err != nil {
		return nil, err
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return t.register(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(records, int64(m.Len()), set)
		return nil
	}, records)
}

// evicting reports whether an EvictionPolicy found Redis may evict keys:
// anything but "noeviction", "unknown" (trusted) or empty (not checked).
func evicting(policy string) bool {
	return policy != "" && policy != "noeviction" && policy != "unknown"
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

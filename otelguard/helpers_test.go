package otelguard_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/otelguard"
)

// env is a Telemetry wired to a manual metric reader and an in-memory
// span exporter.
type env struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
	tel    *otelguard.Telemetry
}

func newEnv(t *testing.T, cfg otelguard.Config) *env {
	t.Helper()
	e := &env{reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.reader))
	e.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(e.spans))
	t.Cleanup(func() {
		ctx := context.Background()
		mp.Shutdown(ctx)
		e.tp.Shutdown(ctx)
	})
	cfg.MeterProvider, cfg.TracerProvider = mp, e.tp
	tel, err := otelguard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Close() })
	e.tel = tel
	return e
}

// metrics collects the metrics now.
type metrics map[string]metricdata.Aggregation

func (e *env) collect(t *testing.T) metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := e.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	m := metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelguard.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, otelguard.ScopeName)
		}
		for _, x := range sm.Metrics {
			m[x.Name] = x.Data
		}
	}
	return m
}

// set renders attributes as "k=v,k=v" sorted by key.
func set(kv ...attribute.KeyValue) string {
	s := attribute.NewSet(kv...)
	var parts []string
	for it := s.Iter(); it.Next(); {
		a := it.Attribute()
		parts = append(parts, fmt.Sprintf("%s=%s", a.Key, a.Value.Emit()))
	}
	return strings.Join(parts, ",")
}

func setOf(s attribute.Set) string { return set(s.ToSlice()...) }

// ints returns the points of an int64 sum or gauge by attribute set.
func (m metrics) ints(t *testing.T, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	switch d := m[name].(type) {
	case nil:
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out[setOf(p.Attributes)] = p.Value
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out[setOf(p.Attributes)] = p.Value
		}
	default:
		t.Fatalf("%s is a %T", name, d)
	}
	return out
}

// floats returns the points of a float64 gauge by attribute set.
func (m metrics) floats(t *testing.T, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	switch d := m[name].(type) {
	case nil:
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			out[setOf(p.Attributes)] = p.Value
		}
	default:
		t.Fatalf("%s is a %T", name, d)
	}
	return out
}

// hist returns the points of a float64 histogram by attribute set.
func (m metrics) hist(t *testing.T, name string) map[string]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	out := map[string]metricdata.HistogramDataPoint[float64]{}
	d, ok := m[name].(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T", name, m[name])
	}
	for _, p := range d.DataPoints {
		out[setOf(p.Attributes)] = p
	}
	return out
}

// equalPoints reports an error unless got and want hold the same points.
func equalPoints[V comparable](t *testing.T, name string, got, want map[string]V) {
	t.Helper()
	keys := make([]string, 0, len(got)+len(want))
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		if g != w || gok != wok {
			t.Errorf("%s{%s} = %v (present %v), want %v (present %v)", name, k, g, gok, w, wok)
		}
	}
}

// newPool starts a fake pool with alice (admin), bob and carol (admin).
func newPool(t testing.TB) *cognitotest.Pool {
	t.Helper()
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin"}})
	pool.AddUser(cognitotest.User{Username: "bob"})
	pool.AddUser(cognitotest.User{Username: "carol", Groups: []string{"admin"}})
	return pool
}

// newVerifier returns a Verifier of pool reporting to tel.
func newVerifier(t *testing.T, pool *cognitotest.Pool, tel *otelguard.Telemetry, cfg cognitoguard.Config) *cognitoguard.Verifier {
	t.Helper()
	cfg.OnVerify = tel.OnVerify
	v, err := cognitoguard.New([]cognitoguard.Pool{{
		UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()},
	}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// sub returns the sub of a user of pool.
func sub(t *testing.T, pool *cognitotest.Pool, name string) string {
	t.Helper()
	u, ok := pool.User(name)
	if !ok {
		t.Fatalf("no user %q", name)
	}
	return u.Sub
}

// checkGoroutines fails the test if goroutines it started outlive it.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// failJWKS makes pool's JWKS endpoint answer status.
func failJWKS(pool *cognitotest.Pool, status int) {
	pool.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", status)
	}))
}

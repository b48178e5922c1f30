package otelguard_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/otelguard"
)

// BenchmarkVerifyCached is a cached token's Verify without a hook, with
// OnVerify recording metrics, and with a span under a sampled request
// span too: the cost otelguard adds on the hot path.
func BenchmarkVerifyCached(b *testing.B) {
	pool := newPool(b)
	token := pool.AccessToken("alice")
	for _, bc := range []struct {
		name string
		hook bool
		span bool
	}{{"no hook", false, false}, {"metrics", true, false}, {"metrics and span", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			tp := sdktrace.NewTracerProvider() // sampled, recording, exported nowhere
			b.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
			tel, err := otelguard.New(otelguard.Config{MeterProvider: mp, TracerProvider: tp})
			if err != nil {
				b.Fatal(err)
			}
			cfg := cognitoguard.Config{}
			if bc.hook {
				cfg.OnVerify = tel.OnVerify
			}
			v, err := cognitoguard.New([]cognitoguard.Pool{{
				UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()},
			}}, cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { v.Close() })
			ctx := context.Background()
			if bc.span {
				c, s := tp.Tracer("bench").Start(ctx, "request")
				b.Cleanup(func() { s.End() })
				ctx = c
			}
			if _, err := v.Verify(ctx, token); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOnVerify is the hook alone, for an accepted and a rejected
// verification.
func BenchmarkOnVerify(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { mp.Shutdown(context.Background()) })
	tel, err := otelguard.New(otelguard.Config{MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	ok := cognitoguard.VerifyEvent{Claims: &cognitoguard.Claims{TokenUse: cognitoguard.TokenUseAccess}, Cached: true, Duration: time.Microsecond}
	bad := cognitoguard.VerifyEvent{Err: &cognitoguard.Error{Kind: cognitoguard.ErrExpired}, Duration: 40 * time.Microsecond}
	for name, ev := range map[string]cognitoguard.VerifyEvent{"accepted": ok, "expired": bad} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				tel.OnVerify(ctx, ev)
			}
		})
	}
}

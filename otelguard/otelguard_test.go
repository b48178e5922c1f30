package otelguard_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/otelguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

var (
	accepted     = otelguard.AttrOutcome.String("accepted")
	invalid      = otelguard.AttrOutcome.String("invalid_token")
	verify       = otelguard.AttrOperation.String("verify")
	authenticate = otelguard.AttrOperation.String("authenticate")
	access       = otelguard.AttrTokenUse.String("access")
)

func why(r string) attribute.KeyValue { return otelguard.AttrReason.String(r) }

// TestVerifications runs real verifications of every outcome through one
// Telemetry and reads back the counters and the histogram.
func TestVerifications(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t, otelguard.Config{})
	pool := newPool(t)
	store := revocation.NewMemory(revocation.MemoryConfig{})
	v := newVerifier(t, pool, e.tel, cognitoguard.Config{Revocation: store, RequiredGroups: []string{"admin"}})
	down := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(down.Close)
	down.AddUser(cognitotest.User{Username: "dave", Groups: []string{"admin"}})
	failJWKS(down, http.StatusInternalServerError)
	vDown := newVerifier(t, down, e.tel, cognitoguard.Config{})

	ctx := t.Context()
	carol := pool.AccessToken("carol")
	if err := store.RevokeUser(ctx, pool.PoolID(), sub(t, pool, "carol"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	alice := pool.AccessToken("alice")
	for _, c := range []struct {
		v     *cognitoguard.Verifier
		token string
		class error
	}{
		{v, alice, nil},
		{v, alice, nil}, // cached
		{v, alice, nil}, // cached
		{v, "", cognitoguard.ErrNoToken},
		{v, "not.a.jwt", cognitoguard.ErrInvalidToken},
		{v, pool.IDToken("alice"), cognitoguard.ErrInvalidToken},
		{v, pool.AccessToken("alice", cognitotest.WithExpiry(time.Now().Add(-time.Minute))), cognitoguard.ErrInvalidToken},
		{v, pool.AccessToken("bob"), cognitoguard.ErrInsufficientScope},
		{v, carol, cognitoguard.ErrInvalidToken},
		{vDown, down.AccessToken("dave"), cognitoguard.ErrUnavailable},
	} {
		if _, err := c.v.Verify(ctx, c.token); cognitoguard.Class(err) != c.class {
			t.Fatalf("Verify: %v, want class %v", err, c.class)
		}
	}
	if _, err := v.Authenticate(ctx, pool.AccessToken("bob")); err != nil {
		t.Fatal(err)
	}

	m := e.collect(t)
	equalPoints(t, "cognitoguard.verifications", m.ints(t, "cognitoguard.verifications"), map[string]int64{
		set(accepted, verify, access):                                   3,
		set(otelguard.AttrOutcome.String("no_token"), verify):           1,
		set(invalid, verify, why("malformed")):                          1,
		set(invalid, verify, why("token_use")):                          1,
		set(invalid, verify, why("expired")):                            1,
		set(invalid, verify, why("revoked")):                            1,
		set(otelguard.AttrOutcome.String("insufficient_scope"), verify): 1,
		set(otelguard.AttrOutcome.String("unavailable"), verify):        1,
		set(accepted, authenticate, access):                             1,
	})
	equalPoints(t, "cognitoguard.cache.hits", m.ints(t, "cognitoguard.cache.hits"), map[string]int64{"": 2})

	h := m.hist(t, "cognitoguard.verification.duration")
	want := map[string]uint64{
		set(accepted, verify, otelguard.AttrCached.Bool(false)):                                           1,
		set(accepted, verify, otelguard.AttrCached.Bool(true)):                                            2,
		set(otelguard.AttrOutcome.String("no_token"), verify, otelguard.AttrCached.Bool(false)):           1,
		set(invalid, verify, otelguard.AttrCached.Bool(false)):                                            4,
		set(otelguard.AttrOutcome.String("insufficient_scope"), verify, otelguard.AttrCached.Bool(false)): 1,
		set(otelguard.AttrOutcome.String("unavailable"), verify, otelguard.AttrCached.Bool(false)):        1,
		set(accepted, authenticate, otelguard.AttrCached.Bool(false)):                                     1,
	}
	got := map[string]uint64{}
	for k, p := range h {
		got[k] = p.Count
		if p.Sum <= 0 || p.Sum > 60 {
			t.Errorf("duration{%s}: sum %v s, want a real duration", k, p.Sum)
		}
		if len(p.Bounds) == 0 || p.Bounds[0] != 0.00001 {
			t.Errorf("duration{%s}: bounds %v, want the microsecond buckets", k, p.Bounds)
		}
	}
	equalPoints(t, "cognitoguard.verification.duration count", got, want)
}

// TestSpans: a verification under a recording span gets a child span with
// the outcome and never the token or (by default) the sub; without a
// recording span, none.
func TestSpans(t *testing.T) {
	for _, recordSub := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "RecordSubject"}[recordSub], func(t *testing.T) {
			e := newEnv(t, otelguard.Config{RecordSubject: recordSub})
			pool := newPool(t)
			v := newVerifier(t, pool, e.tel, cognitoguard.Config{})
			alice, bobExpired := pool.AccessToken("alice"), pool.AccessToken("bob", cognitotest.WithExpiry(time.Now().Add(-time.Minute)))

			if _, err := v.Verify(t.Context(), alice); err != nil {
				t.Fatal(err)
			}
			if n := len(e.spans.GetSpans()); n != 0 {
				t.Fatalf("%d spans without a parent span, want 0", n)
			}
			ctx, parent := e.tp.Tracer("test").Start(t.Context(), "GET /me")
			t0 := time.Now()
			if _, err := v.Verify(ctx, alice); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(ctx, bobExpired); !errors.Is(err, cognitoguard.ErrExpired) {
				t.Fatalf("Verify: %v, want expired", err)
			}
			t1 := time.Now()
			parent.End()

			spans := e.spans.GetSpans()
			if len(spans) != 3 {
				t.Fatalf("%d spans, want 2 verifications and the parent", len(spans))
			}
			ok, bad := spans[0], spans[1]
			for _, s := range []tracetest.SpanStub{ok, bad} {
				if s.Name != "cognitoguard.Verify" || s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanKind != trace.SpanKindInternal {
					t.Errorf("span %q parent %v kind %v, want cognitoguard.Verify under the request", s.Name, s.Parent.SpanID(), s.SpanKind)
				}
				if s.StartTime.Before(t0.Add(-time.Second)) || s.EndTime.After(t1.Add(time.Second)) || s.EndTime.Before(s.StartTime) {
					t.Errorf("span %v..%v outside the call %v..%v", s.StartTime, s.EndTime, t0, t1)
				}
				for _, a := range s.Attributes {
					val := a.Value.Emit()
					for _, tok := range []string{alice, bobExpired} {
						for _, part := range strings.Split(tok, ".") {
							if strings.Contains(val, part) {
								t.Errorf("attribute %s carries a part of a token", a.Key)
							}
						}
					}
				}
			}
			wantOK := map[attribute.Key]string{
				otelguard.AttrOutcome: "accepted", otelguard.AttrCached: "true", otelguard.AttrTokenUse: "access",
				otelguard.AttrPool: pool.PoolID(), otelguard.AttrIssuer: pool.Issuer(),
			}
			wantBad := map[attribute.Key]string{otelguard.AttrOutcome: "invalid_token", otelguard.AttrReason: "expired", otelguard.AttrCached: "false"}
			if recordSub {
				wantOK[otelguard.AttrSubject] = sub(t, pool, "alice")
				wantBad[otelguard.AttrSubject] = sub(t, pool, "bob")
			}
			checkAttrs(t, ok, wantOK)
			checkAttrs(t, bad, wantBad)
			if ok.Status.Code != codes.Unset || bad.Status.Code != codes.Unset {
				t.Errorf("statuses %v, %v: a client's bad token is no error of the service", ok.Status, bad.Status)
			}
		})
	}
}

// TestUnavailableSpan: a verification that could not be made is an error.
func TestUnavailableSpan(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	pool := newPool(t)
	failJWKS(pool, http.StatusServiceUnavailable)
	v := newVerifier(t, pool, e.tel, cognitoguard.Config{})
	ctx, parent := e.tp.Tracer("test").Start(t.Context(), "GET /me")
	if _, err := v.Authenticate(ctx, pool.AccessToken("alice")); !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("Authenticate: %v, want unavailable", err)
	}
	parent.End()
	s := e.spans.GetSpans()[0]
	if s.Name != "cognitoguard.Authenticate" || s.Status.Code != codes.Error || s.Status.Description != "verification unavailable" {
		t.Errorf("span %q status %+v, want cognitoguard.Authenticate with an Error status", s.Name, s.Status)
	}
	checkAttrs(t, s, map[attribute.Key]string{otelguard.AttrOutcome: "unavailable", otelguard.AttrCached: "false"})
}

// checkAttrs fails unless s has exactly the attributes want.
func checkAttrs(t *testing.T, s tracetest.SpanStub, want map[attribute.Key]string) {
	t.Helper()
	got := map[attribute.Key]string{}
	for _, a := range s.Attributes {
		got[a.Key] = a.Value.Emit()
	}
	if len(got) != len(want) {
		t.Errorf("span %s attributes %v, want %v", s.Name, got, want)
		return
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("span %s attributes %v, want %v", s.Name, got, want)
			return
		}
	}
}

// TestReasons: every sentinel, as the Verifier returns it (*Error) or
// wrapped bare, is counted under its outcome and reason; an unknown error
// is unavailable, never a client's mistake nor success.
func TestReasons(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	want := map[string]int64{}
	for _, c := range []struct {
		kind    error
		outcome string
		reason  string
	}{
		{cognitoguard.ErrNoToken, "no_token", ""},
		{cognitoguard.ErrInvalidToken, "invalid_token", ""},
		{cognitoguard.ErrMalformed, "invalid_token", "malformed"},
		{cognitoguard.ErrUnknownKey, "invalid_token", "unknown_key"},
		{cognitoguard.ErrSignature, "invalid_token", "signature"},
		{cognitoguard.ErrIssuer, "invalid_token", "issuer"},
		{cognitoguard.ErrTokenUse, "invalid_token", "token_use"},
		{cognitoguard.ErrClient, "invalid_token", "client"},
		{cognitoguard.ErrExpired, "invalid_token", "expired"},
		{cognitoguard.ErrNotYetValid, "invalid_token", "not_yet_valid"},
		{cognitoguard.ErrRevoked, "invalid_token", "revoked"},
		{cognitoguard.ErrInsufficientScope, "insufficient_scope", ""},
		{cognitoguard.ErrUnavailable, "unavailable", ""},
	} {
		for _, err := range []error{&cognitoguard.Error{Kind: c.kind}, fmt.Errorf("wrapped: %w", c.kind)} {
			e.tel.OnVerify(t.Context(), cognitoguard.VerifyEvent{Err: err, Authenticate: true})
		}
		kv := []attribute.KeyValue{otelguard.AttrOutcome.String(c.outcome), authenticate}
		if c.reason != "" {
			kv = append(kv, why(c.reason))
		}
		want[set(kv...)] += 2
	}
	e.tel.OnVerify(t.Context(), cognitoguard.VerifyEvent{Err: errors.New("boom"), Authenticate: true})
	want[set(otelguard.AttrOutcome.String("unavailable"), authenticate)]++
	equalPoints(t, "cognitoguard.verifications", e.collect(t).ints(t, "cognitoguard.verifications"), want)
}

// TestNoSpanUnsampled: a request span that is not recorded (sampled out)
// gets no verification span either.
func TestNoSpanUnsampled(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	pool := newPool(t)
	v := newVerifier(t, pool, e.tel, cognitoguard.Config{})
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSyncer(e.spans))
	t.Cleanup(func() { unsampled.Shutdown(context.Background()) })
	ctx, parent := unsampled.Tracer("test").Start(t.Context(), "GET /me")
	if _, err := v.Verify(ctx, pool.AccessToken("alice")); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if n := len(e.spans.GetSpans()); n != 0 {
		t.Errorf("%d spans under an unsampled request, want 0", n)
	}
	if got := e.collect(t).ints(t, "cognitoguard.verifications")[set(accepted, verify, access)]; got != 1 {
		t.Errorf("verifications = %d, want 1: metrics do not depend on sampling", got)
	}
}

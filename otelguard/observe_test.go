package otelguard_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/otelguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// TestObserveVerifier reads the key fetchers of two Verifiers, one whose
// JWKS endpoint fails, then unregisters one of them.
func TestObserveVerifier(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t, otelguard.Config{})
	pool := newPool(t)
	v := newVerifier(t, pool, e.tel, cognitoguard.Config{})
	down := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(down.Close)
	down.AddUser(cognitotest.User{Username: "dave"})
	failJWKS(down, http.StatusInternalServerError)
	vDown := newVerifier(t, down, e.tel, cognitoguard.Config{})
	app := attribute.String("app", "a")
	if _, err := e.tel.ObserveVerifier(v, app); err != nil {
		t.Fatal(err)
	}
	regDown, err := e.tel.ObserveVerifier(vDown, app)
	if err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	for range 3 {
		if _, err := v.Verify(t.Context(), pool.AccessToken("alice")); err != nil {
			t.Fatal(err)
		}
	}
	// A new key ID: one more fetch (the cooldown allows the first).
	if _, err := v.Verify(t.Context(), pool.AccessToken("alice", cognitotest.WithHeader(map[string]any{"kid": "rotated"}))); !errors.Is(err, cognitoguard.ErrUnknownKey) {
		t.Fatalf("Verify with an unknown kid: %v", err)
	}
	if _, err := vDown.Verify(t.Context(), down.AccessToken("dave")); !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Fatalf("Verify on the failing pool: %v", err)
	}

	m := e.collect(t)
	up, dn := set(otelguard.AttrIssuer.String(pool.Issuer()), app), set(otelguard.AttrIssuer.String(down.Issuer()), app)
	st, stDown := v.KeyStats()[pool.Issuer()], vDown.KeyStats()[down.Issuer()]
	if st.Fetches < 1 || st.Misses < 2 || stDown.Failures < 1 {
		t.Fatalf("KeyStats %+v, %+v: the scenario did not fetch as planned", st, stDown)
	}
	equalPoints(t, "cognitoguard.jwks.fetches", m.ints(t, "cognitoguard.jwks.fetches"),
		map[string]int64{up: int64(st.Fetches), dn: int64(stDown.Fetches)})
	equalPoints(t, "cognitoguard.jwks.fetch_failures", m.ints(t, "cognitoguard.jwks.fetch_failures"),
		map[string]int64{up: 0, dn: int64(stDown.Failures)})
	equalPoints(t, "cognitoguard.jwks.misses", m.ints(t, "cognitoguard.jwks.misses"),
		map[string]int64{up: int64(st.Misses), dn: int64(stDown.Misses)})
	equalPoints(t, "cognitoguard.jwks.keys", m.ints(t, "cognitoguard.jwks.keys"), map[string]int64{up: 2, dn: 0})
	ages := m.floats(t, "cognitoguard.jwks.age")
	if _, ok := ages[dn]; ok || len(ages) != 1 {
		t.Errorf("jwks.age %v: want the working issuer's only", ages)
	}
	if age := ages[up]; age < 0 || age > time.Since(before).Seconds() {
		t.Errorf("jwks.age = %v s, want at most %v s", age, time.Since(before).Seconds())
	}

	if err := regDown.Unregister(); err != nil {
		t.Fatal(err)
	}
	m = e.collect(t)
	if got := m.ints(t, "cognitoguard.jwks.keys"); len(got) != 1 || got[up] != 2 {
		t.Errorf("jwks.keys after Unregister = %v, want only %s", got, up)
	}
}

// TestObserveMemoryAndRecorder counts sign-outs through the Recorder and
// reads the in-process store's size.
func TestObserveMemoryAndRecorder(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	store := revocation.NewMemory(revocation.MemoryConfig{})
	if _, err := e.tel.ObserveMemory(store); err != nil {
		t.Fatal(err)
	}
	rec := e.tel.Recorder(store)
	ctx, poolID, now := t.Context(), "eu-west-1_AbC", time.Now()
	for _, err := range []error{
		rec.RevokeUser(ctx, poolID, "sub-1", now),
		rec.RevokeUser(ctx, poolID, "sub-2", now),
		rec.RevokeSession(ctx, poolID, "sub-1", "origin-1", now),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.RevokeUser(ctx, poolID, "", now); err == nil {
		t.Fatal("RevokeUser with an empty sub succeeded")
	}
	if err := rec.RevokeSession(ctx, poolID, "sub-1", "", now); err == nil {
		t.Fatal("RevokeSession with an empty origin_jti succeeded")
	}
	if at, ok, err := rec.SignedOutAt(ctx, poolID, "sub-2"); err != nil || !ok || !at.Equal(now.Truncate(time.Millisecond)) {
		t.Errorf("SignedOutAt through the Recorder = %v, %v, %v; want %v", at, ok, err, now.Truncate(time.Millisecond))
	}

	m := e.collect(t)
	scope, outcome := otelguard.AttrSignOutScope.String, otelguard.AttrSignOutOutcome.String
	equalPoints(t, "cognitoguard.signouts", m.ints(t, "cognitoguard.signouts"), map[string]int64{
		set(scope("user"), outcome("recorded")):    2,
		set(scope("session"), outcome("recorded")): 1,
		set(scope("user"), outcome("failed")):      1,
		set(scope("session"), outcome("failed")):   1,
	})
	equalPoints(t, "cognitoguard.revocation.records", m.ints(t, "cognitoguard.revocation.records"), map[string]int64{"": 3})
}

// TestClose unregisters every callback; Close is idempotent and the
// synchronous instruments keep counting.
func TestClose(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	pool := newPool(t)
	v := newVerifier(t, pool, e.tel, cognitoguard.Config{})
	reg, err := e.tel.ObserveVerifier(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.tel.ObserveMemory(revocation.NewMemory(revocation.MemoryConfig{})); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), pool.AccessToken("alice")); err != nil {
		t.Fatal(err)
	}
	if m := e.collect(t); len(m.ints(t, "cognitoguard.jwks.keys")) != 1 || len(m.ints(t, "cognitoguard.revocation.records")) != 1 {
		t.Fatal("the observed instruments report nothing before Close")
	}
	if err := e.tel.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.tel.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := reg.Unregister(); err != nil {
		t.Fatalf("Unregister after Close: %v", err)
	}
	if _, err := v.Verify(t.Context(), pool.AccessToken("alice")); err != nil {
		t.Fatal(err)
	}
	m := e.collect(t)
	if got := m.ints(t, "cognitoguard.jwks.keys"); len(got) != 0 {
		t.Errorf("jwks.keys after Close = %v, want nothing", got)
	}
	if got := m.ints(t, "cognitoguard.revocation.records"); len(got) != 0 {
		t.Errorf("revocation.records after Close = %v, want nothing", got)
	}
	if got := m.ints(t, "cognitoguard.verifications")[set(accepted, verify, access)]; got != 2 {
		t.Errorf("verifications after Close = %d, want 2", got)
	}
}

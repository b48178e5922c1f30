package otelguard_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/otelguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// TestSignOutHelper counts the sign-outs of the real sign-out helper,
// given the Recorder in place of the store, against the fake pool's API.
func TestSignOutHelper(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	pool := newPool(t)
	store := revocation.NewMemory(revocation.MemoryConfig{})
	v := newVerifier(t, pool, e.tel, cognitoguard.Config{Revocation: store})
	so, err := signout.New(pool.Client(), v, e.tel.Recorder(store), signout.Config{UserPoolID: pool.PoolID()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	alice := pool.SignIn("alice")
	if err := so.GlobalSignOut(ctx, alice.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := so.AdminSignOut(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	carol := pool.SignIn("carol")
	if err := so.RevokeSession(ctx, carol.AccessToken, carol.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, alice.AccessToken); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Fatalf("Verify after the sign-out: %v, want revoked", err)
	}
	if err := so.RevokeClient(ctx, pool.ClientID()); err != nil {
		t.Fatal(err)
	}

	m := e.collect(t)
	scope, outcome := otelguard.AttrSignOutScope.String, otelguard.AttrSignOutOutcome.String
	equalPoints(t, "cognitoguard.signouts", m.ints(t, "cognitoguard.signouts"), map[string]int64{
		set(scope("user"), outcome("recorded")):    2,
		set(scope("session"), outcome("recorded")): 1,
		set(scope("client"), outcome("recorded")):  1,
	})
	if got := m.ints(t, "cognitoguard.verifications")[set(invalid, verify, why("revoked"))]; got != 1 {
		t.Errorf("revoked verifications = %d, want 1", got)
	}
}

// TestCognitoCalls counts the Cognito calls of the real sign-out helper,
// given the wrapped client, by operation and outcome: the calls that
// succeed and those Cognito refuses (throttled, user not found).
func TestCognitoCalls(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	pool := newPool(t)
	store := revocation.NewMemory(revocation.MemoryConfig{})
	v := newVerifier(t, pool, e.tel, cognitoguard.Config{Revocation: store})
	so, err := signout.New(e.tel.Cognito(pool.Client()), v, store, signout.Config{UserPoolID: pool.PoolID()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := so.GlobalSignOut(ctx, pool.SignIn("alice").AccessToken); err != nil {
		t.Fatal(err)
	}
	pool.FailNext("GlobalSignOut", "TooManyRequestsException", 0, 1)
	if err := so.GlobalSignOut(ctx, pool.SignIn("carol").AccessToken); !errors.Is(err, signout.ErrTooManyRequests) {
		t.Fatalf("throttled GlobalSignOut: %v", err)
	}
	if _, err := so.AdminSignOut(ctx, "nobody"); !errors.Is(err, signout.ErrUserNotFound) {
		t.Fatalf("AdminSignOut of an unknown user: %v", err)
	}

	m := e.collect(t)
	op, outcome := otelguard.AttrCognitoOperation.String, otelguard.AttrCognitoOutcome.String
	equalPoints(t, "cognitoguard.cognito.calls", m.ints(t, "cognitoguard.cognito.calls"), map[string]int64{
		set(op("GlobalSignOut"), outcome("ok")):                1,
		set(op("GlobalSignOut"), outcome("too_many_requests")): 1,
		set(op("AdminGetUser"), outcome("user_not_found")):     1,
	})
}

// userOnly is a Recorder that cannot record app-client revocations.
type userOnly struct{ signout.Recorder }

// TestRecorderClientWithoutClientRecorder: wrapping a Recorder that
// cannot revoke app clients keeps that answer typed.
func TestRecorderClientWithoutClientRecorder(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	rec := e.tel.Recorder(userOnly{revocation.NewMemory(revocation.MemoryConfig{})})
	cr, ok := rec.(signout.ClientRecorder)
	if !ok {
		t.Fatal("the wrapped Recorder is no ClientRecorder")
	}
	if err := cr.RevokeClient(t.Context(), "us-east-1_x", "app", time.Now()); !errors.Is(err, signout.ErrNoClientRecorder) {
		t.Errorf("RevokeClient = %v, want signout.ErrNoClientRecorder", err)
	}
}

package otelguard_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/otelguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

func eventBody(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "cloudtrail", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEvents counts a consumer's messages by outcome and event name and
// records their lag.
func TestEvents(t *testing.T) {
	e := newEnv(t, otelguard.Config{})
	hook, err := e.tel.Events()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 6, 1, 12, 0, 30, 0, time.UTC) }
	store := revocation.NewMemory(revocation.MemoryConfig{Now: now})
	c, err := events.New(store, []events.Pool{{ID: "us-east-1_AbCdEf123"}}, events.Config{Now: now, OnEvent: hook})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.tel.ObserveEvents(c); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, f := range []string{"GlobalSignOut", "AdminDeleteUser", "GlobalSignOut", "InitiateAuth", "GlobalSignOut-failed", "ChangePassword", "AdminUserGlobalSignOut-otherpool"} {
		if _, err := c.Handle(ctx, eventBody(t, f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if _, err := c.Handle(ctx, []byte("{")); err == nil {
		t.Fatal("malformed message handled")
	}
	m := e.collect(t)
	outcome, name := otelguard.AttrEventOutcome.String, otelguard.AttrEventName.String
	equalPoints(t, "cognitoguard.events", m.ints(t, "cognitoguard.events"), map[string]int64{
		set(outcome("recorded"), name("GlobalSignOut")):                   2,
		set(outcome("recorded"), name("AdminDeleteUser")):                 1,
		set(outcome("not_signout"), name("other")):                        1,
		set(outcome("failed_call"), name("GlobalSignOut")):                1,
		set(outcome("policy_off"), name("ChangePassword")):                1,
		set(outcome("unconfigured_pool"), name("AdminUserGlobalSignOut")): 1,
		set(outcome("malformed"), name("none")):                           1,
	})
	lag := m.hist(t, "cognitoguard.events.lag")[set(outcome("recorded"))]
	if lag.Count != 3 || lag.Sum != 90 {
		t.Errorf("lag of recorded events: count %d, sum %v; want 3, 90 (30 s each)", lag.Count, lag.Sum)
	}
	if got := m.ints(t, "cognitoguard.events.unapplied")[set()]; got != 0 {
		t.Errorf("unapplied = %d, want 0", got)
	}
}

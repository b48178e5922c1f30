//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// TestBackfillCommand: with no consumer running, cognitoguard-events
// backfill records the sign-outs of the fake pool's CloudTrail history
// (the real SDK against its throttled LookupEvents), reports them all as
// missed, and a second run finds none missed.
func TestBackfillCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds and runs processes")
	}
	w := newWorld(t)
	p := cognitotest.NewPool(cognitotest.Config{PoolID: poolA})
	t.Cleanup(p.Close)
	var subs []string
	for i := range 3 {
		u := p.AddUser(cognitotest.User{Username: fmt.Sprintf("u%d", i)})
		subs = append(subs, u.Sub)
		if _, err := p.Client().AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{
			UserPoolId: aws.String(poolA), Username: aws.String(u.Username)}); err != nil {
			t.Fatal(err)
		}
	}
	bin, _ := binaries(t)
	run := func() awsevents.BackfillStats {
		t.Helper()
		b := startProc(t, env, bin, "backfill", "-user-pool-id", poolA, "-redis-addr", w.redisAddr,
			"-cloudtrail-endpoint", p.URL(), "-since", "1h")
		select {
		case <-b.exited:
		case <-time.After(60 * time.Second):
			t.Fatal("backfill did not return")
		}
		var st awsevents.BackfillStats
		lines := b.out.String()
		if code := b.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("backfill: exit %d\n%s", code, lines)
		}
		for l := range strings.Lines(lines) {
			if json.Unmarshal([]byte(l), &st) == nil && st.Requests > 0 {
				return st
			}
		}
		t.Fatalf("no stats in the output:\n%s", lines)
		return st
	}
	if st := run(); st.Recorded != 3 || st.Missed != 3 {
		t.Errorf("first backfill = %+v, want 3 recorded, 3 missed", st)
	}
	for _, sub := range subs {
		if _, ok := w.signedOutAt(poolA, sub); !ok {
			t.Errorf("%s not recorded", sub)
		}
	}
	if st := run(); st.Recorded != 3 || st.Missed != 0 {
		t.Errorf("second backfill = %+v, want 3 recorded, none missed", st)
	}
}

// TestRunReconciles: sign-outs the queue never received (the rule missed
// them) are recorded by run's first reconciliation pass (first
// deployment: over the record TTL), which logs them as missed.
func TestRunReconciles(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds and runs processes")
	}
	w := newWorld(t)
	p := cognitotest.NewPool(cognitotest.Config{PoolID: poolA}) // no sink: nothing reaches the queue
	t.Cleanup(p.Close)
	u := p.AddUser(cognitotest.User{Username: "missed"})
	if _, err := p.Client().AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{
		UserPoolId: aws.String(poolA), Username: aws.String(u.Username)}); err != nil {
		t.Fatal(err)
	}
	w.startConsumer([]string{poolA}, "-reconcile-every", "1h", "-cloudtrail-endpoint", p.URL())
	waitFor(t, 60*time.Second, "the reconciliation did not record the missed sign-out", func() bool {
		_, ok := w.signedOutAt(poolA, u.Sub)
		return ok
	})
	waitFor(t, 30*time.Second, "no reconcile pass logged with the missed event", func() bool {
		return strings.Contains(w.consumer.out.String(), `"msg":"awsevents: reconcile pass"`) &&
			strings.Contains(w.consumer.out.String(), `"missed":1`)
	})
	w.stopConsumer()
}

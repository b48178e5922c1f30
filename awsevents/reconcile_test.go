package awsevents_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// TestReconciler: one pass at a time across consumers (the lock); the
// first pass (first deployment) re-records the sign-outs the queue
// missed and counts them; the next finds none missed; a pass records
// where it ended.
func TestReconciler(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: three paced backfill passes")
	}
	const id = "us-east-1_Reconcile"
	p, subs := backfillPool(t, id, 3)
	addr, _ := redistest.Server(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	store := revocation.NewMemory(revocation.MemoryConfig{})
	b := newBackfill(t, p, id, store)
	r, err := awsevents.NewReconciler(b, client, awsevents.ReconcileConfig{Key: "rc"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	other, _ := awsevents.NewLock(client, "rc:lock", time.Minute)
	held, err := other.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, ran, err := r.Once(ctx); ran || err != nil || st.Requests != 0 {
		t.Fatalf("Once while another consumer reconciles = %+v, %v, %v; want no pass", st, ran, err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}

	st, ran, err := r.Once(ctx)
	if !ran || err != nil || st.Recorded != len(subs) || st.Missed != len(subs) {
		t.Fatalf("first pass = %+v, %v, %v; want %d recorded and missed", st, ran, err, len(subs))
	}
	for _, sub := range subs {
		if _, ok, _ := store.SignedOutAt(ctx, id, sub); !ok {
			t.Errorf("%s not recorded", sub)
		}
	}
	if n, err := client.Exists(ctx, "rc:done").Result(); err != nil || n != 1 {
		t.Errorf("the end of the pass was not recorded: %d, %v", n, err)
	}
	if n, _ := client.Exists(ctx, "rc:lock").Result(); n != 0 {
		t.Error("the lock was not released")
	}
	st, ran, err = r.Once(ctx)
	if !ran || err != nil || st.Recorded != len(subs) || st.Missed != 0 {
		t.Errorf("second pass = %+v, %v, %v; want %d recorded, none missed", st, ran, err, len(subs))
	}
}

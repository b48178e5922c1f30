package events_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// countingQueue counts the calls to a queue.
type countingQueue struct {
	events.Queue
	mu                         sync.Mutex
	receives, deletes, extends int
}

func (q *countingQueue) Receive(ctx context.Context) ([]events.Message, error) {
	q.mu.Lock()
	q.receives++
	q.mu.Unlock()
	return q.Queue.Receive(ctx)
}

func (q *countingQueue) Delete(ctx context.Context, m events.Message) error {
	q.mu.Lock()
	q.deletes++
	q.mu.Unlock()
	return q.Queue.Delete(ctx, m)
}

func (q *countingQueue) ExtendVisibility(ctx context.Context, m events.Message, d time.Duration) error {
	q.mu.Lock()
	q.extends++
	q.mu.Unlock()
	return q.Queue.ExtendVisibility(ctx, m, d)
}

func (q *countingQueue) counts() (int, int, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.receives, q.deletes, q.extends
}

// bubbleNow is a clock for a synctest bubble (which starts in 2000) that
// reads eventTime + 2s at the bubble's start.
func bubbleNow() func() time.Time {
	offset := time.Until(eventTime.Add(2 * time.Second))
	return func() time.Time { return time.Now().Add(offset) }
}

// run starts c.Run on q and returns a function that stops it and checks
// that it returned.
func run(t *testing.T, c *events.Consumer, q events.Queue) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, q) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func send(t *testing.T, q *events.MemQueue, bodies ...[]byte) {
	t.Helper()
	for _, b := range bodies {
		if _, err := q.Send(b); err != nil {
			t.Fatal(err)
		}
	}
}

// batchQueue counts batch deletions.
type batchQueue struct {
	*events.MemQueue
	mu      sync.Mutex
	batches int
}

func (q *batchQueue) DeleteBatch(ctx context.Context, ms []events.Message) error {
	q.mu.Lock()
	q.batches++
	q.mu.Unlock()
	return q.MemQueue.DeleteBatch(ctx, ms)
}

func TestRunRecordsAndDeletes(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(map[bool]string{false: "one by one", true: "batched"}[batched], func(t *testing.T) { testRunRecordsAndDeletes(t, batched) })
	}
}

func testRunRecordsAndDeletes(t *testing.T, batched bool) {
	synctest.Test(t, func(t *testing.T) {
		store := revocation.NewMemory(revocation.MemoryConfig{Now: bubbleNow()})
		mq := events.NewMemQueue(events.MemQueueConfig{Visibility: time.Second, Wait: time.Second})
		var q events.Queue = &countingQueue{Queue: mq}
		bq := &batchQueue{MemQueue: mq}
		if batched {
			q = bq
		}
		c, err := events.New(store, testPools, events.Config{Now: bubbleNow(), Visibility: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		send(t, mq, testdata(t, "AdminDisableUser"), testdata(t, "InitiateAuth"),
			testdata(t, "AdminDisableUser"), testdata(t, "GlobalSignOut-failed")) // a duplicate too
		stop := run(t, c, q)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if n := mq.Len(); n != 0 {
			t.Errorf("%d messages left", n)
		}
		at, ok, err := store.SignedOutAt(t.Context(), testPool, testSub)
		if err != nil || !ok || !at.Equal(eventTime) {
			t.Errorf("SignedOutAt = %v, %v, %v; want %v", at, ok, err, eventTime)
		}
		if _, ok, _ := store.SignedOutAt(t.Context(), secondPool, testSub); ok {
			t.Error("recorded under a pool the event does not name")
		}
		if batched && bq.batches != 1 {
			t.Errorf("%d batch deletions, want 1", bq.batches)
		}
		if cq, ok := q.(*countingQueue); ok {
			if _, deletes, _ := cq.counts(); deletes != 4 {
				t.Errorf("%d deletions, want 4", deletes)
			}
		}
		stop()
	})
}

func TestRunStoreOutageHoldsMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: true}
		var logs syncbuf.Buffer
		mq := events.NewMemQueue(events.MemQueueConfig{Visibility: time.Second, Wait: time.Second, MaxReceiveCount: 3})
		q := &countingQueue{Queue: mq}
		c, err := events.New(rec, testPools, events.Config{
			Now: bubbleNow(), Visibility: time.Second,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		send(t, mq, testdata(t, "AdminDeleteUser"), testdata(t, "GlobalSignOut"))
		stop := run(t, c, q)
		time.Sleep(30 * time.Second) // the store is down for 30 s
		synctest.Wait()
		receives, deletes, extends := q.counts()
		if receives != 1 || deletes != 0 || extends < 2*30 {
			t.Errorf("during the outage: %d receives, %d deletes, %d extensions; want 1, 0, >= 60", receives, deletes, extends)
		}
		if age, n := c.OldestUnapplied(); n != 2 || age < 30*time.Second {
			t.Errorf("OldestUnapplied = %v, %d; want >= 30s, 2", age, n)
		}
		if len(mq.DeadLetters()) != 0 || mq.Len() != 2 {
			t.Errorf("dead letters %d, queued %d; want 0, 2", len(mq.DeadLetters()), mq.Len())
		}
		if got := strings.Count(logs.String(), "level=ERROR"); got != 1 {
			t.Errorf("%d Error records for one outage, want 1:\n%s", got, logs.String())
		}
		rec.setFail(false)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if mq.Len() != 0 || len(rec.got()) != 1+len(regionPools) {
			t.Errorf("after the outage: %d queued, writes %+v", mq.Len(), rec.got())
		}
		if _, n := c.OldestUnapplied(); n != 0 {
			t.Errorf("%d unapplied after the outage", n)
		}
		stop()
	})
}

func TestRunMalformedReachesRedrive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		var logs syncbuf.Buffer
		mq := events.NewMemQueue(events.MemQueueConfig{Visibility: time.Second, Wait: time.Second, MaxReceiveCount: 3})
		var mu sync.Mutex
		malformed := 0
		c, err := events.New(rec, testPools, events.Config{
			Now: bubbleNow(), Visibility: time.Second,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			OnEvent: func(_ context.Context, r events.Result) {
				if r.Outcome == events.Malformed {
					mu.Lock()
					malformed++
					mu.Unlock()
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		noSub := edit(t, testdata(t, "GlobalSignOut"), func(_, d map[string]any) { delete(d, "additionalEventData") })
		send(t, mq, []byte("not json"), noSub, testdata(t, "DeleteUser"))
		stop := run(t, c, mq)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if dead := mq.DeadLetters(); len(dead) != 2 || mq.Len() != 0 {
			t.Errorf("dead letters %d, queued %d; want 2, 0", len(dead), mq.Len())
		}
		mu.Lock()
		defer mu.Unlock()
		if errs := strings.Count(logs.String(), "level=ERROR"); malformed != 6 || errs != 6 {
			t.Errorf("%d malformed results, %d Error records; want 6 each (2 messages × 3 receives)", malformed, errs)
		}
		if len(rec.got()) != len(regionPools) {
			t.Errorf("writes %+v", rec.got())
		}
		stop()
	})
}

func TestRunReturnsWithoutLeaks(t *testing.T) {
	leaktest.Check(t)
	rec := &recorder{}
	mq := events.NewMemQueue(events.MemQueueConfig{Wait: time.Hour})
	c, err := events.New(rec, testPools, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, c, mq)
	stop() // Run returns although Receive was waiting for an hour
}

func TestRunFinishesInFlightOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		slow := &slowRecorder{cancel: cancel}
		mq := events.NewMemQueue(events.MemQueueConfig{Wait: time.Second})
		c, err := events.New(slow, testPools, events.Config{Now: bubbleNow()})
		if err != nil {
			t.Fatal(err)
		}
		send(t, mq, testdata(t, "AdminDeleteUser"))
		if err := c.Run(ctx, mq); err != nil {
			t.Fatal(err)
		}
		if mq.Len() != 0 || slow.n != 1 {
			t.Errorf("after Run: %d queued, %d writes; want 0, 1", mq.Len(), slow.n)
		}
	})
}

// slowRecorder cancels Run's context during the write, which still
// succeeds.
type slowRecorder struct {
	cancel func()
	n      int
}

func (s *slowRecorder) RevokeUser(ctx context.Context, _, _ string, _ time.Time) error {
	s.cancel()
	time.Sleep(100 * time.Millisecond)
	s.n++
	return ctx.Err()
}

// failingQueue fails every Receive.
type failingQueue struct {
	events.Queue
	mu       sync.Mutex
	receives int
}

func (q *failingQueue) Receive(context.Context) ([]events.Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.receives++
	return nil, errDown
}

func TestRunBacksOffWhenReceiveFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &failingQueue{}
		var logs syncbuf.Buffer
		c, err := events.New(&recorder{}, testPools, events.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		stop := run(t, c, q)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		stop()
		// 0, 0.1, 0.3, 0.7, 1.5, 3.1, 6.3 s: backoff doubling to RetryMax (5 s).
		if q.receives < 5 || q.receives > 8 {
			t.Errorf("%d receives in 10 s of failures, want 5..8 (backoff)", q.receives)
		}
		if n := strings.Count(logs.String(), "level=WARN"); n != q.receives {
			t.Errorf("%d Warn records for %d failed receives", n, q.receives)
		}
	})
}

// TestRunConsumersShareAQueue runs three consumers on one queue: every
// message is applied and deleted, none lost, none dead.
func TestRunConsumersShareAQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := revocation.NewMemory(revocation.MemoryConfig{Now: bubbleNow()})
		mq := events.NewMemQueue(events.MemQueueConfig{Visibility: time.Second, Wait: time.Second, MaxReceiveCount: 5})
		const n = 200
		subs := make([]string, n)
		for i := range subs {
			subs[i] = "0000000-sub-" + strconv.Itoa(i)
			send(t, mq, edit(t, testdata(t, "AdminUserGlobalSignOut"), func(_, d map[string]any) {
				d["additionalEventData"] = map[string]any{"sub": subs[i]}
			}))
		}
		var stops []func()
		for range 3 {
			c, err := events.New(store, testPools, events.Config{Now: bubbleNow(), Visibility: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			stops = append(stops, run(t, c, mq))
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		for _, stop := range stops {
			stop()
		}
		if mq.Len() != 0 || len(mq.DeadLetters()) != 0 {
			t.Errorf("queued %d, dead %d; want 0, 0", mq.Len(), len(mq.DeadLetters()))
		}
		for _, s := range subs {
			if _, ok, _ := store.SignedOutAt(t.Context(), testPool, s); !ok {
				t.Fatalf("sign-out of %s not recorded", s)
			}
		}
	})
}

// hangingRecorder blocks every write until its deadline, as a store
// that accepts connections and never answers.
type hangingRecorder struct{}

func (hangingRecorder) RevokeUser(ctx context.Context, _, _ string, _ time.Time) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestRunCancelledDuringOutageReturnsPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mq := events.NewMemQueue(events.MemQueueConfig{Visibility: 30 * time.Second, Wait: time.Second})
		for range 5 {
			send(t, mq, testdata(t, "AdminDeleteUser"))
		}
		c, err := events.New(hangingRecorder{}, testPools, events.Config{Now: bubbleNow(), Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { _ = c.Run(ctx, mq); close(done) }()
		time.Sleep(7500 * time.Millisecond) // the first round (5 s) and part of the second
		cancel()
		start := time.Now()
		<-done
		if d := time.Since(start); d > time.Second {
			t.Errorf("Run returned %v after the cancel, want <= 1 s (one write's timeout)", d)
		}
		if mq.Len() != 5 {
			t.Errorf("%d messages queued, want the 5 held", mq.Len())
		}
	})
}

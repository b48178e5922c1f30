package events_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cognitoguard/cognitoguard/events"
)

func TestMemQueueDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := events.NewMemQueue(events.MemQueueConfig{Visibility: time.Second, Wait: 5 * time.Second, MaxBatch: 2, MaxReceiveCount: 2})
		ctx := t.Context()
		for _, b := range []string{"a", "b", "c"} {
			if _, err := q.Send([]byte(b)); err != nil {
				t.Fatal(err)
			}
		}
		first, err := q.Receive(ctx)
		if err != nil || len(first) != 2 || string(first[0].Body) != "a" || first[0].ReceiveCount != 1 {
			t.Fatalf("first batch %+v, %v; want a, b (MaxBatch 2)", first, err)
		}
		second, _ := q.Receive(ctx)
		if len(second) != 1 || string(second[0].Body) != "c" {
			t.Fatalf("second batch %+v, want c", second)
		}
		// a is deleted, b extended, c left to time out.
		if err := q.Delete(ctx, first[0]); err != nil {
			t.Fatal(err)
		}
		if err := q.ExtendVisibility(ctx, first[1], 10*time.Second); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		again, _ := q.Receive(ctx) // c, once its visibility runs out
		if len(again) != 1 || string(again[0].Body) != "c" || again[0].ReceiveCount != 2 || time.Since(start) != time.Second {
			t.Fatalf("redelivery %+v after %v; want c, count 2, after 1 s", again, time.Since(start))
		}
		if err := q.Delete(ctx, second[0]); !errors.Is(err, events.ErrReceiptHandle) {
			t.Errorf("delete with the first delivery's handle: %v, want ErrReceiptHandle", err)
		}
		time.Sleep(2 * time.Second)
		if got, _ := q.Receive(ctx); len(got) != 0 {
			t.Errorf("after c's second delivery (MaxReceiveCount 2): %+v, want nothing until b is due", got)
		}
		if dead := q.DeadLetters(); len(dead) != 1 || string(dead[0].Body) != "c" {
			t.Errorf("dead letters %+v, want c", dead)
		}
		if q.Len() != 1 {
			t.Errorf("Len %d, want 1 (b in flight)", q.Len())
		}
	})
}

func TestMemQueueLongPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := events.NewMemQueue(events.MemQueueConfig{Wait: 20 * time.Second})
		go func() {
			time.Sleep(3 * time.Second)
			q.Send([]byte("x"))
		}()
		start := time.Now()
		got, err := q.Receive(t.Context())
		if err != nil || len(got) != 1 || time.Since(start) != 3*time.Second {
			t.Fatalf("Receive = %+v, %v after %v; want x after 3 s", got, err, time.Since(start))
		}
		start = time.Now()
		if got, err := q.Receive(t.Context()); err != nil || len(got) != 0 || time.Since(start) != 20*time.Second {
			t.Errorf("empty poll = %+v, %v after %v; want nothing after 20 s", got, err, time.Since(start))
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := q.Receive(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Receive with a done context: %v", err)
		}
	})
}

func TestMemQueueBounds(t *testing.T) {
	q := events.NewMemQueue(events.MemQueueConfig{Capacity: 2, MaxBodyBytes: 4})
	if _, err := q.Send([]byte("12345")); err == nil {
		t.Error("a body over MaxBodyBytes was queued")
	}
	for range 2 {
		if _, err := q.Send([]byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Send([]byte("1")); !errors.Is(err, events.ErrQueueFull) {
		t.Errorf("Send beyond Capacity: %v, want ErrQueueFull", err)
	}
}

//go:build unix

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// faultWorld is a world with the consumer of pool A running and no API
// instance: the faults are the queue's and the store's.
func faultWorld(t *testing.T) *world {
	w := newWorld(t)
	w.startConsumer([]string{poolA})
	return w
}

// sendSignOuts sends n sign-outs of distinct subs (prefix-i) of pool A
// and returns the subs.
func (w *world) sendSignOuts(t *testing.T, prefix string, n int) []string {
	subs := make([]string, n)
	bodies := make([]string, n)
	now := time.Now()
	for i := range subs {
		subs[i] = fmt.Sprintf("%s-%d", prefix, i)
		bodies[i] = signOutBody(t, poolA, subs[i], now)
	}
	w.sendBatch(bodies)
	return subs
}

// applied counts the subs whose sign-out the store holds.
func (w *world) applied(subs []string) int {
	n := 0
	for _, s := range subs {
		if _, ok := w.signedOutAt(poolA, s); ok {
			n++
		}
	}
	return n
}

// balanced waits until every sub is applied and the queue drained, then
// checks applied + queued + dead-lettered = sent (for this case's sent
// messages, dead ones being the expected malformed).
func (w *world) balanced(subs []string, deadBefore, malformed int) {
	w.t.Helper()
	waitFor(w.t, 90*time.Second, "not every sign-out applied and the queue drained", func() bool {
		return w.applied(subs) == len(subs) && w.queued() == 0 && w.dead()-deadBefore == malformed
	})
	if got, q, d := w.applied(subs), w.queued(), w.dead()-deadBefore; got+q+d != len(subs)+malformed {
		w.t.Errorf("applied %d + queued %d + dead-lettered %d != sent %d", got, q, d, len(subs)+malformed)
	}
}

// TestEndToEndMalformed: with visibility 1 s and maxReceiveCount 3,
// malformed messages reach the dead-letter queue, each logged at Error,
// and the valid ones beside them are applied.
func TestEndToEndMalformed(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: waits for redrives")
	}
	w := faultWorld(t)
	bad := []string{`{"detail":`, `not json`, `{"version":"0","source":"aws.cognito-idp","detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"cognito-idp.amazonaws.com","eventName":"GlobalSignOut","awsRegion":"us-east-1","eventTime":"` + time.Now().UTC().Format(time.RFC3339) + `"}}`}
	for _, b := range bad {
		w.sendRaw(b)
	}
	subs := w.sendSignOuts(t, "malformed-case", 10)
	w.balanced(subs, 0, len(bad))
	if n := strings.Count(w.consumer.out.String(), `"level":"ERROR","msg":"events: malformed`); n < len(bad) {
		t.Errorf("%d Error logs of malformed messages, want at least %d", n, len(bad))
	}
}

// TestEndToEndStoreDown: Redis unreachable by the consumer for 30 s
// sends nothing to the dead-letter queue (visibility 1 s,
// maxReceiveCount 3), and every sign-out is applied once it is back.
func TestEndToEndStoreDown(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: a 30 s outage")
	}
	w := faultWorld(t)
	w.consumerProxy.Blackhole()
	subs := w.sendSignOuts(t, "outage", 20)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if d := w.dead(); d != 0 {
			t.Fatalf("%d messages dead-lettered during the store outage", d)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if n := w.applied(subs); n != 0 {
		t.Fatalf("%d sign-outs applied while the store was unreachable", n)
	}
	w.consumerProxy.Forward()
	w.balanced(subs, 0, 0)
	if !strings.Contains(w.consumer.out.String(), "store down") {
		t.Error("the outage was not logged")
	}
}

// TestEndToEndKill9: kill -9 of a consumer process in the middle of its
// batches, while another shares the queue, loses nothing: the other and a
// new consumer apply the rest.
func TestEndToEndKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: kills a process")
	}
	w := newWorld(t)
	subs := w.sendSignOuts(t, "kill", 1000)
	w.startConsumer([]string{poolA})
	victim := w.consumer
	w.startConsumer([]string{poolA})
	waitFor(t, 60*time.Second, "nothing applied", func() bool { return victim.outcome("recorded") >= 20 })
	victim.kill()
	if n := w.applied(subs); n == len(subs) {
		t.Fatalf("all %d applied before the kill: the kill was not mid-batch", n)
	}
	w.startConsumer([]string{poolA})
	w.balanced(subs, 0, 0)
}

package redisstore

import (
	"errors"
	"github.com/cognitoguard/cognitoguard/revocation"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

const testStaleness = time.Second

// sub drives one subState and its trust slot the way subscription does,
// without network.
type sub struct {
	t     *trust
	i     int
	state *subState
}

func newSub(tr *trust, i int, channels ...string) *sub {
	s := &sub{t: tr, i: i, state: newSubState(channels, testStaleness, 250*time.Millisecond)}
	s.state.open(tr.now())
	return s
}

func (s *sub) confirmAll() {
	for _, ch := range s.state.signouts {
		if _, ok := s.state.confirm(s.t.now(), ch); ok {
			s.t.subscribed(s.t.now(), s.i)
		}
	}
}

// pingPong sends a ping, lets d pass, and receives its pong.
func (s *sub) pingPong(d time.Duration) {
	s.state.pinged(s.t.now())
	time.Sleep(d)
	if p := s.state.pong(); p != 0 {
		s.t.proved(p, s.i)
	}
}

func fresh(tr *trust) bool { return tr.fresh(tr.now()) }

// healthyTrust is the trust of a store of subs subscriptions whose health
// check vouches for it for an hour.
func healthyTrust(subs int) *trust {
	tr := newTrust(subs, testStaleness)
	tr.checked(tr.now(), time.Hour)
	return tr
}

// TestTrustHealthVouches: the view answers only while the last successful
// health check vouches for the instance (its live entry, written at the
// check, outlives the view's answers by Staleness), even while every
// subscription keeps proving; then lookups read Redis, until a check
// succeeds again.
func TestTrustHealthVouches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 3 * time.Second // vouches for ttl - testStaleness = 2 s
		tr := newTrust(1, testStaleness)
		s := newSub(tr, 0, "a")
		s.confirmAll()
		if fresh(tr) {
			t.Fatal("trusted before any health check")
		}
		tr.checked(tr.now(), ttl)
		if !fresh(tr) {
			t.Fatal("not trusted after a health check")
		}
		for range 7 { // 1.75 s: proofs keep coming, health checks do not
			time.Sleep(testStaleness / 4)
			s.pingPong(time.Millisecond)
		}
		if !fresh(tr) {
			t.Fatal("not trusted within the health check's vouching")
		}
		for range 2 { // 2.25 s: past it, proofs or not
			time.Sleep(testStaleness / 4)
			s.pingPong(time.Millisecond)
		}
		if fresh(tr) {
			t.Fatal("trusted 2.25 s after the last health check, whose live entry lapses at 3 s")
		}
		if err := tr.check(tr.now()); err != nil {
			t.Fatalf("check = %v, want direct reads of Redis", err)
		}
		tr.checked(tr.now(), ttl)
		if !fresh(tr) {
			t.Fatal("not trusted after the next health check")
		}
	})
}

func TestTrustTransitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := healthyTrust(1)
		s := newSub(tr, 0, "a", "b")

		// Before the first subscription: not trusted, direct reads for one
		// Staleness, then fail closed.
		if fresh(tr) || tr.check(tr.now()) != nil {
			t.Fatal("at start: want untrusted with direct reads")
		}
		time.Sleep(testStaleness + time.Millisecond)
		if err := tr.check(tr.now()); !errors.Is(err, revocation.ErrUnavailable) {
			t.Fatalf("after Staleness without subscription: check = %v, want revocation.ErrUnavailable", err)
		}

		// One channel confirmed is not enough; both are.
		if reset, subscribed := s.state.confirm(tr.now(), "a"); !reset || subscribed {
			t.Fatalf("first channel: reset %v subscribed %v", reset, subscribed)
		}
		if fresh(tr) {
			t.Fatal("trusted with one channel of two")
		}
		if reset, subscribed := s.state.confirm(tr.now(), "b"); !reset || !subscribed || !tr.subscribed(tr.now(), 0) {
			t.Fatal("second channel: want subscribed and trusted")
		}
		if act, _ := s.state.next(tr.now()); act != actPing {
			t.Fatalf("after subscribing: next = %v, want an immediate ping", act)
		}

		// A blocked subscriber sends no event: the proof ages and every
		// lookup sees it, whatever the goroutine is doing.
		time.Sleep(testStaleness - time.Millisecond)
		if !fresh(tr) {
			t.Fatal("stale before Staleness")
		}
		time.Sleep(2 * time.Millisecond)
		if fresh(tr) {
			t.Fatal("fresh after Staleness without proof")
		}
		if err := tr.check(tr.now()); err == nil || !strings.Contains(err.Error(), "stale") {
			t.Fatalf("check = %v, want a stale view", err)
		}

		// A pong proves the time its ping was sent, not the time it came.
		s.pingPong(300 * time.Millisecond)
		if !fresh(tr) {
			t.Fatal("not trusted after a pong")
		}
		time.Sleep(testStaleness - 300*time.Millisecond)
		if fresh(tr) {
			t.Fatal("trusted beyond Staleness after the ping, counting from the pong")
		}
	})
}

func TestTrustLostAndResubscribed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := healthyTrust(1)
		s := newSub(tr, 0, "a")
		s.confirmAll()
		if !fresh(tr) {
			t.Fatal("not trusted")
		}
		time.Sleep(100 * time.Millisecond)
		if !tr.lost(0) || fresh(tr) {
			t.Fatal("lost: want it reported trusted before and untrusted now")
		}
		if tr.check(tr.now()) != nil {
			t.Fatal("just lost: want direct reads within Staleness of the last proof")
		}
		backoff := s.state.lost(tr.now(), time.Second)
		if backoff <= 0 || backoff > time.Second {
			t.Fatalf("backoff %v", backoff)
		}
		time.Sleep(testStaleness)
		if !errors.Is(tr.check(tr.now()), revocation.ErrUnavailable) {
			t.Fatal("lost beyond Staleness: want fail closed")
		}
		// Unconfirmed for too long: reconnect.
		time.Sleep(time.Duration(s.state.hung))
		if act, _ := s.state.next(tr.now()); act != actReconnect {
			t.Fatalf("unconfirmed beyond hung: next = %v, want reconnect", act)
		}
		s.state.open(tr.now())
		if reset, _ := s.state.confirm(tr.now(), "a"); !reset {
			t.Fatal("resubscribed without resetting the view")
		}
		tr.subscribed(tr.now(), 0)
		if !fresh(tr) {
			t.Fatal("not trusted after resubscribing")
		}
	})
}

func TestTrustOldestSubscriptionDecides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := healthyTrust(3)
		subs := []*sub{newSub(tr, 0, "a"), newSub(tr, 1, "b"), newSub(tr, 2, "c")}
		for i, s := range subs {
			s.confirmAll()
			if got := fresh(tr); got != (i == 2) {
				t.Fatalf("%d of 3 subscribed: trusted = %v", i+1, got)
			}
		}
		// Two keep proving, one is silent (its shard lost): fail closed.
		for range 5 {
			subs[0].pingPong(10 * time.Millisecond)
			subs[1].pingPong(0)
			time.Sleep(testStaleness / 4)
		}
		if fresh(tr) {
			t.Fatal("trusted while one subscription is silent beyond Staleness")
		}
		subs[2].pingPong(10 * time.Millisecond)
		if !fresh(tr) {
			t.Fatal("not trusted once the silent subscription proves again")
		}
	})
}

func TestTrustWriteFailureAndRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := healthyTrust(1)
		s := newSub(tr, 0, "a")
		s.confirmAll()
		time.Sleep(time.Millisecond)
		if !tr.writeFailure() || fresh(tr) {
			t.Fatal("after a failed write: want untrusted")
		}
		if tr.check(tr.now()) != nil {
			t.Fatal("after a failed write: want direct reads")
		}
		time.Sleep(time.Millisecond)
		s.pingPong(time.Millisecond)
		if !fresh(tr) {
			t.Fatal("not trusted after a proof younger than the failure")
		}

		evict := errors.New("maxmemory-policy volatile-lru")
		tr.refuse("eviction", evict)
		if fresh(tr) {
			t.Fatal("trusted while refused")
		}
		if err := tr.check(tr.now()); !errors.Is(err, revocation.ErrUnavailable) || !errors.Is(err, evict) {
			t.Fatalf("check = %v, want revocation.ErrUnavailable wrapping the refusal", err)
		}
		tr.refuse("eviction", nil)
		if !fresh(tr) {
			t.Fatal("not trusted once the refusal is lifted")
		}
	})
}

func TestSubStatePings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := healthyTrust(1)
		s := newSub(tr, 0, "a")
		if act, wait := s.state.next(tr.now()); act != actWait || wait <= 0 {
			t.Fatalf("unsubscribed: next = %v %v, want a bounded wait", act, wait)
		}
		s.confirmAll()
		s.state.pinged(tr.now())
		if act, wait := s.state.next(tr.now()); act != actWait || wait > time.Duration(s.state.hung) {
			t.Fatalf("ping in flight: next = %v %v", act, wait)
		}
		s.state.pong()
		if act, wait := s.state.next(tr.now()); act != actWait || wait != testStaleness/4 {
			t.Fatalf("after a pong: next = %v %v, want to wait Staleness/4", act, wait)
		}
		time.Sleep(testStaleness / 4)
		if act, _ := s.state.next(tr.now()); act != actPing {
			t.Fatalf("Staleness/4 after a ping: next = %v, want a ping", act)
		}
		s.state.pinged(tr.now())
		time.Sleep(time.Duration(s.state.hung) + time.Millisecond)
		if act, _ := s.state.next(tr.now()); act != actReconnect {
			t.Fatalf("ping unanswered beyond hung: next = %v, want reconnect", act)
		}
	})
}

func TestJournalBounded(t *testing.T) {
	const ttl = 1000
	j := &journal{max: 3, ttlMs: ttl}
	j.gap(1) // complete since 1
	k := userKey{Pool: "pool", Sub: "sub"}
	for i := range int64(3) {
		j.add(k, "", 10+i, 10+i)
	}
	// Full of expired entries: they go first, completeness is kept.
	j.add(k, "", 5000, 5000)
	if !j.complete(1+ttl, ttl) {
		t.Error("dropping expired entries lost completeness")
	}
	if live := j.live(5000, ttl); len(live) != 1 || live[0].t != 5000 {
		t.Errorf("live = %v, want the one live entry", live)
	}
	// Full of live entries: the oldest goes, and completeness restarts.
	for i := range int64(3) {
		j.add(k, "", 5001+i, 5001+i)
	}
	if got := len(j.live(5003, ttl)); got != 3 {
		t.Errorf("%d entries, want the bound 3", got)
	}
	if j.complete(5003+ttl-1, ttl) {
		t.Error("complete although a live entry was dropped")
	}
	if !j.complete(5003+ttl, ttl) {
		t.Error("not complete one TTL after the drop")
	}
}

// TestJournalBoundedInBytes: entries with large strings count against a
// byte budget (max × journalBytesPerEntry), not only the entry count.
func TestJournalBoundedInBytes(t *testing.T) {
	const ttl = 1000
	j := &journal{max: 10, ttlMs: ttl}
	j.gap(1)
	big := userKey{Pool: "pool", Sub: strings.Repeat("s", 1000)}
	for i := range int64(5) {
		j.add(big, "", 10+i, 10+i)
	}
	if j.bytes > 10*journalBytesPerEntry {
		t.Errorf("%d bytes held, want at most %d", j.bytes, 10*journalBytesPerEntry)
	}
	if got := len(j.live(14, ttl)); got != 2 {
		t.Errorf("%d entries of ~1 KiB held, want 2 within the 2560-byte budget", got)
	}
	if j.complete(14+ttl-1, ttl) {
		t.Error("complete although live entries were dropped for bytes")
	}
}

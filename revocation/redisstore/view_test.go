package redisstore

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

func TestViewLoadRaces(t *testing.T) {
	k := userKey{Pool: "https://iss", Sub: "sub"}
	type step func(v *view, p **pending)
	begin := func(v *view, p **pending) { *p = v.begin(k) }
	signOut := func(t int64) step { return func(v *view, _ **pending) { v.apply(k, "", t) } }
	session := func(j string, t int64) step { return func(v *view, _ **pending) { v.apply(k, j, t) } }
	reset := func(v *view, _ **pending) { v.reset() }
	finish := func(read entry, cache bool) step {
		return func(v *view, p **pending) { v.finish(k, *p, read, cache) }
	}
	cases := []struct {
		name    string
		steps   []step
		cached  bool
		want    entry
		wantLen int
	}{
		{
			name:   "message during the load is merged into the stale read",
			steps:  []step{begin, signOut(200), finish(entry{User: 100}, true)},
			cached: true, want: entry{User: 200},
		},
		{
			name:   "session message during the load",
			steps:  []step{begin, session("o1", 300), finish(entry{}, true)},
			cached: true, want: entry{Sessions: map[string]int64{"o1": 300}},
		},
		{
			name:   "read newer than the message keeps the maximum",
			steps:  []step{begin, signOut(200), finish(entry{User: 300}, true)},
			cached: true, want: entry{User: 300},
		},
		{
			name:  "reset during the load: not cached",
			steps: []step{begin, reset, finish(entry{User: 100}, true)},
		},
		{
			name:  "untrusted view: not cached",
			steps: []step{begin, finish(entry{User: 100}, false)},
		},
		{
			name:  "message for an absent user creates nothing",
			steps: []step{signOut(200)},
		},
		{
			name:   "message after caching raises the entry",
			steps:  []step{begin, finish(entry{User: 100}, true), signOut(200), signOut(150)},
			cached: true, want: entry{User: 200},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newView(10)
			var p *pending
			for _, s := range tc.steps {
				s(v, &p)
			}
			got, ok, _, _ := v.get(k)
			if ok != tc.cached {
				t.Fatalf("cached = %v, want %v", ok, tc.cached)
			}
			if ok && (got.User != tc.want.User || fmt.Sprint(got.Sessions) != fmt.Sprint(tc.want.Sessions)) {
				t.Errorf("entry = %+v, want %+v", got, tc.want)
			}
			if len(v.pending) != 0 {
				t.Errorf("%d loads still pending", len(v.pending))
			}
		})
	}
}

// TestViewPoolClients: a pool's app-client record is cached once for the
// pool and reached from each of its users' entries; messages raise it,
// and a reset drops it with the users.
func TestViewPoolClients(t *testing.T) {
	u1, u2 := userKey{Pool: "p", Sub: "u1"}, userKey{Pool: "p", Sub: "u2"}
	ck := record.ClientsKey("p")
	v := newView(10)
	v.finish(u1, v.begin(u1), entry{User: 1}, true)
	if _, ok, _, cok := v.get(u1); !ok || cok {
		t.Fatalf("user cached %v, clients loaded %v: want true, false", ok, cok)
	}
	v.apply(ck, "m2m", 5) // not loaded: nothing to raise
	v.finish(ck, v.begin(ck), entry{Sessions: map[string]int64{"web": 3}}, true)
	v.apply(ck, "m2m", 7)
	for _, k := range []userKey{u1, u2} {
		_, _, c, cok := v.get(k)
		if !cok || c.Sessions["web"] != 3 || c.Sessions["m2m"] != 7 {
			t.Errorf("get(%v): clients %+v loaded %v, want web 3, m2m 7", k, c, cok)
		}
	}
	if n := v.len(); n != 2 {
		t.Errorf("len = %d, want 2 (u1, the pool's clients)", n)
	}
	v.reset()
	if _, ok, _, cok := v.get(u1); ok || cok || v.len() != 0 {
		t.Errorf("after reset: user %v, clients %v, len %d", ok, cok, v.len())
	}
}

func TestViewBounded(t *testing.T) {
	v := newView(100)
	for i := range 1000 {
		k := userKey{Pool: "https://iss", Sub: fmt.Sprint("sub-", i)}
		v.finish(k, v.begin(k), entry{}, true)
	}
	if n := v.len(); n != 100 {
		t.Errorf("len = %d, want 100", n)
	}
	// Pools are bounded as users are.
	v = newView(100)
	for i := range 1000 {
		k := userKey{Pool: fmt.Sprint("pool-", i), Sub: "sub"}
		v.finish(k, v.begin(k), entry{}, true)
	}
	if n, p := v.len(), len(v.pools); n != 100 || p != 100 {
		t.Errorf("len = %d, pools = %d, want 100 and 100", n, p)
	}
}

// TestViewBytesPerEntry measures the heap cost of a view entry for a
// Cognito-shaped key (shared issuer, 36-byte UUID sub), with and without a
// sign-out record; the figure is in BENCHMARKS.md.
func TestViewBytesPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	const n = 100_000
	const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
	subs := make([]string, n)
	for i := range subs {
		subs[i] = fmt.Sprintf("%08x-1111-4222-8333-444455556666", i)
	}
	for _, withSession := range []bool{false, true} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v := newView(n)
		for _, s := range subs {
			k := userKey{Pool: strings.Clone(iss), Sub: strings.Clone(s)} // as Redis.load owns its key
			e := entry{User: 1}
			if withSession {
				e.Sessions = map[string]int64{"0a1b2c3d-1111-4222-8333-444455556666": 1}
			}
			v.finish(k, v.begin(k), e, true)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := float64(after.HeapAlloc-before.HeapAlloc) / n
		t.Logf("view entry (sub 36 B, shared issuer, one revoked session: %v): %.0f bytes", withSession, per)
		if per > 400 && !withSession {
			t.Errorf("%.0f bytes per entry; BENCHMARKS.md says about 150", per)
		}
		runtime.KeepAlive(v)
	}
}

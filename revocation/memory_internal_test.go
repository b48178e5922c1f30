package revocation

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestMemoryBytesPerRecord measures the heap cost of a user sign-out
// record; the figure is in BENCHMARKS.md.
func TestMemoryBytesPerRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	const n = 100_000
	const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
	at := time.Now()
	for _, sessions := range []int{0, 1, 4} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := NewMemory(MemoryConfig{})
		for i := range n {
			sub := fmt.Sprintf("%08x-1111-4222-8333-444455556666", i)
			if err := m.RevokeUser(t.Context(), iss, sub, at); err != nil {
				t.Fatal(err)
			}
			for j := range sessions {
				jti := fmt.Sprintf("%08x-%04x-4222-8333-444455556666", i, j)
				if err := m.RevokeSession(t.Context(), iss, sub, jti, at); err != nil {
					t.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := float64(after.HeapAlloc-before.HeapAlloc) / n
		t.Logf("memory store, user sign-out + %d revoked sessions (36-byte ids, shared issuer): %.0f bytes per user", sessions, per)
		if sessions == 0 && per > 300 {
			t.Errorf("%.0f bytes per record; the documentation says about 130", per)
		}
		runtime.KeepAlive(m)
	}
}

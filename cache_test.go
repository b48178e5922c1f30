package cognitoguard_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// cacheBoundBytes is the README's promise for the default cache:
// DefaultCacheSize entries × 4 KiB of charged memory, whatever the tokens.
const cacheBoundBytes = cognitoguard.DefaultCacheSize * 4 << 10

// liveHeap is the live heap after collection.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestCacheBoundedInBytes: the verified-token cache is bounded in bytes,
// not only in entries. Distinct ID tokens just under the 16 KiB limit,
// all valid, must not grow the live heap past the documented bound (each
// would cost ≈ 27 KiB in an entries-only cache: 4096 of them ≈ 109 MiB).
// Memory, not time, is measured; the tokens themselves stay alive across
// both measurements, so only what the Verifier keeps is counted.
func TestCacheBoundedInBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("mints 1200 RSA-signed tokens")
	}
	f := newFixture(t)
	v := f.verifier(t, cognitoguard.Config{TokenUse: cognitoguard.TokenUseID})
	pad := map[string]any{"custom:pad": strings.Repeat("x", 11400)}
	tokens := make([]string, 1200)
	for i := range tokens {
		tokens[i] = f.pool.IDToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(pad))
		if n := len(tokens[i]); n > cognitoguard.DefaultMaxTokenSize || n < cognitoguard.DefaultMaxTokenSize-1024 {
			t.Fatalf("token is %d bytes, want just under %d", n, cognitoguard.DefaultMaxTokenSize)
		}
	}
	if _, err := v.Verify(t.Context(), tokens[0]); err != nil {
		t.Fatal(err) // keys fetched before the first measurement
	}
	before := liveHeap()
	for _, tok := range tokens {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	grown := int64(liveHeap()) - int64(before)
	runtime.KeepAlive(tokens)
	t.Logf("live heap grew by %.1f MiB for %d distinct %d-byte tokens (bound %d MiB)",
		float64(grown)/(1<<20), len(tokens), len(tokens[0]), cacheBoundBytes>>20)
	if grown > cacheBoundBytes {
		t.Fatalf("live heap grew by %d bytes, more than the documented %d", grown, cacheBoundBytes)
	}
	// The cache still works: the last token is a hit, so verifying it
	// again allocates only the caller's copy of the claims.
	last := tokens[len(tokens)-1]
	if allocs := testing.AllocsPerRun(20, func() { _, _ = v.Verify(t.Context(), last) }); allocs > 2 {
		t.Fatalf("repeat verification allocates %v times: not cached", allocs)
	}
}

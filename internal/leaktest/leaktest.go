// Package leaktest fails a test whose goroutines outlive it.
package leaktest

import (
	"runtime"
	"testing"
	"time"
)

// Check records the number of goroutines now and, when t ends, waits up
// to 5 s for it to come back down, failing t with every goroutine's
// stack otherwise. release functions (such as an http.Client's
// CloseIdleConnections) run first, at cleanup.
func Check(t testing.TB, release ...func()) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for _, r := range release {
			r()
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

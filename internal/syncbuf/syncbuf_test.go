package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

func TestConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("ab"))
			}
		})
	}
	wg.Wait()
	if b.Len() != 1600 || strings.Count(b.String(), "ab") != 800 {
		t.Fatalf("Len = %d", b.Len())
	}
}

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

// TestMax: a bounded Buffer keeps the first Max bytes and reports every
// write whole.
func TestMax(t *testing.T) {
	b := Buffer{Max: 5}
	for _, w := range []string{"abc", "defg", "h"} {
		if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	if b.String() != "abcde" {
		t.Fatalf("String = %q, want abcde", b.String())
	}
}

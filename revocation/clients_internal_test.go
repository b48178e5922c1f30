package revocation

import (
	"testing"
	"time"
)

// TestMemoryClientCount: the count of app-client records that gates the
// second map lookup of Revoked follows writes (new records only) and
// purges, so a store whose client records expired is back on the
// one-lookup path.
func TestMemoryClientCount(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := NewMemory(MemoryConfig{TTL: time.Hour, Now: func() time.Time { return now }})
	ctx := t.Context()
	for _, id := range []string{"a", "b", "a"} {
		if err := m.RevokeClient(ctx, "pool", id, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.RevokeUser(ctx, "pool", "sub", now); err != nil {
		t.Fatal(err)
	}
	if m.clients != 2 || m.n != 3 {
		t.Fatalf("clients %d, records %d; want 2, 3", m.clients, m.n)
	}
	now = now.Add(2 * time.Hour)
	if err := m.RevokeUser(ctx, "pool", "other", now); err != nil { // purges
		t.Fatal(err)
	}
	if m.clients != 0 || m.n != 1 {
		t.Errorf("after expiry: clients %d, records %d; want 0, 1", m.clients, m.n)
	}
}

package hostedui

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func tok(n int) *oauth2.Token {
	return &oauth2.Token{AccessToken: strings.Repeat("a", n), RefreshToken: "r"}
}

// TestSessionBounds: the store never holds more than its count, bytes and
// per-user bounds, makes room by dropping the oldest, and ends sessions
// at their lifetime.
func TestSessionBounds(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	size := sessionOverhead + len("u0") + len("user") + 1001

	t.Run("count", func(t *testing.T) {
		s := newSessions(3, 1<<30, 10, time.Hour, clock)
		var ids []string
		for i := range 5 {
			ids = append(ids, s.add("u"+string(rune('0'+i)), "user", tok(1000)))
		}
		if n, _ := s.len(); n != 3 {
			t.Fatalf("%d sessions, want 3", n)
		}
		if s.get(ids[0]) != nil || s.get(ids[1]) != nil || s.get(ids[4]) == nil {
			t.Error("not the oldest dropped")
		}
	})
	t.Run("bytes", func(t *testing.T) {
		s := newSessions(100, 2*size, 10, time.Hour, clock)
		for range 5 {
			s.add("u0", "user", tok(1000))
		}
		if n, b := s.len(); n != 2 || b != 2*size {
			t.Fatalf("%d sessions, %d bytes; want 2, %d", n, b, 2*size)
		}
		// A refresh that grows a session counts.
		id := s.add("u1", "user", tok(1000))
		ss := s.get(id)
		s.resize(ss, tok(2000))
		if _, b := s.len(); b != 2*size+1000 {
			t.Errorf("%d bytes after resize, want %d", b, 2*size+1000)
		}
	})
	t.Run("per user", func(t *testing.T) {
		s := newSessions(100, 1<<30, 2, time.Hour, clock)
		a1 := s.add("alice", "alice", tok(10))
		s.add("bob", "bob", tok(10))
		a2 := s.add("alice", "alice", tok(10))
		a3 := s.add("alice", "alice", tok(10))
		if s.get(a1) != nil || s.get(a2) == nil || s.get(a3) == nil {
			t.Error("alice's oldest session not dropped")
		}
		if n, _ := s.len(); n != 3 {
			t.Errorf("%d sessions, want 3 (bob's kept)", n)
		}
	})
	t.Run("lifetime", func(t *testing.T) {
		s := newSessions(100, 1<<30, 10, time.Hour, func() time.Time { return now })
		id := s.add("u", "user", tok(10))
		now = now.Add(time.Hour - time.Second)
		if s.get(id) == nil {
			t.Fatal("ended early")
		}
		now = now.Add(time.Second)
		if s.get(id) != nil {
			t.Error("alive at its lifetime")
		}
		if n, b := s.len(); n != 0 || b != 0 {
			t.Errorf("%d sessions, %d bytes after the end", n, b)
		}
	})
	t.Run("delete and unknown", func(t *testing.T) {
		s := newSessions(100, 1<<30, 10, time.Hour, clock)
		id := s.add("u", "user", tok(10))
		if s.get("") != nil || s.get("nope") != nil {
			t.Error("unknown ID found")
		}
		s.delete(id)
		s.delete(id)
		if n, b := s.len(); s.get(id) != nil || n != 0 || b != 0 {
			t.Error("deleted session kept")
		}
	})
}

// Package syncbuf is a bytes.Buffer that concurrent writers may share: the
// log sink of tests and of the demo.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is safe for concurrent use. Its zero value is empty, unbounded
// and ready.
type Buffer struct {
	// Max, when positive, bounds what is kept to the first Max bytes
	// written (the output of a child process, say); Write still reports
	// every byte written. Set it before the first Write.
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, or as much of it as Max leaves room for.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Max > 0 {
		s.b.Write(p[:min(len(p), max(s.Max-s.b.Len(), 0))])
		return len(p), nil
	}
	return s.b.Write(p)
}

// Len returns the number of bytes written.
func (s *Buffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// String returns everything written.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

package leaktest

import (
	"testing"
	"time"
)

// fakeT records Errorf and runs cleanups on demand.
type fakeT struct {
	testing.TB
	failed   bool
	cleanups []func()
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Cleanup(fn func())     { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) end() {
	for _, c := range f.cleanups {
		c()
	}
}

func TestCheck(t *testing.T) {
	ft := &fakeT{TB: t}
	released := false
	Check(ft, func() { released = true })
	stop := make(chan struct{})
	go func() { <-stop }()
	go func() { time.Sleep(100 * time.Millisecond); close(stop) }()
	ft.end() // the goroutines end within the grace period
	if ft.failed || !released {
		t.Fatalf("failed %v, released %v; want a pass after the release", ft.failed, released)
	}

	if testing.Short() {
		return // the failing case waits the full 5 s
	}
	ft = &fakeT{TB: t}
	Check(ft)
	block := make(chan struct{})
	go func() { <-block }()
	ft.end() // waits 5 s, then fails
	close(block)
	if !ft.failed {
		t.Fatal("a goroutine outliving the test was not reported")
	}
}

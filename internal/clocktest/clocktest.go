// Package clocktest provides the settable clock the tests of this module
// share.
package clocktest

import (
	"sync/atomic"
	"time"
)

// Clock is a settable clock, safe for concurrent use. Its zero value reads
// the Unix epoch; use [New].
type Clock struct{ ns atomic.Int64 }

// New returns a Clock reading t.
func New(t time.Time) *Clock {
	c := new(Clock)
	c.Set(t)
	return c
}

// Now returns the clock's time; pass it where a Now func is configured.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Advance moves the clock by d (negative d moves it back).
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Set makes the clock read t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

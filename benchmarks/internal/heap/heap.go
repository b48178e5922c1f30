// Package heap measures the live heap retained by a structure: the
// difference of runtime.MemStats.HeapAlloc after full collections, before
// and after filling it, divided by the number of entries.
package heap

import "runtime"

// Live returns the bytes of live heap objects after two full collections
// (the second one sweeps what finalizers of the first released).
func Live() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// PerEntry runs fill (which must keep what it builds reachable from
// outside, for example in a variable the caller keeps alive) and returns
// the growth of the live heap divided by n.
func PerEntry(n int, fill func()) float64 {
	before := Live()
	fill()
	after := Live()
	return float64(int64(after)-int64(before)) / float64(n)
}

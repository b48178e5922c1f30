// Package alias holds the library's only use of package unsafe: strings
// that share the bytes of a buffer instead of copying them, which keeps a
// verified token's claims in one allocation (the decoded payload), and the
// test of whether a string lies inside such a buffer, with which the token
// cache charges each entry what it keeps alive.
//
// The invariant every caller MUST keep: a buffer given to [String] is never
// written again, by anyone, for as long as the string or any substring of
// it may be in use. The core keeps it by decoding each token into a fresh
// buffer that it never exposes as a []byte but through copies.
package alias

import "unsafe"

// String returns a string sharing b's bytes (no copy). b MUST never be
// written again while the string lives (see the package documentation).
func String(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Inside reports whether the bytes of s lie within the capacity of buf,
// that is whether s aliases buf (String of a part of it). An empty s, or
// an empty buf, is never inside.
func Inside(s string, buf []byte) bool {
	if s == "" || cap(buf) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf[:1])))
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return p >= lo && p < lo+uintptr(cap(buf))
}

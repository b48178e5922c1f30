package jsonscan

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrDuplicate is returned when two member names of one object are equal
// under simple Unicode case folding (as [strings.EqualFold] compares
// them), at any depth. encoding/json matches member names to struct fields
// that way and keeps the last of several matches, so a payload with such
// names could decode differently from what was checked.
var ErrDuplicate = errors.New("jsonscan: duplicate member name")

// smallNames is how many names of one object are compared pairwise before
// switching to a set of folded names (bounding the work on hostile input to
// O(n) map operations instead of O(n²) comparisons).
const smallNames = 32

// nameSet detects member names of one object that fold to the same string.
// The first names live in a caller's array, the rest in a map.
type nameSet struct {
	n   int
	set map[string]struct{}
}

// add records k among the names in small[:ns.n] (or the set) and reports
// whether no earlier name folds to the same string.
func (ns *nameSet) add(small []string, k string) bool {
	if ns.set == nil {
		for _, p := range small[:ns.n] {
			if sameFolded(p, k) {
				return false
			}
		}
		if ns.n < len(small) {
			small[ns.n] = k
			ns.n++
			return true
		}
		ns.set = make(map[string]struct{}, 2*len(small))
		for _, p := range small {
			ns.set[Fold(p)] = struct{}{}
		}
	}
	f := Fold(k)
	if _, dup := ns.set[f]; dup {
		return false
	}
	ns.set[f] = struct{}{}
	return true
}

// sameFolded is strings.EqualFold with a quick exit for ASCII first bytes
// that differ.
func sameFolded(a, b string) bool {
	if a != "" && b != "" && a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf && lower(a[0]) != lower(b[0]) {
		return false
	}
	return strings.EqualFold(a, b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Fold returns a canonical form of s under simple Unicode case folding:
// Fold(a) == Fold(b) exactly when strings.EqualFold(a, b). ASCII letters
// fold to lower case, other runes to the smallest rune of their fold orbit
// (so the Kelvin sign folds to "k" and the long s to "s"). A string that is
// already canonical is returned without copying.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; ('A' <= c && c <= 'Z') || c >= utf8.RuneSelf {
			return foldSlow(s, i)
		}
	}
	return s
}

func foldSlow(s string, i int) string {
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune maps r to the smallest rune of its simple-folding orbit, then
// ASCII upper case to lower case (the orbit of an ASCII letter holds both).
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			r = r2
			break
		}
		r = r2
	}
	if 'A' <= r && r <= 'Z' {
		r += 'a' - 'A'
	}
	return r
}

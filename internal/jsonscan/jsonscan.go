// Package jsonscan is a small, strict, allocation-frugal reader for the flat
// JSON objects of a JWT header and payload.
//
// It reads one object member at a time. Strings without escapes are
// returned as substrings of the input (no copy), so the input must not be
// modified while results are in use. It rejects what RFC 8259 rejects
// (control characters in strings, bad escapes, leading zeros, trailing
// garbage) and numbers beyond float64's range ([ErrRange]), nests at most
// [MaxDepth] levels deep, and refuses two member
// names of one object that are equal under case folding ([ErrDuplicate]),
// at every depth, so that encoding/json decodes what was scanned.
package jsonscan

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of skipped values.
const MaxDepth = 32

// ErrSyntax is returned for any input that is not valid JSON of the
// expected shape.
var ErrSyntax = errors.New("jsonscan: invalid JSON")

// Kind is the JSON type of a value.
type Kind uint8

// Kinds of values.
const (
	Invalid Kind = iota
	String
	Number
	Bool
	Null
	Array
	Object
)

// Scanner reads the members of one JSON object.
type Scanner struct {
	src   string
	i     int
	n     int // members read
	names nameSet
	first [smallNames]string // the first member names, for ErrDuplicate
}

// New returns a Scanner over src, which must hold one JSON object.
func New(src string) *Scanner { return &Scanner{src: src} }

// Reset makes s read src from the start.
func (s *Scanner) Reset(src string) { *s = Scanner{src: src} }

func (s *Scanner) ws() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Next advances to the next member and returns its key. ok is false at the
// end of the object; err is set on a syntax error, or is [ErrDuplicate]
// when the key folds to the same string as an earlier one. After Next the
// caller MUST consume the value with one of the value methods or
// [Scanner.Skip].
func (s *Scanner) Next() (key string, ok bool, err error) {
	s.ws()
	if s.n == 0 {
		if s.i >= len(s.src) || s.src[s.i] != '{' {
			return "", false, ErrSyntax
		}
		s.i++
		s.ws()
		if s.i < len(s.src) && s.src[s.i] == '}' {
			s.i++
			s.n = -1
			return "", false, s.end()
		}
	} else if s.n < 0 {
		return "", false, nil
	} else {
		if s.i >= len(s.src) {
			return "", false, ErrSyntax
		}
		switch s.src[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			s.n = -1
			return "", false, s.end()
		default:
			return "", false, ErrSyntax
		}
	}
	key, err = s.str()
	if err != nil {
		return "", false, err
	}
	s.ws()
	if s.i >= len(s.src) || s.src[s.i] != ':' {
		return "", false, ErrSyntax
	}
	s.i++
	s.ws()
	s.n++
	if !s.names.add(s.first[:], key) {
		return "", false, ErrDuplicate
	}
	return key, true, nil
}

func (s *Scanner) end() error {
	s.ws()
	if s.i != len(s.src) {
		return ErrSyntax
	}
	return nil
}

// Peek returns the kind of the value at the current position.
func (s *Scanner) Peek() Kind {
	if s.i >= len(s.src) {
		return Invalid
	}
	switch c := s.src[s.i]; {
	case c == '"':
		return String
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	case c == 't' || c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '[':
		return Array
	case c == '{':
		return Object
	}
	return Invalid
}

// String reads a string value.
func (s *Scanner) String() (string, error) { return s.str() }

// Bool reads true or false.
func (s *Scanner) Bool() (bool, error) {
	switch {
	case hasPrefixAt(s.src, s.i, "true"):
		s.i += 4
		return true, nil
	case hasPrefixAt(s.src, s.i, "false"):
		s.i += 5
		return false, nil
	}
	return false, ErrSyntax
}

// Int reads an integer number (no fraction, no exponent) that fits in
// int64. A valid JSON number that is not such an integer yields
// [ErrNotInteger] after the number has been consumed.
func (s *Scanner) Int() (int64, error) {
	start := s.i
	if err := s.number(); err != nil {
		return 0, err
	}
	lit := s.src[start:s.i]
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return 0, ErrNotInteger
	}
	return n, nil
}

// ErrNotInteger is returned by [Scanner.Int] for a fraction, an exponent
// or an integer out of the int64 range.
var ErrNotInteger = errors.New("jsonscan: number is not an int64 integer")

// Strings reads an array of strings and appends them to dst.
func (s *Scanner) Strings(dst []string) ([]string, error) {
	if s.i >= len(s.src) || s.src[s.i] != '[' {
		return dst, ErrSyntax
	}
	s.i++
	s.ws()
	if s.i < len(s.src) && s.src[s.i] == ']' {
		s.i++
		return dst, nil
	}
	for {
		v, err := s.str()
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
		s.ws()
		if s.i >= len(s.src) {
			return dst, ErrSyntax
		}
		switch s.src[s.i] {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			return dst, nil
		default:
			return dst, ErrSyntax
		}
	}
}

// Skip consumes one value of any kind, checking its syntax and refusing
// duplicate member names in the objects it holds ([ErrDuplicate]).
func (s *Scanner) Skip() error { return s.skip(0) }

func (s *Scanner) skip(depth int) error {
	if depth > MaxDepth {
		return ErrSyntax
	}
	switch s.Peek() {
	case String:
		_, err := s.str()
		return err
	case Number:
		return s.number()
	case Bool:
		_, err := s.Bool()
		return err
	case Null:
		if hasPrefixAt(s.src, s.i, "null") {
			s.i += 4
			return nil
		}
		return ErrSyntax
	case Array:
		s.i++
		s.ws()
		if s.i < len(s.src) && s.src[s.i] == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.src) {
				return ErrSyntax
			}
			switch s.src[s.i] {
			case ',':
				s.i++
				s.ws()
			case ']':
				s.i++
				return nil
			default:
				return ErrSyntax
			}
		}
	case Object:
		return s.skipObject(depth)
	}
	return ErrSyntax
}

func (s *Scanner) skipObject(depth int) error {
	s.i++
	s.ws()
	if s.i < len(s.src) && s.src[s.i] == '}' {
		s.i++
		return nil
	}
	var first [8]string
	var names nameSet
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if !names.add(first[:], k) {
			return ErrDuplicate
		}
		s.ws()
		if s.i >= len(s.src) || s.src[s.i] != ':' {
			return ErrSyntax
		}
		s.i++
		s.ws()
		if err := s.skip(depth + 1); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.src) {
			return ErrSyntax
		}
		switch s.src[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return nil
		default:
			return ErrSyntax
		}
	}
}

func (s *Scanner) number() error {
	i := s.i
	if i < len(s.src) && s.src[i] == '-' {
		i++
	}
	switch {
	case i >= len(s.src):
		return ErrSyntax
	case s.src[i] == '0':
		i++
	case s.src[i] >= '1' && s.src[i] <= '9':
		for i < len(s.src) && isDigit(s.src[i]) {
			i++
		}
	default:
		return ErrSyntax
	}
	if i < len(s.src) && s.src[i] == '.' {
		i++
		if i >= len(s.src) || !isDigit(s.src[i]) {
			return ErrSyntax
		}
		for i < len(s.src) && isDigit(s.src[i]) {
			i++
		}
	}
	exp := i < len(s.src) && (s.src[i] == 'e' || s.src[i] == 'E')
	if exp {
		i++
		if i < len(s.src) && (s.src[i] == '+' || s.src[i] == '-') {
			i++
		}
		if i >= len(s.src) || !isDigit(s.src[i]) {
			return ErrSyntax
		}
		for i < len(s.src) && isDigit(s.src[i]) {
			i++
		}
	}
	// Only an exponent or more than 300 digits can leave float64's range.
	if exp || i-s.i > 300 {
		if _, err := strconv.ParseFloat(s.src[s.i:i], 64); err != nil {
			return ErrRange
		}
	}
	s.i = i
	return nil
}

// ErrRange is returned for a number that encoding/json cannot decode into
// a float64 (such as 1e999): a payload that Claims.Decode into a map could
// not read is refused.
var ErrRange = errors.New("jsonscan: number out of float64 range")

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func hasPrefixAt(s string, i int, p string) bool {
	return len(s)-i >= len(p) && s[i:i+len(p)] == p
}

// str reads a string. Without escapes it returns a substring of the input.
func (s *Scanner) str() (string, error) {
	if s.i >= len(s.src) || s.src[s.i] != '"' {
		return "", ErrSyntax
	}
	start := s.i + 1
	for i := start; i < len(s.src); i++ {
		c := s.src[i]
		switch {
		case c == '"':
			s.i = i + 1
			return s.src[start:i], nil
		case c == '\\':
			return s.strEscaped(start, i)
		case c < 0x20:
			return "", ErrSyntax
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s.src[i:])
			if r == utf8.RuneError && size == 1 {
				return "", ErrSyntax
			}
			i += size - 1
		}
	}
	return "", ErrSyntax
}

func (s *Scanner) strEscaped(start, i int) (string, error) {
	buf := make([]byte, 0, 2*(i-start)+16)
	buf = append(buf, s.src[start:i]...)
	for i < len(s.src) {
		c := s.src[i]
		switch {
		case c == '"':
			s.i = i + 1
			return string(buf), nil
		case c < 0x20:
			return "", ErrSyntax
		case c == '\\':
			if i+1 >= len(s.src) {
				return "", ErrSyntax
			}
			i++
			switch s.src[i] {
			case '"', '\\', '/':
				buf = append(buf, s.src[i])
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(s.src, i+1)
				if !ok {
					return "", ErrSyntax
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(0), false
					if hasPrefixAt(s.src, i+1, `\u`) {
						r2, ok = hex4(s.src, i+3)
					}
					if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", ErrSyntax
			}
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s.src[i:])
			if r == utf8.RuneError && size == 1 {
				return "", ErrSyntax
			}
			buf = append(buf, s.src[i:i+size]...)
			i += size
		default:
			buf = append(buf, c)
			i++
		}
	}
	return "", ErrSyntax
}

func hex4(s string, i int) (rune, bool) {
	if len(s)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

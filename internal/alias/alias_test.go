package alias

import "testing"

func TestString(t *testing.T) {
	buf := []byte("header.payload")
	s := String(buf[7:])
	if s != "payload" || !Inside(s, buf) || !Inside(s[3:], buf) {
		t.Fatalf("String = %q, Inside %v", s, Inside(s, buf))
	}
	for name, tc := range map[string]struct {
		s   string
		buf []byte
	}{
		"a copy":      {string(buf[7:]), buf},
		"empty":       {"", buf},
		"nil buffer":  {s, nil},
		"other bytes": {s, []byte("payload")},
	} {
		if Inside(tc.s, tc.buf) {
			t.Errorf("%s: Inside = true", name)
		}
	}
}

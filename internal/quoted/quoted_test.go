package quoted

import "testing"

// TestEscape: quotes and backslashes are escaped, control bytes other
// than tab become spaces, clean text is returned as is.
func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"api", "api"},
		{"", ""},
		{`my "quoted" \ realm`, `my \"quoted\" \\ realm`},
		{"a\r\nb", "a  b"},
		{"tab\there", "tab\there"},
		{"del\x7f", "del "},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

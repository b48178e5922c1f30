// Package quoted escapes text for the inside of an RFC 9110
// quoted-string, as the realm and error_description parameters of the
// library's WWW-Authenticate answers need, for the middleware and the
// forward-auth server alike.
package quoted

import "strings"

// Escape escapes s for the inside of an RFC 9110 quoted-string:
// backslash and double quote are escaped, and control characters other
// than tab (which a quoted-string cannot hold, and which could split a
// header) become spaces. s is returned as is when nothing needs escaping.
func Escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || (c < 0x20 && c != '\t') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case (c < 0x20 && c != '\t') || c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

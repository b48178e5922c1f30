package bearer

import (
	"errors"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
)

// TestCheck: the RFC 6750 b64token grammar, 1*b64token-char *"=", and the
// two refusals' wording.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		tok, err string
	}{
		{"abc", ""},
		{"a.b-c_d~e+f/g", ""},
		{"abc==", ""},
		{"", "does not start"},
		{"=abc", "does not start"},
		{"==", "does not start"},
		{" abc", "does not start"},
		{"ab=c", "outside"},
		{"ab c", "outside"},
		{"abc\x00", "outside"},
		{"abc=\n", "outside"},
		{"abcé", "outside"},
	} {
		_, err := Check(tc.tok, 100, true)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("Check(%q) = %v, want nil", tc.tok, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, cognitoguard.ErrMalformed)):
			t.Errorf("Check(%q) = %v, want ErrMalformed %q", tc.tok, err, tc.err)
		}
	}
	if _, err := Check("ab c", 100, false); err != nil {
		t.Errorf("Check without the grammar = %v", err)
	}
	if _, err := Check(strings.Repeat("a", 101), 100, false); err == nil {
		t.Error("Check of a token over the limit: nil")
	}
}

// TestAllB64token: the unrolled scan finds one bad byte of any value at
// any position, in strings of every length around its 8-byte step.
func TestAllB64token(t *testing.T) {
	for n := 1; n <= 25; n++ {
		for pos := range n {
			for c := range 256 {
				s := []byte(strings.Repeat("a", n))
				s[pos] = byte(c)
				if got, want := allB64token(string(s)), b64token[c] == 1; got != want {
					t.Fatalf("allB64token(%q) = %v, want %v", s, got, want)
				}
			}
		}
	}
	if !allB64token("") {
		t.Error(`allB64token("") = false`)
	}
}

func BenchmarkCheck(b *testing.B) {
	tok := "eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJ1c2VyLTEiLCJ0b2tlbl91c2UiOiJhY2Nlc3MifQ.c2lnbmF0dXJlLW9mLXRoZS10ZXN0LXRva2VuLXh5eg"
	for b.Loop() {
		if _, err := Check(tok, 1<<14, true); err != nil {
			b.Fatal(err)
		}
	}
}

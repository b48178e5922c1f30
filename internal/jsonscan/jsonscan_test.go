package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// members reads every member of src: strings, ints, string arrays and
// skipped values, in the way the token parser does.
func members(src string) (map[string]any, error) {
	var s Scanner
	s.Reset(src)
	out := map[string]any{}
	for {
		k, ok, err := s.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		switch s.Peek() {
		case String:
			v, err := s.String()
			if err != nil {
				return nil, err
			}
			out[k] = v
		case Number:
			n, err := s.Int()
			if errors.Is(err, ErrNotInteger) {
				out[k] = "non-integer"
				continue
			}
			if err != nil {
				return nil, err
			}
			out[k] = n
		case Array:
			save := s
			v, err := s.Strings(nil)
			if err != nil {
				s = save
				if err := s.Skip(); err != nil {
					return nil, err
				}
				out[k] = "array"
				continue
			}
			out[k] = v
		default:
			if err := s.Skip(); err != nil {
				return nil, err
			}
			out[k] = "skipped"
		}
	}
}

func TestScanner(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want map[string]any // nil: error expected
	}{
		{"empty object", `{}`, map[string]any{}},
		{"whitespace", " \t\r\n{ \"a\" : \"b\" } \n", map[string]any{"a": "b"}},
		{"int", `{"exp":1700000000}`, map[string]any{"exp": int64(1700000000)}},
		{"negative", `{"n":-5}`, map[string]any{"n": int64(-5)}},
		{"fraction", `{"exp":1.5}`, map[string]any{"exp": "non-integer"}},
		{"exponent", `{"exp":1e10}`, map[string]any{"exp": "non-integer"}},
		{"too big", `{"exp":99999999999999999999}`, map[string]any{"exp": "non-integer"}},
		{"escapes", `{"a":"x\"y\\z\/\n\u00e9\ud83d\ude00"}`, map[string]any{"a": "x\"y\\z/\né😀"}},
		{"escaped key", `{"\u0069ss":"v"}`, map[string]any{"iss": "v"}},
		{"lone surrogate", `{"a":"\ud800"}`, map[string]any{"a": "\ufffd"}},
		{"array", `{"g":["a","b"]}`, map[string]any{"g": []string{"a", "b"}}},
		{"empty array", `{"g":[]}`, map[string]any{"g": []string(nil)}},
		{"nested skipped", `{"o":{"x":[1,{"y":null}],"z":true},"k":"v"}`, map[string]any{"o": "skipped", "k": "v"}},
		{"mixed array", `{"a":[1,"x"]}`, map[string]any{"a": "array"}},
		{"not object", `[]`, nil},
		{"trailing garbage", `{"a":"b"}x`, nil},
		{"two objects", `{}{}`, nil},
		{"trailing comma", `{"a":"b",}`, nil},
		{"missing colon", `{"a" "b"}`, nil},
		{"unquoted key", `{a:"b"}`, nil},
		{"leading zero", `{"a":01}`, nil},
		{"bare minus", `{"a":-}`, nil},
		{"dot no digits", `{"a":1.}`, nil},
		{"control char", "{\"a\":\"x\x01\"}", nil},
		{"bad escape", `{"a":"\x"}`, nil},
		{"short unicode", `{"a":"\u12"}`, nil},
		{"bad utf8", "{\"a\":\"\xff\"}", nil},
		{"unterminated", `{"a":"b`, nil},
		{"NaN", `{"exp":NaN}`, nil},
		{"Infinity", `{"exp":Infinity}`, nil},
		{"truncated true", `{"a":tru}`, nil},
		{"empty input", ``, nil},
		{"duplicate", `{"a":1,"a":2}`, nil},
		{"case duplicate", `{"sub":"x","SUB":"y"}`, nil},
		{"escaped duplicate", `{"sub":"x","s\u0075b":"y"}`, nil},
		{"kelvin folds to k", `{"k":1,"\u212a":2}`, nil},
		{"long s folds to s", `{"s":1,"ſ":2}`, nil},
		{"nested duplicate", `{"o":{"x":1,"x":2}}`, nil},
		{"nested in array", `{"o":[{"userId":"a","USERID":"b"}]}`, nil},
		{"same name in sibling objects", `{"o":[{"x":1},{"x":2}],"p":{"x":3}}`, map[string]any{"o": "array", "p": "skipped"}},
		{"number beyond float64", `{"x":1e999}`, nil},
		{"negative beyond float64", `{"o":[-1e309]}`, nil},
		{"tiny number rounds to zero", `{"x":1e-999}`, map[string]any{"x": "non-integer"}},
		{"same name at two depths", `{"x":{"x":{"x":1}}}`, map[string]any{"x": "skipped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := members(tt.src)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("members(%q) = %v, want error", tt.src, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("members(%q): %v", tt.src, err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tt.want)
			if string(gj) != string(wj) {
				t.Fatalf("members(%q) = %s, want %s", tt.src, gj, wj)
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	deep := `{"a":`
	for range MaxDepth + 2 {
		deep += "["
	}
	if _, err := members(deep); err == nil {
		t.Fatal("unbounded nesting accepted")
	}
}

// manyMembers returns an object of n distinct members a0…, then extra.
func manyMembers(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, `"a%d":%d,`, i, i)
	}
	b.WriteString(extra)
	b.WriteString("}")
	return b.String()
}

// TestDuplicatesBeyondSmallSet covers the map of folded names used past
// the first smallNames members, top level and nested.
func TestDuplicatesBeyondSmallSet(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want error
	}{
		{manyMembers(2*smallNames, `"z":1`), nil},
		{manyMembers(2*smallNames, `"A7":1`), ErrDuplicate},
		{manyMembers(2*smallNames, `"k":1,"\u212a":1`), ErrDuplicate},
		{`{"o":` + manyMembers(20, `"ſ":1,"S":2`) + `}`, ErrDuplicate},
		{`{"o":` + manyMembers(20, `"a19x":1`) + `}`, nil},
	} {
		_, err := members(tt.src)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("members(%.40q…) = %v, want %v", tt.src, err, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	for _, s := range []string{"sub", "SUB", "ſub", "\u212a", "k", "K", "ǅ", "ǆ", "Ǆ", "Σ", "ς", "σ", "custom:Role", "é", "É", "ß", "ẞ"} {
		for _, u := range []string{"sub", "SUB", "ſub", "\u212a", "k", "K", "ǅ", "ǆ", "Ǆ", "Σ", "ς", "σ", "custom:role", "é", "É", "ß", "ẞ"} {
			if got, want := Fold(s) == Fold(u), strings.EqualFold(s, u); got != want {
				t.Errorf("Fold(%q) == Fold(%q) is %v, EqualFold %v", s, u, got, want)
			}
		}
	}
	if s := "cognito:groups"; Fold(s) != s {
		t.Errorf("Fold changed a canonical name: %q", Fold(s))
	}
}

// foldDuplicate reports, with encoding/json as the independent reader,
// whether some object in src has two member names equal under
// strings.EqualFold.
func foldDuplicate(src string) bool {
	dec := json.NewDecoder(strings.NewReader(src))
	var stack [][]string // names of each open object; nil for arrays
	expectName := func() bool { return len(stack) > 0 && stack[len(stack)-1] != nil }
	nameNext := []bool{}
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, []string{})
				nameNext = append(nameNext, true)
			case '[':
				stack = append(stack, nil)
				nameNext = append(nameNext, false)
			default:
				stack = stack[:len(stack)-1]
				nameNext = nameNext[:len(nameNext)-1]
				if len(nameNext) > 0 && expectName() {
					nameNext[len(nameNext)-1] = true
				}
			}
			continue
		case string:
			if expectName() && nameNext[len(nameNext)-1] {
				for _, n := range stack[len(stack)-1] {
					if strings.EqualFold(n, v) {
						return true
					}
				}
				stack[len(stack)-1] = append(stack[len(stack)-1], v)
				nameNext[len(nameNext)-1] = false
				continue
			}
		}
		if expectName() {
			nameNext[len(nameNext)-1] = true
		}
	}
}

// FuzzScanner checks that the scanner never panics, never accepts what
// encoding/json rejects or cannot decode into an interface (numbers beyond
// float64), and refuses exactly the objects with member names
// equal up to case (judged by encoding/json's tokenizer and
// strings.EqualFold).
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b","n":1,"g":["x"],"o":{"p":[true,null]}}`, `{"a":"\u00e9"}`, `{"a":1.5e3}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := members(src)
		if errors.Is(err, ErrDuplicate) {
			if !foldDuplicate(src) {
				t.Fatalf("ErrDuplicate for %q, which has no names equal up to case", src)
			}
			return
		}
		if err != nil {
			return
		}
		if foldDuplicate(src) {
			t.Fatalf("scanner accepted %q, which has names equal up to case", src)
		}
		var anything any
		if err := json.Unmarshal([]byte(src), &anything); err != nil {
			t.Fatalf("scanner accepted %q, which encoding/json cannot decode into any: %v", src, err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(src), &raw); err != nil {
			t.Fatalf("scanner accepted %q, encoding/json: %v", src, err)
		}
		// Strings must decode to the same value.
		for k, v := range got {
			s, ok := v.(string)
			if !ok || s == "skipped" || s == "array" || s == "non-integer" {
				continue
			}
			var want string
			if err := json.Unmarshal(raw[k], &want); err == nil && want != s {
				t.Fatalf("member %q: scanner %q, encoding/json %q", k, s, want)
			}
		}
	})
}

package jsonscan

import (
	"encoding/json"
	"errors"
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

// FuzzScanner checks that the scanner never panics and never accepts what
// encoding/json rejects.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b","n":1,"g":["x"],"o":{"p":[true,null]}}`, `{"a":"\u00e9"}`, `{"a":1.5e3}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := members(src)
		if err != nil {
			return
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(src), &raw); err != nil {
			t.Fatalf("scanner accepted %q, encoding/json: %v", src, err)
		}
		// Strings must decode to the same value (duplicates: last wins in
		// both).
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

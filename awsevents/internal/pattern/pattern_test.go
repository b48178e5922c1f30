package pattern

import "testing"

func TestMatch(t *testing.T) {
	p, err := Parse([]byte(`{"a":["x",""],"b":{"c":[{"exists":false}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		event string
		want  bool
	}{
		{`{"a":"x","b":{}}`, true},
		{`{"a":"","b":{}}`, true},
		{`{"a":["y","x"],"b":{}}`, true},
		{`{"a":"y","b":{}}`, false},
		{`{"b":{}}`, false},
		{`{"a":"x","b":{"c":"z"}}`, false},
		{`{"a":"x"}`, false},
		{`{"a":"x","b":"c"}`, false},
	} {
		if got, err := p.Match([]byte(tt.event)); err != nil || got != tt.want {
			t.Errorf("Match(%s) = %v, %v; want %v", tt.event, got, err, tt.want)
		}
	}
	for _, bad := range []string{`{"a":"x"}`, `{"a":[{"prefix":"x"}]}`, `[`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) succeeded", bad)
		}
	}
}

package jsonscan

import (
	"errors"
	"testing"
	"time"
)

func TestNumericDate(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`0`, 0, true},
		{`1795348800`, 1795348800, true},
		{`100000000000`, 1e11, true},
		{`100000000001`, 0, false},
		{`-1`, 0, false},
		{`1.5`, 0, false},
		{`1e3`, 0, false},
		{`"1795348800"`, 0, false},
		{`null`, 0, false},
	}
	for _, tt := range tests {
		sc := New(tt.in)
		got, err := sc.NumericDate()
		if tt.ok != (err == nil) || (tt.ok && !got.Equal(time.Unix(tt.want, 0))) {
			t.Errorf("NumericDate(%s) = %v, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrNumericDate) {
			t.Errorf("NumericDate(%s): %v is not ErrNumericDate", tt.in, err)
		}
	}
}

func TestLooseBool(t *testing.T) {
	tests := []struct {
		in       string
		want, ok bool
	}{
		{`true`, true, true}, {`false`, false, true}, {`"true"`, true, true}, {`"false"`, false, true},
		{`"True"`, false, false}, {`"yes"`, false, false}, {`1`, false, false}, {`null`, false, false},
	}
	for _, tt := range tests {
		sc := New(tt.in)
		got, err := sc.LooseBool()
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("LooseBool(%s) = %v, %v", tt.in, got, err)
		}
	}
}

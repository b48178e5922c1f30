package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestUsage: flag mistakes exit 2 with a message; -h exits 0.
func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage"},
		{[]string{"nope"}, 2, "unknown subcommand"},
		{[]string{"run", "-redis-addr", "x:1", "-queue-url", "http://q"}, 2, "-user-pool-id is required"},
		{[]string{"run", "-user-pool-id", "us-east-1_Abc", "-queue-url", "http://q"}, 2, "-redis-addr is required"},
		{[]string{"run", "-user-pool-id", "us-east-1_Abc", "-redis-addr", "x:1"}, 2, "-queue-url is required"},
		{[]string{"run", "-user-pool-id", "nopool", "-redis-addr", "x:1", "-queue-url", "http://q"}, 2, "-user-pool-id"},
		{[]string{"run", "-user-pool-id", "us-east-1_Abc", "-redis-addr", "x:1", "-queue-url", "http://q", "-wait-time", "21s"}, 2, "-wait-time"},
		{[]string{"backfill", "-user-pool-id", "us-east-1_Abc", "-redis-addr", "x:1", "-since", "48h"}, 2, "-since"},
		{[]string{"verify", "-user-pool-id", "us-east-1_Abc", "-redis-addr", "x:1"}, 2, "-username is required"},
		{[]string{"run", "-h"}, 0, "-queue-url"},
	} {
		var out, errb bytes.Buffer
		code := cli(t.Context(), tt.args, &out, &errb)
		if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
			t.Errorf("cli(%q) = %d, output %q; want %d and %q", tt.args, code, out.String()+errb.String(), tt.code, tt.want)
		}
	}
}

package main

import (
	"flag"
	"testing"

	"github.com/cognitoguard/cognitoguard/internal/wiring"
)

// TestFlagsAgreeWithWiring: this example defines the service flags with
// the public API only (so a user can copy it); the commands define them
// in internal/wiring. The two must stay one contract: the same names,
// defaults and help text.
func TestFlagsAgreeWithWiring(t *testing.T) {
	var ours serviceFlags
	api := flag.NewFlagSet("api", flag.ContinueOnError)
	ours.Register(api)
	var theirs wiring.Flags
	cmd := flag.NewFlagSet("cmd", flag.ContinueOnError)
	theirs.Register(cmd)
	n := 0
	cmd.VisitAll(func(want *flag.Flag) {
		n++
		got := api.Lookup(want.Name)
		switch {
		case got == nil:
			t.Errorf("-%s: defined by internal/wiring, missing here", want.Name)
		case got.DefValue != want.DefValue || got.Usage != want.Usage:
			t.Errorf("-%s: default %q, usage %q; internal/wiring: %q, %q", want.Name, got.DefValue, got.Usage, want.DefValue, want.Usage)
		}
	})
	api.VisitAll(func(f *flag.Flag) {
		if cmd.Lookup(f.Name) == nil {
			t.Errorf("-%s: defined here, missing in internal/wiring", f.Name)
		}
	})
	if n == 0 {
		t.Fatal("internal/wiring defines no flags")
	}
}

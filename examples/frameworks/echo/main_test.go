package main

import (
	"testing"

	"github.com/cognitoguard/cognitoguard/examples/frameworks/internal/fixture"
)

func TestRouter(t *testing.T) {
	f := fixture.New(t)
	f.Run(t, newRouter(f.Verifier, nil))
}

// TestRun starts the program on a free port and asks it for /me.
func TestRun(t *testing.T) {
	fixture.New(t).RunProgram(t, run)
}

package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEQuickStart: the README's quick start is this file, word for
// word, so that it compiles as written.
func TestREADMEQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	// The README shows the file from its package clause on.
	code := string(src[strings.Index(string(src), "package main"):])
	if !strings.Contains(string(readme), "```go\n"+code+"```\n") {
		t.Fatal("README.md's quick start differs from examples/quickstart/main.go: copy the file (from `package main` on) into the README")
	}
}

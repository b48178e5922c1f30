package grpcguard_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImports: the gRPC adapter stands on the core alone. It imports
// neither net/http nor the HTTP middleware (it once built a fake
// *http.Request to reuse the middleware's bearer parser); the bearer
// grammar comes from the internal package both share.
func TestImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	list := func(format string, args ...string) []string {
		out, err := exec.Command(goTool, append([]string{"list", "-f", format}, args...)...).Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		return strings.Fields(string(out))
	}
	if imports := list(`{{join .Imports " "}}`, "."); slices.Contains(imports, "net/http") {
		t.Errorf("grpcguard imports net/http: %v", imports)
	}
	if deps := list(`{{join .Deps " "}}`, "."); slices.Contains(deps, "github.com/cognitoguard/cognitoguard/middleware") {
		t.Error("grpcguard depends on package middleware")
	}
}

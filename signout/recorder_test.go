package signout_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// Every store of package revocation records sign-outs.
var _ signout.Recorder = revocation.Store(nil)

// TestImportsNoStore: the sign-out helper records through its Recorder
// interface and imports no store package (no revocation, no Redis); only
// its tests bind it to the stores.
func TestImportsNoStore(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-f", `{{join .Deps " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/cognitoguard/cognitoguard/revocation") || strings.HasPrefix(d, "github.com/redis/") {
			t.Errorf("signout depends on %s", d)
		}
	}
	if !slices.Contains(deps, "github.com/cognitoguard/cognitoguard") {
		t.Fatalf("go list gave no dependencies of signout: %v", deps)
	}
}

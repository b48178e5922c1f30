// Package integration holds the one rule of the tests that need a real
// component (redis-server, node packages, a browser, php-fpm, the module
// proxy): without it they are skipped, unless COGNITOGUARD_INTEGRATION=1,
// which makes that a failure, so that CI that promises integration tests
// cannot pass them by skipping.
//
// It is a non-test package so that the tests of every module of the
// repository can use it; it imports only the standard library.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Env is the environment variable that, set to "1", turns a missing
// component from a skip into a failure.
const Env = "COGNITOGUARD_INTEGRATION"

// Unavailable skips t, saying why (format and args), or fails it when
// [Env] is "1".
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if os.Getenv(Env) == "1" {
		t.Fatalf("%s (%s=1: a missing component is a failure)", why, Env)
	}
	t.Skipf("%s (%s=1 makes this a failure)", why, Env)
}

// LookPath returns the path of the first of names found on PATH, or calls
// [Unavailable] when none is.
func LookPath(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Unavailable(t, "%s not found on PATH", names[0])
	return ""
}

// Package awstest makes the AWS SDK's default configuration chain hermetic
// in tests of programs that call config.LoadDefaultConfig.
package awstest

import (
	"path/filepath"
	"testing"
)

// Isolate sets, for the rest of t, static dummy credentials in the
// environment and points every other source of the default chain nowhere:
// no profile, no shared config or credentials files (empty files in a
// temporary directory), no instance metadata service (the only network of
// the tests is loopback), no region from the environment, one attempt per
// call. Like t.Setenv, it cannot be used in parallel tests.
func Isolate(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_MAX_ATTEMPTS":            "1",
	} {
		t.Setenv(k, v)
	}
}

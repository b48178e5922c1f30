package main

import (
	"path/filepath"
	"testing"
)

// TestCognitoClientRegion: without -region, the Cognito client's region is
// the pool ID's, in every partition; -region wins.
func TestCognitoClientRegion(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	for _, tt := range []struct{ region, pool, want string }{
		{"", "eu-west-1_AbC", "eu-west-1"},
		{"", "eusc-de-east-1_AbC", "eusc-de-east-1"},
		{"", "cn-northwest-1_AbC", "cn-northwest-1"},
		{"us-gov-west-1", "eu-west-1_AbC", "us-gov-west-1"},
	} {
		c, err := cognitoClient(t.Context(), options{region: tt.region, poolID: tt.pool})
		if err != nil {
			t.Errorf("%s: %v", tt.pool, err)
			continue
		}
		if got := c.Options().Region; got != tt.want {
			t.Errorf("pool %s, -region %q: client region %q, want %q", tt.pool, tt.region, got, tt.want)
		}
	}
	if _, err := cognitoClient(t.Context(), options{poolID: "local_AbC"}); err == nil {
		t.Error("an emulator pool ID without -region or AWS_REGION got a client")
	}
}

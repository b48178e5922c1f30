package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
)

func TestIsolate(t *testing.T) {
	Isolate(t)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.Source != "EnvConfigCredentials" {
		t.Fatalf("credentials = %+v, %v", creds, err)
	}
	if cfg.Region != "" || cfg.RetryMaxAttempts != 1 {
		t.Fatalf("region %q, max attempts %d", cfg.Region, cfg.RetryMaxAttempts)
	}
}

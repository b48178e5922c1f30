package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// verifyCmd signs the canary out and waits for a running consumer to
// record the event.
func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f common
	f.register(fs)
	username := fs.String("username", "", "`username` of the canary user to sign out (required; its sessions end)")
	timeout := fs.Duration("timeout", 15*time.Minute, "how long to wait for the event")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *username == "" || *timeout <= 0 {
		return fmt.Errorf("%w: -username is required, -timeout positive", errUsage)
	}
	if err := f.check(); err != nil {
		return err
	}
	if len(f.poolIDs) != 1 {
		return fmt.Errorf("%w: verify takes one -user-pool-id", errUsage)
	}
	pool := f.poolIDs[0]
	log := logger(stderr)
	s, err := f.openStore(log)
	if err != nil {
		return err
	}
	defer s.Close()
	cfg, err := awsConfig(ctx, f.region)
	if err != nil {
		return err
	}
	cognito := f.cognitoClient(cfg)
	u, err := cognito.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &pool, Username: username})
	if err != nil {
		return fmt.Errorf("AdminGetUser: %w", err)
	}
	var sub string
	for _, a := range u.UserAttributes {
		if aws.ToString(a.Name) == "sub" {
			sub = aws.ToString(a.Value)
		}
	}
	if sub == "" {
		return errors.New("AdminGetUser: the canary has no sub attribute")
	}
	// CloudTrail's eventTime has second resolution: the event's time is
	// at or after the start of this second.
	start := time.Now()
	if _, err := cognito.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: &pool, Username: username}); err != nil {
		return fmt.Errorf("AdminUserGlobalSignOut: %w", err)
	}
	log.Info("canary signed out; waiting for its event", slog.String("pool", pool), slog.String("sub", sub))
	return waitRecorded(ctx, s, pool, sub, start, *timeout, stdout)
}

// waitRecorded polls the store until it holds a sign-out of sub at or
// after start's second.
func waitRecorded(ctx context.Context, s *store, pool, sub string, start time.Time, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	floor := start.Truncate(time.Second)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		at, ok, err := s.SignedOutAt(ctx, pool, sub)
		if err == nil && ok && !at.Before(floor) {
			fmt.Fprintf(stdout, "event arrived: recorded at eventTime %s, %v after the sign-out\n",
				at.UTC().Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no sign-out of the canary recorded within %v: check the trail, the rule (and its dead-letter queue), the queue and the consumer's logs: %w", timeout, ctx.Err())
		case <-tick.C:
		}
	}
}

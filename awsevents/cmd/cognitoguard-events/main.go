// Command cognitoguard-events honours the Cognito sign-outs made without
// cognitoguard (an app's GlobalSignOut, the console's "Sign out user",
// AdminDisableUser, AdminDeleteUser, DeleteUser, …): it reads their
// CloudTrail records from the SQS queue the EventBridge rule of
// awsevents' CloudFormation template fills, and records each sign-out in
// the Redis store the services share, so that every instance rejects the
// user's older tokens.
//
// Usage:
//
//	cognitoguard-events run -user-pool-id ID[,ID…] -redis-addr host:6379 -queue-url URL [flags]
//	cognitoguard-events backfill -user-pool-id ID[,ID…] -redis-addr host:6379 [-since 24h5m] [flags]
//	cognitoguard-events verify -user-pool-id ID -redis-addr host:6379 -username CANARY [-timeout 15m] [flags]
//
// run consumes the queue until SIGINT or SIGTERM (then it finishes the
// batch in hand and exits 0), and reconciles with CloudTrail's event
// history every -reconcile-every (one consumer at a time, through a Redis
// lock): at first deployment over the last record TTL, after an outage
// from the last complete pass, else over the last hour. -visibility MUST
// be the queue's visibility timeout.
//
// backfill records the sign-outs of CloudTrail's event history over the
// last -since (default: the record TTL) and prints the counts as JSON.
//
// verify signs the canary user out on the live pool (AdminUserGlobalSignOut)
// and waits until a running consumer has recorded the event: the one check
// of the assumed record shapes (testdata/cloudtrail) and of the deployed
// pipeline against AWS. It needs cognito-idp:AdminGetUser and
// cognito-idp:AdminUserGlobalSignOut on the pool. It prints how long the
// event took, and exits 1 if it did not arrive within -timeout.
//
// Shared flags (names as in examples/api): -region (default: the first
// pool's), -user-pool-id (comma-separated), -replica-region
// (comma-separated replica regions of the pools), -redis-addr,
// -redis-master, -redis-tls, -redis-ca, -wait-replicas, -passwords,
// -sessions, and endpoint overrides for emulators: -cognito-endpoint,
// -sqs-endpoint, -cloudtrail-endpoint. Redis credentials come from
// REDIS_USERNAME and REDIS_PASSWORD, AWS credentials from the default
// chain. The store never waits for instances' acknowledgements
// (WaitInstances is not durability); -wait-replicas is. Logs are JSON
// lines on stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cognitoguard/cognitoguard/internal/wiring"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second signal kills the process
	wiring.LogRedisTo(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	os.Exit(cli(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: cognitoguard-events run|backfill|verify [flags]  (-h after a subcommand lists its flags)`

// cli runs the subcommand of args and returns the exit status.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runCmd(ctx, args[1:], stdout, stderr)
	case "backfill":
		err = backfillCmd(ctx, args[1:], stdout, stderr)
	case "verify":
		err = verifyCmd(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown subcommand %q\n%s\n", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "cognitoguard-events:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "cognitoguard-events:", err)
		return 1
	}
}

// errUsage marks a flag mistake (exit status 2).
var errUsage = errors.New("usage")

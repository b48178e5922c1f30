// Command cognitoguard is the operations tool of the cognitoguard library:
// it signs users out now (in the shared Redis revocation store and in
// Cognito) and tells when a user last signed out.
//
// Usage:
//
//	cognitoguard signout -user-pool-id P -redis-addr H:P [flags] USERNAME
//	cognitoguard status  -user-pool-id P -redis-addr H:P [flags] USERNAME
//	cognitoguard status  -user-pool-id P -redis-addr H:P [flags] -sub SUB
//	cognitoguard status  -user-pool-id P -redis-addr H:P [flags] -client CLIENT_ID
//	cognitoguard revoke-client -user-pool-id P -redis-addr H:P [flags] CLIENT_ID
//
// USERNAME is a username, an alias such as the email, or a local user's
// sub; both commands resolve it to the user's sub with AdminGetUser (IAM
// permission cognito-idp:AdminGetUser) in the user pool's region, taken
// from the pool ID unless -region is given. An argument that can be
// neither a username nor a sub (spaces, control characters, more than 128
// characters) is refused as a usage error; so is a user that Cognito does
// not know an error (exit 1), never an empty answer. status -sub SUB reads
// the record of SUB without calling Cognito: for a federated user's sub,
// which AdminGetUser refuses, or without IAM access.
//
// signout records the sign-out in Redis, so that every service sharing it
// rejects the user's tokens at once, and calls AdminUserGlobalSignOut,
// which revokes the user's refresh tokens. It prints the sub and the
// recorded time. It also needs the IAM permission
// cognito-idp:AdminUserGlobalSignOut.
//
// With -wait-replicas N, signout succeeds only once N Redis replicas hold
// the record (use it with Sentinel or Cluster replicas: a failover cannot
// lose it then); with -wait-instances, only once every service instance
// subscribed to the store has applied it. Either shortfall is an error,
// the record kept: run the command again.
//
// status prints the user's last sign-out recorded in Redis (records live
// for a day), and, when Redis lost its data and the services could not
// prove every sign-out restored, the data-loss floor in force: every token
// authenticated at or before it is rejected, whoever its user. Output is
// "key value" lines:
//
//	sub 3f1c…
//	signed_out_at 2026-12-07T01:32:44.038Z   (or "none")
//	data_loss_floor 2026-12-07T01:40:00.000Z (only when one is in force)
//
// revoke-client revokes an app client (a leaked or rotated client
// secret): every token issued to CLIENT_ID until now — its
// client-credentials (M2M) tokens and its users' tokens — is rejected by
// every service sharing the store. Cognito has no call that revokes a
// client's tokens, so none is made and no IAM permission is needed: the
// record exists only in Redis (no CloudTrail event logs it). Rotate the
// secret in Cognito too. It prints client_id and revoked_at, and takes
// -wait-replicas and -wait-instances as signout does. status -client
// CLIENT_ID prints client_revoked_at (or "none") and the data-loss floor.
//
// AWS credentials come from the default chain (environment, shared files,
// IAM role), as does the Cognito endpoint unless -cognito-endpoint is
// given (-endpoint is its old name, still accepted). Redis credentials
// come from the environment variables REDIS_USERNAME and REDIS_PASSWORD,
// never from flags; -redis-tls connects with TLS verified by the system's
// roots, -redis-ca FILE by the CAs in FILE instead. -redis-prefix MUST be
// the services' prefix. Sign-outs are recorded under the user pool ID, as
// the services' Verifiers read them, whatever issuers they accept.
//
// Each command takes only the flags it reads ("cognitoguard status -h"
// lists them), before or after the user argument; a user argument that
// starts with "-" goes after "--".
//
// Exit status: 0 on success, 1 when the operation failed (the error is
// printed with its class), 2 on a usage error.
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
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard/internal/wiring"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
	"github.com/cognitoguard/cognitoguard/signout"
)

func main() {
	// go-redis logs connection failures through a global logger; the
	// command reports them itself, with their class.
	wiring.LogRedisTo(slog.New(slog.DiscardHandler)) // its internal log is noise here
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  cognitoguard signout -user-pool-id P -redis-addr H:P [flags] USERNAME
  cognitoguard status  -user-pool-id P -redis-addr H:P [flags] USERNAME
  cognitoguard status  -user-pool-id P -redis-addr H:P [flags] -sub SUB
  cognitoguard status  -user-pool-id P -redis-addr H:P [flags] -client CLIENT_ID
  cognitoguard revoke-client -user-pool-id P -redis-addr H:P [flags] CLIENT_ID

USERNAME (a username, an alias or a local user's sub) is resolved with
AdminGetUser: IAM permission cognito-idp:AdminGetUser on the pool; signout
also needs cognito-idp:AdminUserGlobalSignOut.

Run "cognitoguard COMMAND -h" for the flags of a command.
`

// timeFormat prints recorded times at the store's millisecond precision.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// run is the whole program: it parses args (without the program name),
// writes results to stdout and diagnostics to stderr, and returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "signout":
		return runSignOut(ctx, args[1:], stdout, stderr)
	case "status":
		return runStatus(ctx, args[1:], stdout, stderr)
	case "revoke-client":
		return runRevokeClient(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "cognitoguard: unknown command %q\n%s", args[0], usage)
		return 2
	}
}

// options are the flags of the commands; each command defines only those
// it reads.
type options struct {
	region, poolID, endpoint, sub    string
	client                           string // status -client
	readFloor                        bool   // status: the store reads the data-loss floor (not write-only)
	redisAddr, redisMaster, prefix   string
	redisCA                          string
	redisTLS, verbose, waitInstances bool
	waitReplicas                     int
	timeout                          time.Duration
}

// newFlagSet returns the flag set of a command with the flags every
// command reads: the pool, Cognito and Redis.
func newFlagSet(name, args string, stderr io.Writer, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: cognitoguard %s [flags] %s\n", name, args)
		fmt.Fprintln(stderr, "A USERNAME is resolved with AdminGetUser (IAM permission cognito-idp:AdminGetUser).")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.poolID, "user-pool-id", "", "user pool id, such as eu-west-1_AbCdEf123 (required)")
	fs.StringVar(&o.redisAddr, "redis-addr", "", "Redis host:port; several, comma-separated, for a Cluster or Sentinels (required)")
	fs.StringVar(&o.redisMaster, "redis-master", "", "Sentinel master name (with the Sentinels' addresses in -redis-addr)")
	fs.StringVar(&o.prefix, "redis-prefix", redisstore.DefaultPrefix, "key prefix of the services' revocation store")
	fs.BoolVar(&o.redisTLS, "redis-tls", false, "connect to Redis with TLS (the system's roots verify its certificate)")
	fs.StringVar(&o.redisCA, "redis-ca", "", "PEM `file` of the CAs that verify Redis's certificate instead of the system's roots (implies -redis-tls)")
	fs.StringVar(&o.region, "region", "", "AWS region (default: the user pool's)")
	fs.StringVar(&o.endpoint, "cognito-endpoint", "", "Cognito API endpoint `URL` override (emulators, tests; default: the SDK's, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)")
	fs.StringVar(&o.endpoint, "endpoint", "", "old name of -cognito-endpoint")
	fs.DurationVar(&o.timeout, "timeout", signout.DefaultTimeout, "bound of each Redis call and Cognito call")
	return fs
}

// parse parses args, flags before and after the user argument alike (as
// "signout alice -wait-instances" reads), and returns the single
// positional argument, or the exit status of a usage error. After "--"
// every argument is positional.
func parse(fs *flag.FlagSet, args []string, o *options, stderr io.Writer) (string, int) {
	var users []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", 0
			}
			return "", 2
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			users = append(users, rest...)
			break
		}
		users, args = append(users, rest[0]), rest[1:]
	}
	var missing []string
	if o.poolID == "" {
		missing = append(missing, "-user-pool-id")
	}
	if o.redisAddr == "" {
		missing = append(missing, "-redis-addr")
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "cognitoguard %s: missing %s\n", fs.Name(), strings.Join(missing, ", "))
		fs.Usage()
		return "", 2
	}
	user, ok := userArg(fs, o, users, stderr)
	if !ok {
		return "", 2
	}
	if o.timeout <= 0 {
		fmt.Fprintf(stderr, "cognitoguard %s: -timeout must be positive\n", fs.Name())
		return "", 2
	}
	if o.waitReplicas < 0 {
		fmt.Fprintf(stderr, "cognitoguard %s: -wait-replicas must not be negative\n", fs.Name())
		return "", 2
	}
	return user, -1
}

func runSignOut(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet("signout", "USERNAME", stderr, &o)
	fs.IntVar(&o.waitReplicas, "wait-replicas", 0, "succeed only once this many Redis replicas hold the sign-out (WAIT; see redisstore.Config.WaitReplicas)")
	fs.BoolVar(&o.waitInstances, "wait-instances", false, "succeed only once every subscribed service instance has applied the sign-out (redisstore.Config.WaitInstances)")
	fs.BoolVar(&o.verbose, "v", false, "log the steps to stderr")
	user, code := parse(fs, args, &o, stderr)
	if code >= 0 {
		return code
	}
	store, closeStore, err := openStore(o)
	if err != nil {
		return fail(stderr, "signout", err)
	}
	defer closeStore()
	api, err := cognitoClient(ctx, o)
	if err != nil {
		return fail(stderr, "signout", err)
	}
	so, err := newSignOut(api, store, o, stderr)
	if err != nil {
		return fail(stderr, "signout", err)
	}
	sub, err := so.AdminSignOut(ctx, user)
	if err != nil {
		var soe *signout.Error
		if errors.As(err, &soe) {
			fmt.Fprintf(stdout, "sub %s\n", soe.Sub)
			switch {
			case errors.Is(err, revocation.ErrUnconfirmed):
				fmt.Fprintln(stderr, "cognitoguard signout: the sign-out is recorded but not confirmed by every replica or instance asked for; run the command again")
			case soe.Recorded:
				fmt.Fprintln(stderr, "cognitoguard signout: the sign-out is recorded (the user's tokens are rejected); run the command again to complete it in Cognito")
			default:
				fmt.Fprintln(stderr, "cognitoguard signout: the sign-out is NOT recorded: the user's unexpired tokens are still accepted; run the command again")
			}
		}
		return fail(stderr, "signout", err)
	}
	fmt.Fprintf(stdout, "sub %s\n", sub)
	at, ok, err := store.SignedOutAt(ctx, o.poolID, sub)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "cognitoguard signout: signed out, but reading the recorded time failed: %v\n", err)
	case ok:
		fmt.Fprintf(stdout, "signed_out_at %s\n", at.UTC().Format(timeFormat))
	}
	return 0
}

func cognitoClient(ctx context.Context, o options) (*cognitoidentityprovider.Client, error) {
	return wiring.NewCognitoClient(ctx, o.region, o.poolID, o.endpoint)
}

func newSignOut(api signout.CognitoAPI, store signout.Recorder, o options, stderr io.Writer) (*signout.Helper, error) {
	log := slog.New(slog.DiscardHandler)
	if o.verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return signout.New(api, nil, store, signout.Config{
		UserPoolID: o.poolID,
		Timeout:    o.timeout,
		Logger:     log,
	})
}

// openStore connects to the services' Redis store. Writes and SignedOutAt
// always go to Redis: the store is write-only (no subscription, no
// goroutine) unless -wait-instances, whose acknowledgements come back on
// a subscription. The command answers no lookups: the services check
// Redis' eviction policy, so an unverifiable one is left to them.
func openStore(o options) (*redisstore.Store, func(), error) {
	client, err := wiring.NewRedisClient(wiring.RedisOptions{
		Addrs: wiring.SplitList(o.redisAddr), Master: o.redisMaster,
		TLS: o.redisTLS, CAFile: o.redisCA, Timeout: o.timeout,
	})
	if err != nil {
		return nil, nil, err
	}
	store, err := redisstore.New(client, redisstore.Config{
		Prefix: o.prefix, Timeout: o.timeout, WaitReplicas: o.waitReplicas, WaitInstances: o.waitInstances,
		WriteOnly: !o.waitInstances && !o.readFloor, TrustUnverifiedEviction: true,
	})
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return store, func() {
		store.Close()
		client.Close()
	}, nil
}

// fail prints err with its class and returns 1.
func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "cognitoguard %s: %s\n", cmd, describe(err))
	if c := classes(err); c != "" {
		fmt.Fprintf(stderr, "cognitoguard %s: error class: %s\n", cmd, c)
	}
	return 1
}

// classes names the sentinels err matches, for scripts and humans.
func classes(err error) string {
	var out []string
	for _, c := range []struct {
		err  error
		name string
	}{
		{signout.ErrStore, "ErrStore"},
		{revocation.ErrUnavailable, "ErrUnavailable"},
		{revocation.ErrUnconfirmed, "ErrUnconfirmed"},
		{signout.ErrCognito, "ErrCognito"},
		{signout.ErrNotAuthorized, "ErrNotAuthorized"},
		{signout.ErrInvalidParameter, "ErrInvalidParameter"},
		{signout.ErrResourceNotFound, "ErrResourceNotFound"},
		{signout.ErrTooManyRequests, "ErrTooManyRequests"},
		{signout.ErrUserNotFound, "ErrUserNotFound"},
		{signout.ErrCognitoInternal, "ErrCognitoInternal"},
		{context.DeadlineExceeded, "DeadlineExceeded"},
		{context.Canceled, "Canceled"},
	} {
		if errors.Is(err, c.err) {
			out = append(out, c.name)
		}
	}
	return strings.Join(out, " ")
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// usernameArg is what Cognito's Admin APIs accept as a Username (a
// username, an alias or a local user's sub): 1 to 128 letters, marks,
// symbols, digits or punctuation — no spaces, no control characters.
var usernameArg = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$`)

// subArg is what a sub can be: a UUID for a user, the app client ID
// ([\w+]+) for a client-credentials token.
var subArg = regexp.MustCompile(`^[\w+-]{1,128}$`)

// userArg checks the user named by the positional arguments users, or by
// -sub for commands that define it, and returns the positional one ("" with
// -sub). It prints the usage error and returns false otherwise.
func userArg(fs *flag.FlagSet, o *options, users []string, stderr io.Writer) (string, bool) {
	subSet, clientSet := false, false
	fs.Visit(func(f *flag.Flag) {
		subSet = subSet || f.Name == "sub"
		clientSet = clientSet || f.Name == "client"
	})
	name := fs.Name()
	switch {
	case clientSet && (subSet || len(users) > 0):
		fmt.Fprintf(stderr, "cognitoguard %s: give one of USERNAME, -sub SUB or -client CLIENT_ID\n", name)
	case clientSet && !clientArg.MatchString(o.client):
		fmt.Fprintf(stderr, "cognitoguard %s: -client %q is not an app client ID (1 to 128 letters, digits, _ or +)\n", name, o.client)
	case clientSet:
		return "", true
	case subSet && len(users) > 0:
		fmt.Fprintf(stderr, "cognitoguard %s: give either a USERNAME or -sub SUB, not both\n", name)
	case subSet && o.sub == "" || !subSet && (len(users) != 1 || users[0] == ""):
		fmt.Fprintf(stderr, "cognitoguard %s: want exactly one user argument, got %d (a user starting with \"-\" goes after --)\n", name, len(users))
	case subSet && !subArg.MatchString(o.sub):
		fmt.Fprintf(stderr, "cognitoguard %s: -sub %q is not a sub (a UUID, or an app client ID)\n", name, o.sub)
	case subSet:
		return "", true
	case !usernameArg.MatchString(users[0]):
		fmt.Fprintf(stderr, "cognitoguard %s: %q is neither a username, an alias nor a sub (1 to 128 characters, no spaces or control characters)\n", name, users[0])
	default:
		return users[0], true
	}
	return "", false
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet("status", "USERNAME | -sub SUB", stderr, &o)
	fs.StringVar(&o.sub, "sub", "", "read the record of this `sub` without calling Cognito (a federated user's sub, which AdminGetUser refuses, or no IAM access)")
	fs.StringVar(&o.client, "client", "", "read the revocation of this app `client ID` (see revoke-client) instead of a user's, without calling Cognito")
	user, code := parse(fs, args, &o, stderr)
	if code >= 0 {
		return code
	}
	o.readFloor = true // a write-only store has no health check, hence no floor
	store, closeStore, err := openStore(o)
	if err != nil {
		return fail(stderr, "status", err)
	}
	defer closeStore()
	if o.client != "" {
		if err := clientStatus(ctx, o, store, stdout); err != nil {
			return fail(stderr, "status", err)
		}
		return printFloor(ctx, store, o.timeout, stdout, stderr)
	}
	sub := o.sub
	if sub == "" {
		if sub, err = resolve(ctx, o, store, user, stderr); err != nil {
			code := fail(stderr, "status", err)
			fmt.Fprintln(stderr, "cognitoguard status: to read the record of a sub without Cognito (a federated user's sub, no IAM access), use -sub SUB")
			return code
		}
	}
	sctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	at, ok, err := store.SignedOutAt(sctx, o.poolID, sub)
	if err != nil {
		return fail(stderr, "status", err)
	}
	fmt.Fprintf(stdout, "sub %s\n", sub)
	if ok {
		fmt.Fprintf(stdout, "signed_out_at %s\n", at.UTC().Format(timeFormat))
	} else {
		fmt.Fprintln(stdout, "signed_out_at none")
	}
	return printFloor(ctx, store, o.timeout, stdout, stderr)
}

// printFloor prints the data-loss floor in force, if any.
func printFloor(ctx context.Context, store *redisstore.Store, timeout time.Duration, stdout, stderr io.Writer) int {
	floor, err := dataLossFloor(ctx, store, timeout)
	if err != nil {
		return fail(stderr, "status", fmt.Errorf("the data-loss floor is unknown (tokens authenticated before it may be rejected): %w", err))
	}
	if !floor.IsZero() {
		fmt.Fprintf(stdout, "data_loss_floor %s\n", floor.UTC().Format(timeFormat))
	}
	return 0
}

// resolve returns the sub of user, named by username, alias or sub, with
// AdminGetUser.
func resolve(ctx context.Context, o options, store *redisstore.Store, user string, stderr io.Writer) (string, error) {
	api, err := cognitoClient(ctx, o)
	if err != nil {
		return "", err
	}
	so, err := newSignOut(api, store, o, stderr)
	if err != nil {
		return "", err
	}
	u, err := so.Resolve(ctx, user)
	if err != nil {
		return "", fmt.Errorf("resolving %q: %w", user, err)
	}
	return u.Sub, nil
}

// dataLossFloor returns the floor the services recorded after a data loss
// of Redis, zero when none is in force. The store reads it with its first
// health check, which Ready waits for (with the subscriptions).
func dataLossFloor(ctx context.Context, store *redisstore.Store, timeout time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := store.Ready(ctx); err != nil {
		return time.Time{}, err
	}
	return store.Stats().Floor, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
	"github.com/cognitoguard/cognitoguard/signout"
)

// clientArg is what an app client ID can be (Cognito: [\w+]+, at most 128).
var clientArg = regexp.MustCompile(`^[\w+]{1,128}$`)

// runRevokeClient records the revocation of an app client: every token
// issued to it until now is rejected by the services sharing the store.
func runRevokeClient(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet("revoke-client", "CLIENT_ID", stderr, &o)
	fs.IntVar(&o.waitReplicas, "wait-replicas", 0, "succeed only once this many Redis replicas hold the revocation (WAIT; see redisstore.Config.WaitReplicas)")
	fs.BoolVar(&o.waitInstances, "wait-instances", false, "succeed only once every subscribed service instance has applied the revocation (redisstore.Config.WaitInstances)")
	fs.BoolVar(&o.verbose, "v", false, "log the steps to stderr")
	client, code := parse(fs, args, &o, stderr)
	if code >= 0 {
		return code
	}
	if !clientArg.MatchString(client) {
		fmt.Fprintf(stderr, "cognitoguard revoke-client: %q is not an app client ID (1 to 128 letters, digits, _ or +)\n", client)
		return 2
	}
	store, closeStore, err := openStore(o)
	if err != nil {
		return fail(stderr, "revoke-client", err)
	}
	defer closeStore()
	// Cognito has no call that revokes a client's tokens: the helper
	// records only, and this client is never called.
	so, err := newSignOut(cognitoidentityprovider.New(cognitoidentityprovider.Options{}), store, o, stderr)
	if err != nil {
		return fail(stderr, "revoke-client", err)
	}
	fmt.Fprintf(stdout, "client_id %s\n", client)
	if err := so.RevokeClient(ctx, client); err != nil {
		if errors.Is(err, revocation.ErrUnconfirmed) {
			fmt.Fprintln(stderr, "cognitoguard revoke-client: the revocation is recorded but not confirmed by every replica or instance asked for; run the command again")
		} else {
			fmt.Fprintln(stderr, "cognitoguard revoke-client: the revocation is NOT recorded: the client's tokens are still accepted; run the command again")
		}
		return fail(stderr, "revoke-client", err)
	}
	at, ok, err := store.ClientRevokedAt(ctx, o.poolID, client)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "cognitoguard revoke-client: revoked, but reading the recorded time failed: %v\n", err)
	case ok:
		fmt.Fprintf(stdout, "revoked_at %s\n", at.UTC().Format(timeFormat))
	}
	fmt.Fprintln(stderr, "cognitoguard revoke-client: recorded in the store only (Cognito has no such call): rotate or delete the client's secret in Cognito too")
	return 0
}

// clientStatus prints the app client's last revocation recorded in Redis.
func clientStatus(ctx context.Context, o options, store *redisstore.Store, stdout io.Writer) error {
	sctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	at, ok, err := store.ClientRevokedAt(sctx, o.poolID, o.client)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "client_id %s\n", o.client)
	if ok {
		fmt.Fprintf(stdout, "client_revoked_at %s\n", at.UTC().Format(timeFormat))
	} else {
		fmt.Fprintln(stdout, "client_revoked_at none")
	}
	return nil
}

var _ signout.ClientRecorder = (*redisstore.Store)(nil)

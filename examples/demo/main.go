// Command demo walks through what cognitoguard adds to Amazon Cognito, on
// a machine with nothing but Go: a fake Cognito user pool (package
// cognitotest, driven through the real aws-sdk-go-v2 client), an embedded
// Redis (miniredis) and two instances of a small API, each with its own
// Verifier and its own redisstore store sharing that Redis.
//
//	go run ./examples/demo          # the walkthrough; exit status 0 if every step behaved as told
//	go run ./examples/demo -serve   # then keep serving, with curl commands to try (Ctrl-C stops)
//	go run ./examples/demo -serve -redis-addr 127.0.0.1:6379   # the same on your Redis
//
// With -redis-addr the instances share that Redis instead of the embedded
// one; the demo's keys there start with "cognitoguard-demo:" and are left
// in place (a few small hashes, one per signed-out user, expiring with the
// default record TTL).
//
// It shows that after a sign-out on one instance the user's unexpired
// access and ID tokens are rejected by every instance, where plain JWT
// verification keeps accepting them until they expire.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second Ctrl-C kills at once
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// errStep is wrapped by the error of a step that did not behave as told.
var errStep = errors.New("the walkthrough failed")

// run runs the walkthrough, writing the transcript to out. It returns nil
// only if every step behaved as narrated; otherwise the error names the
// first step that did not. With -serve it then keeps the services up until
// ctx is done.
func run(ctx context.Context, out io.Writer, args []string) error {
	o, err := parseArgs(args, out)
	if err != nil {
		return err
	}
	return walkthrough(ctx, out, o)
}

// Command hostedui is the example of a Cognito web app that signs in
// through the managed login (hosted UI) with the authorization-code flow
// and PKCE (golang.org/x/oauth2), calls an API service with the user's
// access token, and signs out everywhere: the sign-out recorded in the
// revocation store the services share (so every instance refuses the
// user's unexpired tokens at once), Cognito's GlobalSignOut, and the
// managed login's logout, which ends its session cookie. See package
// [github.com/cognitoguard/cognitoguard/examples/hostedui/hostedui].
//
// Against a user pool with a managed-login domain and redis-server:
//
//	go run . api -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789 -redis-addr 127.0.0.1:6379 &
//	go run . web -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789 -redis-addr 127.0.0.1:6379 \
//		-domain https://myapp.auth.eu-west-1.amazoncognito.com -public-url http://localhost:8080 -addr 127.0.0.1:8080
//
// with http://localhost:8080/callback among the app client's callback URLs
// and http://localhost:8080/ among its sign-out URLs, then open
// http://localhost:8080/.
//
// Without AWS, against the fake pool of cmd/cognitotest (it prints its
// users and their passwords) and redis-server: the managed login
// is addressed as localhost, the app as 127.0.0.1, so that the browser
// keeps their cookies apart (cookies ignore ports).
//
//	go run ./cmd/cognitotest -callback-url http://127.0.0.1:8080/callback -logout-url http://127.0.0.1:8080/ &
//	cd examples/hostedui
//	flags="-user-pool-id us-east-1_cognitotest -client-id cognitotest-client \
//		-issuer http://127.0.0.1:9229/us-east-1_cognitotest -redis-addr 127.0.0.1:6379"
//	go run . api $flags &
//	go run . web $flags -cognito-endpoint http://127.0.0.1:9229 -domain http://localhost:9229
//
// then open http://127.0.0.1:8080/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cognitoguard/cognitoguard/examples/hostedui/hostedui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := hostedui.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

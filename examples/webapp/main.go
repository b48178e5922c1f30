// Command webapp is the example web application of cognitoguard: a
// password sign-in through the Cognito user pool API, the access token in a
// Secure, HttpOnly, SameSite=Lax cookie, a protected page, and a sign-out
// button that every service sharing the revocation store honours at once.
// See package [github.com/cognitoguard/cognitoguard/examples/webapp/webapp]
// for the routes and the security choices.
//
// Against a user pool (the app client without secret, allowing
// ALLOW_USER_PASSWORD_AUTH):
//
//	go run ./examples/webapp -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789 \
//		-hosted-ui-domain myapp.auth.eu-west-1.amazoncognito.com
//
// then open http://127.0.0.1:8080/. Browsers keep the Secure cookie over
// plain http only on localhost and 127.0.0.1; serve it over HTTPS anywhere
// else (-public-url https://app.example.com behind a TLS proxy).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cognitoguard/cognitoguard/examples/webapp/webapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := webapp.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

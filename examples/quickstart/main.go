// Command quickstart is the README's quick start, kept compiling: a
// service that verifies Cognito access tokens, shares sign-outs through
// Redis and lets users and admins sign out.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
	"github.com/cognitoguard/cognitoguard/signout"
)

func main() {
	ctx := context.Background()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{"localhost:6379"},
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		ContextTimeoutEnabled: true, // a call ends at its context's deadline
	})
	defer rdb.Close()
	store, err := redisstore.New(rdb, redisstore.Config{Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// The Verifier and everything built on it log where the store logs.
	v, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{"my-app-client-id"},
		cognitoguard.Config{Revocation: store})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		log.Fatal(err)
	}
	so, err := signout.New(cognitoidentityprovider.NewFromConfig(awsCfg), v, store, signout.Config{})
	if err != nil {
		log.Fatal(err)
	}

	auth := middleware.New(v, middleware.Config{})
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", middleware.NewReadyHandler(v, nil)) // readiness: no token needed
	mux.Handle("GET /livez", middleware.NewLiveHandler())          // liveness: 200 even while Redis is down
	mux.Handle("GET /me", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := cognitoguard.FromContext(r.Context())
		fmt.Fprintln(w, c.Subject, c.Username, c.Groups)
	})))
	mux.Handle("POST /logout", signout.NewLogoutHandler(so, signout.LogoutConfig{}))
	mux.Handle("POST /admin/users/{username}/signout", auth(signout.NewAdminHandler(so, signout.AdminConfig{})))

	go v.WarmUp(ctx) // /healthz answers 503 until the keys and the store are ready
	srv := &http.Server{
		Addr:              ":8080",
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       time.Minute,
	}
	if err := serve(srv, 10*time.Second); err != nil {
		log.Print(err) // the deferred Close calls still run
	}
}

// serve runs srv until SIGINT or SIGTERM, then stops accepting requests and
// lets those in flight finish, for at most grace.
func serve(srv *http.Server, grace time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

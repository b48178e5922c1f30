package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cognitoguard/cognitoguard/forwardauth"
	"github.com/cognitoguard/cognitoguard/internal/wiring"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/signout"
)

// shutdownTimeout bounds the graceful shutdown.
const shutdownTimeout = 10 * time.Second

// run serves until ctx is done, then shuts down gracefully. ready, if not
// nil, is called with the bound addresses (signout "" when off).
func run(ctx context.Context, args []string, stderr io.Writer, ready func(check, signout string)) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	a, err := o.Services(log)
	if err != nil {
		return err
	}
	defer a.Close()

	check, err := forwardauth.New(a.V, forwardauth.Config{
		Headers:          o.headers,
		Auth:             middleware.Config{Realm: o.realm, Cookie: o.cookie, Logger: log},
		RequiredScopes:   o.scopes,
		RequiredGroups:   o.groups,
		MaxIdentityBytes: o.maxIdentity,
	})
	if err != nil {
		return err
	}
	servers := []*server{{name: "check", addr: o.addr, h: check}}
	if o.signoutAddr != "" {
		h, err := signoutRoutes(ctx, o, a, log)
		if err != nil {
			return err
		}
		servers = append(servers, &server{name: "signout", addr: o.signoutAddr, h: h})
	}
	serveErr := make(chan error, len(servers))
	for _, s := range servers {
		if err := s.listen(ctx, log); err != nil {
			_ = shutdown(servers)
			return err
		}
		go s.serve(serveErr)
		log.Info("listening", slog.String("listener", s.name), slog.String("addr", s.ln.Addr().String()))
	}
	if ready != nil {
		ready(servers[0].ln.Addr().String(), servers[len(servers)-1].boundIfSignout())
	}

	defer a.WarmUp(ctx)()

	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if serr := shutdown(servers); err == nil {
		err = serr
	}
	return err
}

// signoutRoutes builds the handler of the sign-out listener.
func signoutRoutes(ctx context.Context, o *options, a *wiring.Services, log *slog.Logger) (http.Handler, error) {
	cognito, err := o.Cognito(ctx)
	if err != nil {
		return nil, err
	}
	so, err := signout.New(cognito, a.Auth, a.Store, signout.Config{
		UserPoolID: o.PoolID, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return signoutHandler(a.V, so, o.realm, o.adminGroup, log), nil
}

// server is one listener and its http.Server.
type server struct {
	name, addr string
	h          http.Handler
	ln         net.Listener
	srv        *http.Server
	done       chan struct{} // closed when Serve has returned
}

func (s *server) listen(ctx context.Context, log *slog.Logger) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("%s listener: %w", s.name, err)
	}
	s.ln = ln
	s.done = make(chan struct{})
	s.srv = &http.Server{
		Handler:           s.h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	return nil
}

// serve serves until Shutdown; an unexpected end is sent to failed.
func (s *server) serve(failed chan<- error) {
	defer close(s.done)
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		failed <- fmt.Errorf("%s listener: %w", s.name, err)
	}
}

func (s *server) boundIfSignout() string {
	if s.name != "signout" {
		return ""
	}
	return s.ln.Addr().String()
}

// shutdown stops the servers that listen and waits for their Serve calls.
func shutdown(servers []*server) error {
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if s.srv == nil {
			continue
		}
		if err := s.srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("%s shutdown: %w", s.name, err))
		}
		<-s.done
	}
	return errors.Join(errs...)
}

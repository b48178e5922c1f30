package connectguard_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/connectguard"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// Procedures of the test service; its messages are well-known types, so
// no protoc is needed.
const (
	whoProcedure   = "/cognitoguard.test.v1.TestService/Who"
	watchProcedure = "/cognitoguard.test.v1.TestService/Watch"
	echoProcedure  = "/cognitoguard.test.v1.TestService/Echo"
)

// errHandlerOwn is what the stream handlers return when a Send or
// Receive fails: the stream must still end with the guard's error.
var errHandlerOwn = connect.NewError(connect.CodeInternal, errors.New("handler's own error"))

// service answers with the sub of the claims the interceptor put in the
// context, so a test sees who got in.
type service struct {
	push     chan struct{} // each value makes Watch send once (buffered: the call returns at the first message)
	calls    atomic.Int64  // handler invocations
	canceled chan error    // the cause a stream handler's context ended with
}

func subOf(ctx context.Context) (*wrapperspb.StringValue, error) {
	c, ok := cognitoguard.FromContext(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeInternal, errors.New("no claims in the handler's context"))
	}
	return wrapperspb.String(c.Subject), nil
}

func (s *service) who(ctx context.Context, _ *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
	s.calls.Add(1)
	sub, err := subOf(ctx)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(sub), nil
}

// watch sends the sub once per value on s.push until a Send fails or the
// stream ends.
func (s *service) watch(ctx context.Context, _ *connect.Request[wrapperspb.StringValue], st *connect.ServerStream[wrapperspb.StringValue]) error {
	s.calls.Add(1)
	sub, err := subOf(ctx)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			s.canceled <- context.Cause(ctx)
			return errHandlerOwn
		case <-s.push:
			if err := st.Send(sub); err != nil {
				s.canceled <- context.Cause(ctx)
				return errHandlerOwn
			}
		}
	}
}

// echo answers every message with one carrying the sub.
func (s *service) echo(ctx context.Context, st *connect.BidiStream[wrapperspb.StringValue, wrapperspb.StringValue]) error {
	s.calls.Add(1)
	sub, err := subOf(ctx)
	if err != nil {
		return err
	}
	for {
		if _, err := st.Receive(); err != nil {
			if ctx.Err() != nil {
				s.canceled <- context.Cause(ctx)
			}
			return errHandlerOwn
		}
		if err := st.Send(sub); err != nil {
			return errHandlerOwn
		}
	}
}

// env is a fake pool, an in-process store, a Verifier on both, and the
// test service behind the interceptor, served over HTTP/2 with TLS (bidi
// streams need it).
type env struct {
	pool   *cognitotest.Pool
	store  *revocation.Memory
	svc    *service
	client *http.Client
	url    string
}

// Tests call leaktest.Check first, so that every env's cleanup (server,
// client connections, Verifier, pool) runs before the goroutines are
// counted.
func newEnv(t *testing.T, vcfg cognitoguard.Config, gcfg connectguard.Config) *env {
	t.Helper()
	e := &env{svc: &service{push: make(chan struct{}, 1), canceled: make(chan error, 4)}}
	e.pool = cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(e.pool.Close)
	e.pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin"}})
	e.pool.AddUser(cognitotest.User{Username: "bob"})
	e.store = revocation.NewMemory(revocation.MemoryConfig{})
	if vcfg.Revocation == nil {
		vcfg.Revocation = e.store
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()}, ClientIDs: []string{e.pool.ClientID()}}}, vcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	guard := connect.WithInterceptors(connectguard.New(v, gcfg))
	mux := http.NewServeMux()
	mux.Handle(whoProcedure, connect.NewUnaryHandler(whoProcedure, e.svc.who, guard))
	mux.Handle(watchProcedure, connect.NewServerStreamHandler(watchProcedure, e.svc.watch, guard))
	mux.Handle(echoProcedure, connect.NewBidiStreamHandler(echoProcedure, e.svc.echo, guard))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	e.client, e.url = srv.Client(), srv.URL
	t.Cleanup(func() {
		e.client.CloseIdleConnections()
		srv.Close()
	})
	return e
}

func (e *env) sub(t *testing.T, name string) string {
	t.Helper()
	u, ok := e.pool.User(name)
	if !ok {
		t.Fatalf("no user %s", name)
	}
	return u.Sub
}

func (e *env) signOut(t *testing.T, name string) {
	t.Helper()
	if err := e.store.RevokeUser(t.Context(), e.pool.PoolID(), e.sub(t, name), timeNow()); err != nil {
		t.Fatal(err)
	}
}

func newClient(e *env, procedure string, opts ...connect.ClientOption) *connect.Client[wrapperspb.StringValue, wrapperspb.StringValue] {
	return connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](e.client, e.url+procedure, opts...)
}

// wantCode fails the test unless err is a connect error with code want
// whose message does not contain secret.
func wantCode(t *testing.T, err error, want connect.Code, secret string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	if got := connect.CodeOf(err); got != want {
		t.Fatalf("code %v (%v), want %v", got, err, want)
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Fatalf("error echoes the token: %q", err.Error())
	}
}

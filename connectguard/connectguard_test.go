package connectguard_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/connectguard"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
)

var timeNow = time.Now

// TestUnary: a unary call gets in with a valid token, its claims in the
// handler's context, and is answered Unauthenticated, PermissionDenied or
// Unavailable otherwise, the handler not called and the token not echoed.
func TestUnary(t *testing.T) {
	leaktest.Check(t)
	e := newEnv(t, cognitoguard.Config{}, connectguard.Config{})
	scoped := newEnv(t, cognitoguard.Config{RequiredScopes: []string{"orders/write"}}, connectguard.Config{})
	down := newEnv(t, cognitoguard.Config{}, connectguard.Config{})
	down.pool.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	foreign := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(foreign.Close)
	e.signOut(t, "bob")

	good := e.pool.AccessToken("alice")
	tests := []struct {
		name   string
		env    *env
		header []string // Authorization values
		want   connect.Code
	}{
		{"valid", e, []string{"Bearer " + good}, 0},
		{"scheme in lower case, extra spaces", e, []string{"bearer   " + good + " "}, 0},
		{"no header", e, nil, connect.CodeUnauthenticated},
		{"empty", e, []string{""}, connect.CodeUnauthenticated},
		{"basic scheme", e, []string{"Basic YWxpY2U6cHc="}, connect.CodeUnauthenticated},
		{"two headers", e, []string{"Bearer " + good, "Bearer " + good}, connect.CodeUnauthenticated},
		{"not a JWT", e, []string{"Bearer abc.def"}, connect.CodeUnauthenticated},
		{"outside b64token", e, []string{"Bearer " + good + "!"}, connect.CodeUnauthenticated},
		{"expired", e, []string{"Bearer " + e.pool.AccessToken("alice", cognitotest.WithExpiry(time.Now().Add(-time.Minute)))}, connect.CodeUnauthenticated},
		{"foreign key", e, []string{"Bearer " + e.pool.AccessToken("alice", cognitotest.WithSigningKey(foreign.AccessSigningKey()))}, connect.CodeUnauthenticated},
		{"ID token", e, []string{"Bearer " + e.pool.IDToken("alice")}, connect.CodeUnauthenticated},
		{"other client", e, []string{"Bearer " + e.pool.AccessToken("alice", cognitotest.WithClient("intruder"))}, connect.CodeUnauthenticated},
		{"signed out", e, []string{"Bearer " + e.pool.AccessToken("bob", cognitotest.WithAuthTime(time.Now().Add(-time.Minute)))}, connect.CodeUnauthenticated},
		{"scope missing", scoped, []string{"Bearer " + scoped.pool.AccessToken("alice")}, connect.CodePermissionDenied},
		{"scope present", scoped, []string{"Bearer " + scoped.pool.AccessToken("alice", cognitotest.WithScopes("orders/write"))}, 0},
		{"keys unreachable", down, []string{"Bearer " + down.pool.AccessToken("alice")}, connect.CodeUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.env.svc.calls.Load()
			req := connect.NewRequest(wrapperspb.String(""))
			for _, v := range tc.header {
				req.Header().Add("Authorization", v)
			}
			res, err := newClient(tc.env, whoProcedure).CallUnary(t.Context(), req)
			calls := tc.env.svc.calls.Load() - before
			if tc.want == 0 {
				if err != nil {
					t.Fatalf("CallUnary: %v", err)
				}
				if res.Msg.GetValue() != tc.env.sub(t, "alice") {
					t.Fatalf("handler saw sub %q", res.Msg.GetValue())
				}
				return
			}
			secret := ""
			if len(tc.header) > 0 {
				secret = tc.header[0][min(len(tc.header[0]), 7):]
			}
			wantCode(t, err, tc.want, secret)
			if calls != 0 {
				t.Errorf("handler called %d times", calls)
			}
		})
	}
}

// TestClientSide: installed on a client, the interceptor changes nothing.
func TestClientSide(t *testing.T) {
	leaktest.Check(t)
	e := newEnv(t, cognitoguard.Config{}, connectguard.Config{})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()}, ClientIDs: []string{e.pool.ClientID()}}}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	c := newClient(e, whoProcedure, connect.WithInterceptors(connectguard.New(v, connectguard.Config{})))
	req := connect.NewRequest(wrapperspb.String(""))
	req.Header().Set("Authorization", "Bearer "+e.pool.AccessToken("alice"))
	if _, err := c.CallUnary(t.Context(), req); err != nil {
		t.Fatalf("CallUnary: %v", err)
	}
}

// TestServerStreamSignedOut: a server stream whose user signs out ends
// CodeUnauthenticated at its next message, although the handler returns
// its own error, and the handler's context is cancelled with that error.
func TestServerStreamSignedOut(t *testing.T) {
	leaktest.Check(t)
	e := newEnv(t, cognitoguard.Config{}, connectguard.Config{RecheckInterval: -1})
	tok := e.pool.AccessToken("alice", cognitotest.WithAuthTime(time.Now().Add(-time.Minute)))
	req := connect.NewRequest(wrapperspb.String(""))
	req.Header().Set("Authorization", "Bearer "+tok)
	e.svc.push <- struct{}{} // CallServerStream returns with the first message's headers
	st, err := newClient(e, watchProcedure).CallServerStream(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.Receive() || st.Msg().GetValue() != e.sub(t, "alice") {
		t.Fatalf("first message: %v %v", st.Msg(), st.Err())
	}
	e.signOut(t, "alice")
	e.svc.push <- struct{}{}
	if st.Receive() {
		t.Fatalf("a message after the sign-out: %v", st.Msg())
	}
	wantCode(t, st.Err(), connect.CodeUnauthenticated, tok)
	var ce *connect.Error
	if !errors.As(st.Err(), &ce) || ce.Message() != "Access Token has been revoked" {
		t.Errorf("error %v, want the revoked text", st.Err())
	}
	if cause := <-e.svc.canceled; connect.CodeOf(cause) != connect.CodeUnauthenticated {
		t.Errorf("handler's context ended with %v", cause)
	}
}

// TestBidiStreamSignedOut: on a bidirectional stream, the message that
// arrives after the sign-out is not delivered, and the stream ends
// CodeUnauthenticated whatever the handler returns.
func TestBidiStreamSignedOut(t *testing.T) {
	leaktest.Check(t)
	e := newEnv(t, cognitoguard.Config{}, connectguard.Config{RecheckInterval: -1})
	tok := e.pool.AccessToken("alice", cognitotest.WithAuthTime(time.Now().Add(-time.Minute)))
	st := newClient(e, echoProcedure).CallBidiStream(t.Context())
	st.RequestHeader().Set("Authorization", "Bearer "+tok)
	defer st.CloseResponse()
	if err := st.Send(wrapperspb.String("1")); err != nil {
		t.Fatal(err)
	}
	if m, err := st.Receive(); err != nil || m.GetValue() != e.sub(t, "alice") {
		t.Fatalf("first answer: %v %v", m, err)
	}
	e.signOut(t, "alice")
	if err := st.Send(wrapperspb.String("2")); err != nil {
		t.Fatal(err) // the request side is still open; the server refuses it
	}
	st.CloseRequest()
	m, err := st.Receive()
	if m != nil {
		t.Fatalf("an answer after the sign-out: %v", m)
	}
	wantCode(t, err, connect.CodeUnauthenticated, tok)
	if cause := <-e.svc.canceled; connect.CodeOf(cause) != connect.CodeUnauthenticated {
		t.Errorf("handler's context ended with %v", cause)
	}
}

// TestStreamRejectedAtOpen: a stream without a valid token never reaches
// its handler.
func TestStreamRejectedAtOpen(t *testing.T) {
	leaktest.Check(t)
	e := newEnv(t, cognitoguard.Config{}, connectguard.Config{})
	for _, tc := range []struct {
		name, header string
	}{
		{"no token", ""},
		{"ID token", "Bearer " + e.pool.IDToken("alice")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := connect.NewRequest(wrapperspb.String(""))
			if tc.header != "" {
				req.Header().Set("Authorization", tc.header)
			}
			st, err := newClient(e, watchProcedure).CallServerStream(t.Context(), req)
			if err == nil {
				defer st.Close()
				if st.Receive() {
					t.Fatal("a message")
				}
				err = st.Err()
			}
			wantCode(t, err, connect.CodeUnauthenticated, "")
			if n := e.svc.calls.Load(); n != 0 {
				t.Errorf("handler called %d times", n)
			}
		})
	}
}

// TestProtocols: the Connect, gRPC and gRPC-Web protocols get the same
// answers: a valid call passes, a signed-out user's stream ends
// CodeUnauthenticated at its next message.
func TestProtocols(t *testing.T) {
	leaktest.Check(t)
	for _, p := range []struct {
		name string
		opts []connect.ClientOption
	}{
		{"connect", nil},
		{"grpc", []connect.ClientOption{connect.WithGRPC()}},
		{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
	} {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t, cognitoguard.Config{}, connectguard.Config{RecheckInterval: -1})
			tok := e.pool.AccessToken("alice", cognitotest.WithAuthTime(time.Now().Add(-time.Minute)))
			newReq := func() *connect.Request[wrapperspb.StringValue] { // a request is sent once
				req := connect.NewRequest(wrapperspb.String(""))
				req.Header().Set("Authorization", "Bearer "+tok)
				return req
			}
			res, err := newClient(e, whoProcedure, p.opts...).CallUnary(t.Context(), newReq())
			if err != nil || res.Msg.GetValue() != e.sub(t, "alice") {
				t.Fatalf("CallUnary: %v %v", res, err)
			}
			e.svc.push <- struct{}{}
			st, err := newClient(e, watchProcedure, p.opts...).CallServerStream(t.Context(), newReq())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if !st.Receive() {
				t.Fatalf("first message: %v", st.Err())
			}
			e.signOut(t, "alice")
			e.svc.push <- struct{}{}
			if st.Receive() {
				t.Fatal("a message after the sign-out")
			}
			wantCode(t, st.Err(), connect.CodeUnauthenticated, tok)
			_, err = newClient(e, whoProcedure, p.opts...).CallUnary(t.Context(), newReq())
			wantCode(t, err, connect.CodeUnauthenticated, tok)
		})
	}
}

// TestRevokedIDTokenWording: a signed-out user's ID token is refused with
// Cognito's wording for an ID token, not an access token's.
func TestRevokedIDTokenWording(t *testing.T) {
	leaktest.Check(t)
	e := newEnv(t, cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny}, connectguard.Config{})
	for _, tc := range []struct {
		name, token, want string
	}{
		{"id", e.pool.IDToken("alice", cognitotest.WithAuthTime(time.Now().Add(-time.Minute))), "Token has been revoked"},
		{"access", e.pool.AccessToken("alice", cognitotest.WithAuthTime(time.Now().Add(-time.Minute))), "Access Token has been revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.signOut(t, "alice")
			req := connect.NewRequest(wrapperspb.String(""))
			req.Header().Set("Authorization", "Bearer "+tc.token)
			_, err := newClient(e, whoProcedure).CallUnary(t.Context(), req)
			wantCode(t, err, connect.CodeUnauthenticated, tc.token)
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Message() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

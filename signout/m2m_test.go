package signout_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/clocktest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

const m2mClient = "m2m-orders"

// m2mEnv is a pool with the default (user) client and a machine client
// (client credentials), a Memory store, a Verifier accepting both clients
// and a helper.
type m2mEnv struct {
	clock    *clocktest.Clock
	pool     *cognitotest.Pool
	store    *revocation.Memory
	verifier *cognitoguard.Verifier
	so       *signout.Helper
}

func newM2MEnv(t *testing.T) *m2mEnv {
	t.Helper()
	clock := newClock()
	p := cognitotest.NewPool(cognitotest.Config{Now: clock.Now, ClientIDs: []string{"web"}, Clients: []cognitotest.AppClient{{ID: m2mClient,
		Secret: m2mClient + "-secret", OAuthFlows: []string{cognitotest.OAuthFlowClientCredentials}, OAuthScopes: []string{"orders/read"}}}})
	t.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Password: "pw-alice"})
	store := revocation.NewMemory(revocation.MemoryConfig{Now: clock.Now})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()},
		ClientIDs: []string{p.ClientID(), m2mClient}}}, cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny, Revocation: store, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	so, err := signout.New(p.Client(), v, store, signout.Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &m2mEnv{clock: clock, pool: p, store: store, verifier: v, so: so}
}

// clientToken is a client-credentials access token of the machine
// client: sub = client_id, no username.
func (e *m2mEnv) clientToken(t *testing.T) string { return e.pool.ClientToken(m2mClient) }

// nothingRecorded checks that no record names the client as a user and
// that its tokens still verify.
func (e *m2mEnv) nothingRecorded(t *testing.T, tok string) {
	t.Helper()
	if _, ok, _ := e.store.SignedOutAt(t.Context(), e.pool.PoolID(), m2mClient); ok || e.store.Len() != 0 {
		t.Errorf("a revocation was recorded (%d records): any holder of one M2M token revokes all of the client's tokens", e.store.Len())
	}
	if _, err := e.verifier.Verify(t.Context(), tok); err != nil {
		t.Errorf("the client's token after the refused sign-out: %v", err)
	}
}

// TestM2MTokenCannotSignOut: a client-credentials token (no
// aws.cognito.signin.user.admin scope, sub = client_id) is refused by
// GlobalSignOut and RevokeSession before anything is recorded or called:
// its holder must not revoke every token of the client, and Cognito would
// refuse it anyway (a 502 forever). A user token without the scope is
// refused by GlobalSignOut alike.
func TestM2MTokenCannotSignOut(t *testing.T) {
	e := newM2MEnv(t)
	ctx := t.Context()
	tok := e.clientToken(t)
	for name, call := range map[string]func() error{
		"GlobalSignOut": func() error { return e.so.GlobalSignOut(ctx, tok) },
		"RevokeSession": func() error { return e.so.RevokeSession(ctx, tok, "refresh-token") },
	} {
		err := call()
		if !errors.Is(err, signout.ErrNotUserToken) || !errors.Is(err, cognitoguard.ErrInsufficientScope) {
			t.Errorf("%s with an M2M token: %v, want ErrNotUserToken and cognitoguard.ErrInsufficientScope", name, err)
		}
		e.nothingRecorded(t, tok)
	}
	if n := e.pool.Calls("GlobalSignOut") + e.pool.Calls("RevokeToken"); n != 0 {
		t.Errorf("%d Cognito calls, want none", n)
	}
	user := e.pool.AccessToken("alice", cognitotest.WithScopes("openid"))
	if err := e.so.GlobalSignOut(ctx, user); !errors.Is(err, signout.ErrNotUserToken) {
		t.Errorf("GlobalSignOut with a user token without aws.cognito.signin.user.admin: %v, want ErrNotUserToken", err)
	}
	alice, _ := e.pool.User("alice")
	if _, ok, _ := e.store.SignedOutAt(ctx, e.pool.PoolID(), alice.Sub); ok {
		t.Error("the scopeless user token recorded a sign-out")
	}
}

// TestLogoutHandlerM2MToken: the logout handler answers 403
// insufficient_scope to a client-credentials token and records nothing.
func TestLogoutHandlerM2MToken(t *testing.T) {
	e := newM2MEnv(t)
	tok := e.clientToken(t)
	h := signout.NewLogoutHandler(e.so, signout.LogoutConfig{})
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/logout", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("logout with an M2M token: %d %q, want 403 insufficient_scope", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	e.nothingRecorded(t, tok)
}

// TestRevokeClient: the helper records a revocation of the app client
// (no Cognito call exists for it): the client's earlier M2M tokens are
// rejected by the Verifier, later ones and other clients' pass.
func TestRevokeClient(t *testing.T) {
	e := newM2MEnv(t)
	ctx := t.Context()
	old := e.clientToken(t)
	user := e.pool.AccessToken("alice")
	e.clock.Advance(time.Second)
	if err := e.so.RevokeClient(ctx, m2mClient); err != nil {
		t.Fatal(err)
	}
	if _, err := e.verifier.Verify(ctx, old); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("M2M token issued before: %v, want ErrRevoked", err)
	}
	if _, err := e.verifier.Verify(ctx, user); err != nil {
		t.Errorf("user token of another client: %v", err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.verifier.Verify(ctx, e.clientToken(t)); err != nil {
		t.Errorf("M2M token issued after: %v", err)
	}
	if at, ok, err := e.store.ClientRevokedAt(ctx, e.pool.PoolID(), m2mClient); !ok || err != nil || !at.Equal(e.clock.Now().Add(-time.Second)) {
		t.Errorf("ClientRevokedAt = %v, %v, %v", at, ok, err)
	}
	if n := e.pool.Calls("GlobalSignOut") + e.pool.Calls("AdminUserGlobalSignOut") + e.pool.Calls("RevokeToken"); n != 0 {
		t.Errorf("%d Cognito calls, want none", n)
	}
}

// Every store of package revocation records app-client revocations.
var _ signout.ClientRecorder = revocation.Store(nil)

// userOnly is a Recorder that cannot record app-client revocations.
type userOnly struct{ signout.Recorder }

// failingClients fails every app-client revocation as an unreachable
// store does.
type failingClients struct{ *revocation.Memory }

func (failingClients) RevokeClient(context.Context, string, string, time.Time) error {
	return revocation.ErrUnavailable
}

// TestRevokeClientErrors: each failure of RevokeClient is typed and
// records nothing.
func TestRevokeClientErrors(t *testing.T) {
	e := newM2MEnv(t)
	ctx := t.Context()
	helper := func(rec signout.Recorder, pool string) *signout.Helper {
		h, err := signout.New(e.pool.Client(), nil, rec, signout.Config{UserPoolID: pool})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if err := helper(userOnly{e.store}, e.pool.PoolID()).RevokeClient(ctx, m2mClient); !errors.Is(err, signout.ErrNoClientRecorder) {
		t.Errorf("Recorder without RevokeClient: %v, want ErrNoClientRecorder", err)
	}
	err := helper(failingClients{e.store}, e.pool.PoolID()).RevokeClient(ctx, m2mClient)
	var se *signout.Error
	if !errors.Is(err, signout.ErrStore) || !errors.Is(err, revocation.ErrUnavailable) || !errors.As(err, &se) || se.Recorded || se.Sub != m2mClient || se.Op != "RevokeClient" {
		t.Errorf("store down: %v, want a *signout.Error matching ErrStore", err)
	}
	for name, err := range map[string]error{
		"no pool":         helper(e.store, "").RevokeClient(ctx, m2mClient),
		"empty client ID": e.so.RevokeClient(ctx, ""),
	} {
		if err == nil || errors.Is(err, signout.ErrStore) {
			t.Errorf("%s: %v, want an argument error", name, err)
		}
	}
	if e.store.Len() != 0 {
		t.Errorf("%d records after failures", e.store.Len())
	}
}

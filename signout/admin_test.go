package signout_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// googleUser adds a user federated from Google, as Cognito creates one
// at its first sign-in through the hosted UI.
func (e *env) googleUser(id string) cognitotest.User {
	return e.pool.AddUser(cognitotest.User{
		Identity: &cognitotest.Identity{ProviderName: "Google", UserID: id},
		Email:    id + "@gmail.example",
	})
}

func TestAdminSignOutFederatedUser(t *testing.T) {
	// Cognito's Admin* operations accept a sub for local users only: a
	// federated user must be named by the username AdminGetUser returns.
	e := newEnv(t, envOptions{})
	u := e.googleUser("104752981234567890123")
	if u.Username != "Google_104752981234567890123" {
		t.Fatalf("username = %q", u.Username)
	}
	s := e.pool.SignIn(u.Username)
	e.clock.Advance(time.Second)

	sub, err := e.so.AdminSignOut(t.Context(), u.Username)
	if err != nil {
		t.Fatalf("AdminSignOut: %v", err)
	}
	if sub != u.Sub {
		t.Errorf("sub = %q, want %q", sub, u.Sub)
	}
	if _, ok := e.pool.SignedOutAt(u.Sub); !ok {
		t.Error("Cognito did not sign the user out")
	}
	if at, ok := e.signedOutAt(t, u.Sub); !ok || !at.Equal(e.clock.Now()) {
		t.Errorf("store.SignedOutAt = %v, %v; want %v", at, ok, e.clock.Now())
	}
	e.wantVerify(t, "access token", s.AccessToken, cognitoguard.ErrRevoked)
	e.wantVerify(t, "ID token", s.IDToken, cognitoguard.ErrRevoked)
	if _, err := e.refresh(t.Context(), s.RefreshToken); !errorCode(err, "NotAuthorizedException") {
		t.Errorf("refresh: %v, want NotAuthorizedException", err)
	}
}

// adminOp is one of the helper's admin methods.
type adminOp struct {
	name string
	call func(*signout.Helper) func(t *testing.T, username string) (string, error)
}

var adminOps = []adminOp{
	{"AdminSignOut", func(h *signout.Helper) func(*testing.T, string) (string, error) {
		return func(t *testing.T, u string) (string, error) { return h.AdminSignOut(t.Context(), u) }
	}},
	{"AdminDisableUser", func(h *signout.Helper) func(*testing.T, string) (string, error) {
		return func(t *testing.T, u string) (string, error) { return h.AdminDisableUser(t.Context(), u) }
	}},
	{"AdminDeleteUser", func(h *signout.Helper) func(*testing.T, string) (string, error) {
		return func(t *testing.T, u string) (string, error) { return h.AdminDeleteUser(t.Context(), u) }
	}},
}

func TestAdminDisableAndDeleteUser(t *testing.T) {
	// Disabling and deleting a user are sign-outs: the helper records
	// them before calling Cognito, so the user's unexpired tokens are
	// rejected by every service, not only by Cognito's own API.
	for _, op := range adminOps[1:] {
		for _, federated := range []bool{false, true} {
			name := op.name + "/local"
			if federated {
				name = op.name + "/federated"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, envOptions{})
				var u cognitotest.User
				var s cognitotest.Tokens
				if federated {
					u = e.googleUser("1047")
					s = e.pool.SignIn(u.Username)
				} else {
					u = e.addUser("alice")
					r := e.signIn(t, "alice")
					s = cognitotest.Tokens{AccessToken: *r.AccessToken, IDToken: *r.IdToken, RefreshToken: *r.RefreshToken}
				}
				e.clock.Advance(time.Second)
				sub, err := op.call(e.so)(t, u.Username)
				if err != nil || sub != u.Sub {
					t.Fatalf("%s = %q, %v; want %q", op.name, sub, err, u.Sub)
				}
				if n := e.pool.Calls(op.name); n != 1 {
					t.Errorf("%s calls = %d, want 1", op.name, n)
				}
				if at, ok := e.signedOutAt(t, u.Sub); !ok || !at.Equal(e.clock.Now()) {
					t.Errorf("store.SignedOutAt = %v, %v; want %v", at, ok, e.clock.Now())
				}
				e.wantVerify(t, "access token", s.AccessToken, cognitoguard.ErrRevoked)
				e.wantVerify(t, "ID token", s.IDToken, cognitoguard.ErrRevoked)
				if _, err := e.refresh(t.Context(), s.RefreshToken); err == nil {
					t.Error("refresh after the sign-out succeeded")
				}
				_, err = e.client.AdminGetUser(t.Context(), &cip.AdminGetUserInput{
					UserPoolId: &[]string{e.pool.PoolID()}[0], Username: &u.Username,
				})
				switch op.name {
				case "AdminDeleteUser":
					if !as[*types.UserNotFoundException](err) {
						t.Errorf("AdminGetUser after the delete: %v, want UserNotFoundException", err)
					}
				case "AdminDisableUser":
					if err != nil {
						t.Errorf("AdminGetUser after the disable: %v", err)
					}
					if _, err := e.so.AdminDisableUser(t.Context(), u.Username); err != nil {
						t.Errorf("a retried disable: %v", err)
					}
				}
			})
		}
	}
}

func TestAdminDeleteUserKeepsUserWhenNotRecorded(t *testing.T) {
	// A deleted user can no longer be resolved, so a delete whose record
	// failed could never be retried: the helper does not delete then.
	e := newEnv(t, envOptions{recorder: func(m *revocation.Memory) signout.Recorder {
		return &failingRecorder{Memory: m, err: errors.New("store down (test)")}
	}})
	u := e.addUser("alice")
	sub, err := e.so.AdminDeleteUser(t.Context(), "alice")
	var se *signout.Error
	if !errors.Is(err, signout.ErrStore) || !errors.As(err, &se) || se.Recorded || sub != u.Sub {
		t.Fatalf("AdminDeleteUser = %q, %v; want the store failure", sub, err)
	}
	if n := e.pool.Calls("AdminDeleteUser"); n != 0 {
		t.Errorf("AdminDeleteUser calls = %d, want 0", n)
	}
	if _, ok := e.pool.User("alice"); !ok {
		t.Error("the user was deleted")
	}
}

func TestAdminOpsUnresolved(t *testing.T) {
	// A user that cannot be resolved is neither recorded nor changed.
	e := newEnv(t, envOptions{})
	fed := e.googleUser("1047")
	for _, op := range adminOps {
		for _, name := range []string{"nobody", fed.Sub} { // a federated user's sub: Cognito refuses it
			sub, err := op.call(e.so)(t, name)
			if !errors.Is(err, signout.ErrUserNotFound) || sub != "" {
				t.Errorf("%s(%q) = %q, %v; want ErrUserNotFound", op.name, name, sub, err)
			}
		}
		if n := e.pool.Calls(op.name); n != 0 {
			t.Errorf("%s calls = %d, want 0", op.name, n)
		}
	}
	if _, ok := e.signedOutAt(t, fed.Sub); ok {
		t.Error("a sign-out was recorded")
	}
}

func TestAdminSignOut(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		name  string
		input func(u cognitotest.User) string
	}{
		{"username", func(u cognitotest.User) string { return u.Username }},
		{"email alias", func(u cognitotest.User) string { return strings.ToUpper(u.Email) }},
		{"sub", func(u cognitotest.User) string { return u.Sub }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			u := e.addUser("user" + string(rune('a'+i)))
			s := e.signIn(t, u.Username)
			e.clock.Advance(time.Second)
			getBefore := e.pool.Calls("AdminGetUser")

			sub, err := e.so.AdminSignOut(t.Context(), tc.input(u))
			if err != nil {
				t.Fatalf("AdminSignOut: %v", err)
			}
			if sub != u.Sub {
				t.Errorf("sub = %q, want %q", sub, u.Sub)
			}
			if got := e.pool.Calls("AdminGetUser"); got != getBefore+1 {
				t.Errorf("AdminGetUser calls = %d, want %d", got, getBefore+1)
			}
			if at, ok := e.signedOutAt(t, u.Sub); !ok || !at.Equal(e.clock.Now()) {
				t.Errorf("store.SignedOutAt = %v, %v; want %v", at, ok, e.clock.Now())
			}
			if _, ok := e.pool.SignedOutAt(u.Sub); !ok {
				t.Error("Cognito did not sign the user out")
			}
			e.wantVerify(t, "access token", *s.AccessToken, cognitoguard.ErrRevoked)
			e.wantVerify(t, "ID token", *s.IdToken, cognitoguard.ErrRevoked)
			if _, err := e.refresh(t.Context(), *s.RefreshToken); !errorCode(err, "NotAuthorizedException") {
				t.Errorf("refresh: %v, want NotAuthorizedException", err)
			}
		})
	}
}

func TestAdminSignOutUnresolved(t *testing.T) {
	// When the user cannot be resolved, nothing is recorded and Cognito's
	// sign-out is not called: there is no sub to record.
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	tests := []struct {
		name    string
		user    string
		inject  string
		want    error
		wantAPI func(error) bool
	}{
		{"unknown user", "nobody", "", signout.ErrUserNotFound, as[*types.UserNotFoundException]},
		{"throttled", "alice", "TooManyRequestsException", signout.ErrTooManyRequests, as[*types.TooManyRequestsException]},
		{"internal error", "alice", "InternalErrorException", signout.ErrCognitoInternal, as[*types.InternalErrorException]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.inject != "" {
				e.pool.FailNext("AdminGetUser", tc.inject, 400, 1)
			}
			sub, err := e.so.AdminSignOut(t.Context(), tc.user)
			if !errors.Is(err, tc.want) || !errors.Is(err, signout.ErrCognito) || !tc.wantAPI(err) {
				t.Fatalf("AdminSignOut = %v, want %v", err, tc.want)
			}
			var soe *signout.Error
			if sub != "" || errors.As(err, &soe) {
				t.Errorf("AdminSignOut = %q, %#v; want no sub and no Error", sub, err)
			}
		})
	}
	if _, ok := e.signedOutAt(t, u.Sub); ok {
		t.Error("a sign-out was recorded")
	}
	if n := e.pool.Calls("AdminUserGlobalSignOut"); n != 0 {
		t.Errorf("AdminUserGlobalSignOut calls = %d, want 0", n)
	}
	if _, err := e.so.AdminSignOut(t.Context(), ""); err == nil {
		t.Error("AdminSignOut(\"\") succeeded")
	}
}

func TestAdminSignOutRecordsWhereVerifierReads(t *testing.T) {
	// A Verifier of an emulator pool (explicit issuer) and a helper given
	// no issuer at all: the sign-out is recorded under the pool, which is
	// where the Verifier reads it, whatever issuer minted the token. On
	// 6ce98be the helper recorded under the default AWS issuer and the
	// user's tokens stayed accepted.
	e := newEnv(t, envOptions{})
	e.addUser("alice")
	s := e.signIn(t, "alice")
	so, err := signout.New(e.client, e.verifier, e.store, signout.Config{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if _, err := so.AdminSignOut(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	e.wantVerify(t, "access token", *s.AccessToken, cognitoguard.ErrRevoked)
}

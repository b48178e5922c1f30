package events_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/clocktest"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// trailQueue collects the fake pool's records, EventBridge-wrapped.
type trailQueue struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (q *trailQueue) sink(t *testing.T) func([]byte) {
	return func(rec []byte) {
		q.mu.Lock()
		defer q.mu.Unlock()
		body, err := events.Wrap(rec, "ev-"+strconv.Itoa(len(q.bodies)), cognitotest.CloudTrailAccount)
		if err != nil {
			t.Errorf("Wrap: %v", err)
		}
		q.bodies = append(q.bodies, body)
	}
}

func (q *trailQueue) take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.bodies
	q.bodies = nil
	return b
}

// TestFakePoolSignOuts drives the real SDK against the fake pool and
// feeds its CloudTrail records to the consumer: every sign-out made
// without the library is honoured, under the right pool only.
func TestFakePoolSignOuts(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{PoolID: "us-east-1_FakePool1", AliasAttributes: []string{"email"}})
	t.Cleanup(pool.Close)
	q := &trailQueue{}
	pool.SetCloudTrailSink(q.sink(t))
	store := revocation.NewMemory(revocation.MemoryConfig{})
	const otherPool = "eu-west-1_OtherPool9"
	api, ctx := pool.Client(), t.Context()
	pid := aws.String(pool.PoolID())
	earlier := time.Now().Add(-time.Hour).Truncate(time.Millisecond)

	tests := []struct {
		name      string
		passwords bool
		user      cognitotest.User
		call      func(a *types.AuthenticationResultType, u cognitotest.User) error
		want      events.Outcome
	}{
		{"GlobalSignOut", false, cognitotest.User{Username: "u1"}, func(a *types.AuthenticationResultType, _ cognitotest.User) error {
			_, err := api.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: a.AccessToken})
			return err
		}, events.Recorded},
		{"AdminUserGlobalSignOut by username", false, cognitotest.User{Username: "u2"}, func(_ *types.AuthenticationResultType, u cognitotest.User) error {
			_, err := api.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: pid, Username: aws.String(u.Username)})
			return err
		}, events.Recorded},
		{"AdminUserGlobalSignOut by alias", false, cognitotest.User{Username: "u3", Email: "u3@example.com", Attributes: map[string]string{"email_verified": "true"}}, func(_ *types.AuthenticationResultType, u cognitotest.User) error {
			_, err := api.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: pid, Username: aws.String(u.Email)})
			return err
		}, events.Recorded},
		{"AdminUserGlobalSignOut of a federated user", false, cognitotest.User{Identity: &cognitotest.Identity{ProviderName: "Google", UserID: "1234"}}, func(_ *types.AuthenticationResultType, u cognitotest.User) error {
			_, err := api.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: pid, Username: aws.String(u.Username)})
			return err
		}, events.Recorded},
		{"AdminDisableUser", false, cognitotest.User{Username: "u5"}, func(_ *types.AuthenticationResultType, u cognitotest.User) error {
			_, err := api.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pid, Username: aws.String(u.Username)})
			return err
		}, events.Recorded},
		{"AdminDeleteUser", false, cognitotest.User{Username: "u6"}, func(_ *types.AuthenticationResultType, u cognitotest.User) error {
			_, err := api.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pid, Username: aws.String(u.Username)})
			return err
		}, events.Recorded},
		{"DeleteUser", false, cognitotest.User{Username: "u7"}, func(a *types.AuthenticationResultType, _ cognitotest.User) error {
			_, err := api.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: a.AccessToken})
			return err
		}, events.Recorded},
		{"ChangePassword, policy off", false, cognitotest.User{Username: "u8"}, func(a *types.AuthenticationResultType, _ cognitotest.User) error {
			_, err := api.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: a.AccessToken, PreviousPassword: aws.String("Passw0rd!"), ProposedPassword: aws.String("N3w-Passw0rd")})
			return err
		}, events.PolicyOff},
		{"ChangePassword, policy on", true, cognitotest.User{Username: "u9"}, func(a *types.AuthenticationResultType, _ cognitotest.User) error {
			_, err := api.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: a.AccessToken, PreviousPassword: aws.String("Passw0rd!"), ProposedPassword: aws.String("N3w-Passw0rd")})
			return err
		}, events.Recorded},
		{"AdminSetUserPassword, policy on", true, cognitotest.User{Username: "u10"}, func(_ *types.AuthenticationResultType, u cognitotest.User) error {
			_, err := api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pid, Username: aws.String(u.Username), Password: aws.String("N3w-Passw0rd"), Permanent: true})
			return err
		}, events.Recorded},
		{"failed GlobalSignOut", true, cognitotest.User{Username: "u11"}, func(a *types.AuthenticationResultType, _ cognitotest.User) error {
			pool.FailNext("GlobalSignOut", "InternalErrorException", 0, 1)
			_, err := api.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: a.AccessToken})
			var ie *types.InternalErrorException
			if !errors.As(err, &ie) {
				return errors.New("injected failure did not fail")
			}
			return nil
		}, events.FailedCall},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.user.Password = ""
			if tt.user.Identity == nil {
				tt.user.Password = "Passw0rd!"
			}
			u := pool.AddUser(tt.user)
			var a *types.AuthenticationResultType
			if u.Identity == nil {
				out, err := api.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(pool.ClientID()),
					AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": u.Username, "PASSWORD": "Passw0rd!"}})
				if err != nil {
					t.Fatal(err)
				}
				a = out.AuthenticationResult
			}
			// The same sub in another pool: never touched.
			if err := store.RevokeUser(ctx, otherPool, u.Sub, earlier); err != nil {
				t.Fatal(err)
			}
			signIn := q.take()
			if err := tt.call(a, u); err != nil {
				t.Fatal(err)
			}
			c, err := events.New(store, []events.Pool{{ID: pool.PoolID()}, {ID: otherPool}}, events.Config{Passwords: tt.passwords})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range signIn {
				if r, err := c.Handle(ctx, b); err != nil || r.Outcome != events.NotSignOut {
					t.Errorf("sign-in record: %v, %v", r.Outcome, err)
				}
			}
			bodies := q.take()
			if len(bodies) != 1 {
				t.Fatalf("%d records, want 1", len(bodies))
			}
			r, err := c.Handle(ctx, bodies[0])
			if r.Outcome != tt.want || err != nil {
				t.Fatalf("Handle = %v, %v; want %v", r.Outcome, err, tt.want)
			}
			at, ok, _ := store.SignedOutAt(ctx, pool.PoolID(), u.Sub)
			if ok != (tt.want == events.Recorded) {
				t.Fatalf("recorded %v, want %v", ok, tt.want == events.Recorded)
			}
			if other, _, _ := store.SignedOutAt(ctx, otherPool, u.Sub); !other.Equal(earlier) {
				t.Errorf("the same sub in another pool moved to %v", other)
			}
			if ok && a != nil {
				checkRejected(t, pool, store, a, at)
			}
		})
	}
}

// checkRejected checks that a Verifier on store rejects a's tokens, and
// that the sign-out time is the event's second.
func checkRejected(t *testing.T, pool *cognitotest.Pool, store *revocation.Memory, a *types.AuthenticationResultType, at time.Time) {
	t.Helper()
	if at.Nanosecond() != 0 {
		t.Errorf("T = %v, want eventTime's whole second", at)
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny, Revocation: store})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, tok := range []*string{a.AccessToken, a.IdToken} {
		if _, err := v.Verify(context.Background(), aws.ToString(tok)); !errors.Is(err, cognitoguard.ErrRevoked) {
			t.Errorf("Verify after the event: %v, want ErrRevoked", err)
		}
	}
}

// TestLateEventAndLaterSignIn: an older event arriving after a later
// sign-out recorded by the helper does not lower it, and a sign-in in a
// later second than the event passes.
func TestLateEventAndLaterSignIn(t *testing.T) {
	clock := clocktest.New(time.Now().Truncate(time.Second))
	pool := cognitotest.NewPool(cognitotest.Config{PoolID: "us-east-1_FakePool2", Now: clock.Now})
	t.Cleanup(pool.Close)
	q := &trailQueue{}
	pool.SetCloudTrailSink(q.sink(t))
	store := revocation.NewMemory(revocation.MemoryConfig{Now: clock.Now})
	ctx := t.Context()
	pool.AddUser(cognitotest.User{Username: "alice"})
	old := pool.SignIn("alice")
	if _, err := pool.Client().GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: aws.String(old.AccessToken)}); err != nil {
		t.Fatal(err)
	}
	u, _ := pool.User("alice")
	helperT := clock.Now().Add(10 * time.Second)
	if err := store.RevokeUser(ctx, pool.PoolID(), u.Sub, helperT); err != nil {
		t.Fatal(err)
	}
	c, err := events.New(store, []events.Pool{{ID: pool.PoolID()}}, events.Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range q.take() {
		if _, err := c.Handle(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if at, _, _ := store.SignedOutAt(ctx, pool.PoolID(), u.Sub); !at.Equal(helperT) {
		t.Errorf("SignedOutAt = %v, want the helper's later %v", at, helperT)
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()}}},
		cognitoguard.Config{Revocation: store, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	clock.Advance(11 * time.Second)
	fresh := pool.SignIn("alice")
	if _, err := v.Verify(ctx, fresh.AccessToken); err != nil {
		t.Errorf("sign-in after the sign-outs: %v", err)
	}
	if _, err := v.Verify(ctx, old.AccessToken); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("old token: %v, want ErrRevoked", err)
	}
}

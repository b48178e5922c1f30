package signout_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

func TestGlobalSignOutEndToEnd(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	bob := e.addUser("bob")
	first := e.signIn(t, "alice")
	bobs := e.signIn(t, "bob")

	e.clock.Advance(10 * time.Second)
	refreshed, err := e.refresh(t.Context(), *first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh before sign-out: %v", err)
	}
	e.wantVerify(t, "refreshed access token", *refreshed.AccessToken, nil)

	if err := e.so.GlobalSignOut(t.Context(), *refreshed.AccessToken); err != nil {
		t.Fatalf("GlobalSignOut: %v", err)
	}
	signedOut := e.clock.Now()

	// Cognito revoked the refresh token.
	if _, err := e.refresh(t.Context(), *first.RefreshToken); !errorCode(err, "NotAuthorizedException") {
		t.Errorf("refresh after sign-out: %v, want NotAuthorizedException", err)
	}
	if at, ok := e.pool.SignedOutAt(u.Sub); !ok || !at.Equal(signedOut) {
		t.Errorf("pool.SignedOutAt = %v, %v; want %v", at, ok, signedOut)
	}
	// The store recorded the sign-out, and every old token is rejected.
	if at, ok := e.signedOutAt(t, u.Sub); !ok || !at.Equal(signedOut) {
		t.Errorf("store.SignedOutAt = %v, %v; want %v", at, ok, signedOut)
	}
	for what, tok := range map[string]string{
		"first access token":     *first.AccessToken,
		"first ID token":         *first.IdToken,
		"refreshed access token": *refreshed.AccessToken,
		"refreshed ID token":     *refreshed.IdToken,
	} {
		e.wantVerify(t, what, tok, cognitoguard.ErrRevoked)
	}
	// Other users are not affected.
	e.wantVerify(t, "bob's access token", *bobs.AccessToken, nil)
	if _, ok := e.signedOutAt(t, bob.Sub); ok {
		t.Error("bob has a sign-out record")
	}

	// A later sign-in passes.
	e.clock.Advance(time.Second)
	second := e.signIn(t, "alice")
	e.wantVerify(t, "new access token", *second.AccessToken, nil)
	e.wantVerify(t, "new ID token", *second.IdToken, nil)
	if _, err := e.refresh(t.Context(), *second.RefreshToken); err != nil {
		t.Errorf("refresh of the new session: %v", err)
	}
	if got := e.pool.Calls("GlobalSignOut"); got != 1 {
		t.Errorf("GlobalSignOut calls = %d, want 1", got)
	}
	for _, tok := range []string{*first.AccessToken, *refreshed.AccessToken, *first.RefreshToken} {
		if strings.Contains(e.logs.String(), tok) {
			t.Fatal("a token was logged")
		}
	}
}

func TestGlobalSignOutRejectsBadTokens(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	other := cognitotest.NewPool(cognitotest.Config{Now: e.clock.Now})
	t.Cleanup(other.Close)
	other.AddUser(cognitotest.User{Username: "alice", Sub: u.Sub})
	foreignKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", cognitoguard.ErrNoToken},
		{"garbage", "not-a-jwt", cognitoguard.ErrMalformed},
		{"forged: signed by another key", e.pool.AccessToken("alice", cognitotest.WithSigningKey(foreignKey)), cognitoguard.ErrSignature},
		{"foreign pool, same sub", other.AccessToken("alice"), cognitoguard.ErrIssuer},
		{"forged iss claim", e.pool.AccessToken("alice", cognitotest.WithSigningKey(foreignKey),
			cognitotest.WithClaims(map[string]any{"iss": other.Issuer()})), cognitoguard.ErrIssuer},
		{"other app client", e.pool.AccessToken("alice", cognitotest.WithClient("someone-else")), cognitoguard.ErrClient},
		{"expired", e.pool.AccessToken("alice", cognitotest.WithIssuedAt(now.Add(-2*time.Hour))), cognitoguard.ErrExpired},
		{"alg none", e.pool.AccessToken("alice", cognitotest.WithHeader(map[string]any{"alg": "none"})), cognitoguard.ErrMalformed},
		{"ID token", e.pool.IDToken("alice"), cognitoguard.ErrTokenUse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.so.GlobalSignOut(t.Context(), tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("GlobalSignOut = %v, want %v", err, tc.want)
			}
			if tc.want != cognitoguard.ErrNoToken && !errors.Is(err, cognitoguard.ErrInvalidToken) {
				t.Errorf("GlobalSignOut = %v, want class ErrInvalidToken", err)
			}
			var soe *signout.Error
			if errors.As(err, &soe) || errors.Is(err, signout.ErrCognito) || errors.Is(err, signout.ErrStore) {
				t.Errorf("GlobalSignOut = %#v, want only the Authenticator's error", err)
			}
			if _, ok := e.signedOutAt(t, u.Sub); ok {
				t.Error("a sign-out was recorded")
			}
		})
	}
	if n := e.pool.Calls("GlobalSignOut"); n != 0 {
		t.Errorf("Cognito GlobalSignOut called %d times for bad tokens", n)
	}
	if _, ok := e.pool.SignedOutAt(u.Sub); ok {
		t.Error("Cognito signed the user out")
	}
}

func TestGlobalSignOutRetryIsIdempotent(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	tok := e.signIn(t, "alice")

	// First attempt: Cognito is throttling. The record is kept.
	e.pool.FailNext("GlobalSignOut", "TooManyRequestsException", 400, 1)
	err := e.so.GlobalSignOut(t.Context(), *tok.AccessToken)
	if !errors.Is(err, signout.ErrTooManyRequests) || !errors.Is(err, signout.ErrCognito) || errors.Is(err, signout.ErrStore) {
		t.Fatalf("first GlobalSignOut = %v, want ErrTooManyRequests only", err)
	}
	var soe *signout.Error
	if !errors.As(err, &soe) || !soe.Recorded || soe.Sub != u.Sub || soe.Op != "GlobalSignOut" {
		t.Fatalf("first GlobalSignOut = %#v, want a recorded Error of %s", err, u.Sub)
	}
	first, ok := e.signedOutAt(t, u.Sub)
	if !ok {
		t.Fatal("no record after the failed Cognito call")
	}
	e.wantVerify(t, "access token after the failed attempt", *tok.AccessToken, cognitoguard.ErrRevoked)
	if _, ok := e.pool.SignedOutAt(u.Sub); ok {
		t.Fatal("Cognito signed out despite the injected failure")
	}

	// Meanwhile (2s later) the user signs in on another device.
	e.clock.Advance(2 * time.Second)
	other := e.signIn(t, "alice")

	// Retry: succeeds, keeps T, so the other device stays signed in.
	if err := e.so.GlobalSignOut(t.Context(), *tok.AccessToken); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if at, _ := e.signedOutAt(t, u.Sub); !at.Equal(first) {
		t.Errorf("retry moved T from %v to %v", first, at)
	}
	e.wantVerify(t, "the other device's token", *other.AccessToken, nil)
	if _, ok := e.pool.SignedOutAt(u.Sub); !ok {
		t.Error("Cognito did not sign out on the retry")
	}

	// A second retry: Cognito answers "Access Token has been revoked",
	// which is success for a recorded sign-out.
	e.clock.Advance(2 * time.Second)
	if err := e.so.GlobalSignOut(t.Context(), *tok.AccessToken); err != nil {
		t.Fatalf("second retry: %v", err)
	}
	if at, _ := e.signedOutAt(t, u.Sub); !at.Equal(first) {
		t.Errorf("second retry moved T from %v to %v", first, at)
	}
	if n := e.pool.Calls("GlobalSignOut"); n != 3 {
		t.Errorf("GlobalSignOut calls = %d, want 3", n)
	}
}

func TestGlobalSignOutAfterSessionRevocation(t *testing.T) {
	// A token revoked through its session is not a retry of a global
	// sign-out: the user's sign-out is recorded now. Cognito refuses the
	// revoked token ("Access Token has been revoked"), which, the record
	// being in place, counts as done (documented: AdminSignOut revokes the
	// user's other refresh tokens in Cognito).
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	s := e.signIn(t, "alice")
	if err := e.so.RevokeSession(t.Context(), *s.AccessToken, *s.RefreshToken); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if err := e.so.GlobalSignOut(t.Context(), *s.AccessToken); err != nil {
		t.Fatalf("GlobalSignOut = %v, want nil", err)
	}
	if at, ok := e.signedOutAt(t, u.Sub); !ok || !at.Equal(e.clock.Now()) {
		t.Errorf("store.SignedOutAt = %v, %v; want %v", at, ok, e.clock.Now())
	}
}

func (authFunc) UserPoolIDs() []string { return []string{"us-east-1_Fake"} }

func TestStoreFailureStillCallsCognito(t *testing.T) {
	e := newEnv(t, envOptions{recorder: func(m *revocation.Memory) signout.Recorder {
		return &failingRecorder{Memory: m, err: fmtWrap(errStoreDown)}
	}})
	u := e.addUser("alice")
	e.addUser("bob")
	bob := e.signIn(t, "bob")
	s := e.signIn(t, "alice")

	tests := []struct {
		name    string
		op      string // Cognito operation
		call    func(ctx context.Context) error
		failOp  string // inject a Cognito failure too, if set
		sub     string
		cognito error
	}{
		{"GlobalSignOut", "GlobalSignOut", func(ctx context.Context) error { return e.so.GlobalSignOut(ctx, *s.AccessToken) }, "", u.Sub, nil},
		{"AdminSignOut", "AdminUserGlobalSignOut", func(ctx context.Context) error { _, err := e.so.AdminSignOut(ctx, "alice"); return err }, "", u.Sub, nil},
		{"RevokeSession", "RevokeToken", func(ctx context.Context) error { return e.so.RevokeSession(ctx, *bob.AccessToken, *bob.RefreshToken) }, "", "", nil},
		{"both fail", "AdminUserGlobalSignOut", func(ctx context.Context) error { _, err := e.so.AdminSignOut(ctx, "alice"); return err }, "AdminUserGlobalSignOut", u.Sub, signout.ErrCognitoInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.pool.Calls(tc.op)
			if tc.failOp != "" {
				e.pool.FailNext(tc.failOp, "InternalErrorException", 500, 1)
			}
			err := tc.call(t.Context())
			if !errors.Is(err, signout.ErrStore) || !errors.Is(err, errStoreDown) {
				t.Fatalf("err = %v, want ErrStore wrapping the store's error", err)
			}
			var soe *signout.Error
			if !errors.As(err, &soe) || soe.Recorded || soe.Store == nil {
				t.Fatalf("err = %#v, want an unrecorded Error", err)
			}
			if tc.cognito == nil && (errors.Is(err, signout.ErrCognito) || soe.Cognito != nil) {
				t.Errorf("err = %v, want no Cognito failure", err)
			}
			if tc.cognito != nil && (!errors.Is(err, tc.cognito) || !errors.Is(err, signout.ErrCognito)) {
				t.Errorf("err = %v, want %v too", err, tc.cognito)
			}
			if got := e.pool.Calls(tc.op); got != before+1 {
				t.Errorf("Cognito %s calls = %d, want %d", tc.op, got, before+1)
			}
			if tc.sub != "" {
				if _, ok := e.signedOutAt(t, tc.sub); ok {
					t.Error("a record exists although the store failed")
				}
			}
		})
	}
	if _, ok := e.pool.SignedOutAt(u.Sub); !ok {
		t.Error("Cognito did not sign alice out")
	}
}

func TestCognitoExceptions(t *testing.T) {
	e := newEnv(t, envOptions{})
	exceptions := []struct {
		errType string
		status  int
		want    error
		as      func(error) bool
	}{
		{"NotAuthorizedException", 400, signout.ErrNotAuthorized, as[*types.NotAuthorizedException]},
		{"InvalidParameterException", 400, signout.ErrInvalidParameter, as[*types.InvalidParameterException]},
		{"ResourceNotFoundException", 400, signout.ErrResourceNotFound, as[*types.ResourceNotFoundException]},
		{"TooManyRequestsException", 400, signout.ErrTooManyRequests, as[*types.TooManyRequestsException]},
		{"UserNotFoundException", 400, signout.ErrUserNotFound, as[*types.UserNotFoundException]},
		{"InternalErrorException", 500, signout.ErrCognitoInternal, as[*types.InternalErrorException]},
	}
	ops := []struct {
		name   string
		op     string
		call   func(ctx context.Context, user string) (sub string, err error)
		record func(t *testing.T, user string) bool
	}{
		{"GlobalSignOut", "GlobalSignOut", func(ctx context.Context, user string) (string, error) {
			return "", e.so.GlobalSignOut(ctx, *e.signIn(t, user).AccessToken)
		}, func(t *testing.T, user string) bool {
			u, _ := e.pool.User(user)
			_, ok := e.signedOutAt(t, u.Sub)
			return ok
		}},
		{"AdminSignOut", "AdminUserGlobalSignOut", func(ctx context.Context, user string) (string, error) {
			return e.so.AdminSignOut(ctx, user)
		}, func(t *testing.T, user string) bool {
			u, _ := e.pool.User(user)
			_, ok := e.signedOutAt(t, u.Sub)
			return ok
		}},
		{"RevokeSession", "RevokeToken", func(ctx context.Context, user string) (string, error) {
			s := e.signIn(t, user)
			err := e.so.RevokeSession(ctx, *s.AccessToken, *s.RefreshToken)
			_, verr := e.verifier.Verify(ctx, *s.AccessToken)
			if !errors.Is(verr, cognitoguard.ErrRevoked) {
				t.Errorf("session token after a failed RevokeSession: %v, want revoked", verr)
			}
			return "", err
		}, nil},
	}
	for _, op := range ops {
		for _, x := range exceptions {
			t.Run(op.name+"/"+x.errType, func(t *testing.T) {
				user := strings.ToLower(op.name + "-" + x.errType)
				e.addUser(user)
				e.pool.FailNext(op.op, x.errType, x.status, 1)
				_, err := op.call(t.Context(), user)
				if !errors.Is(err, x.want) || !errors.Is(err, signout.ErrCognito) {
					t.Fatalf("err = %v, want %v and ErrCognito", err, x.want)
				}
				if errors.Is(err, signout.ErrStore) {
					t.Errorf("err = %v matches ErrStore", err)
				}
				// The SDK returns the typed exception when the operation
				// models it, else a *smithy.GenericAPIError with its code.
				if !x.as(err) && !(as[*smithy.GenericAPIError](err) && errorCode(err, x.errType)) {
					t.Errorf("err = %v: the SDK's %s is not reachable with errors.As", err, x.errType)
				}
				var soe *signout.Error
				if !errors.As(err, &soe) || !soe.Recorded {
					t.Errorf("err = %#v, want a recorded Error", err)
				}
				var ce *signout.CognitoError
				if !errors.As(err, &ce) || ce.Kind != x.want {
					t.Errorf("CognitoError = %#v, want Kind %v", ce, x.want)
				}
				if op.record != nil && !op.record(t, user) {
					t.Error("the record was not kept")
				}
			})
		}
	}
}

func TestSignOutTimeout(t *testing.T) {
	e := newEnv(t, envOptions{cfg: signout.Config{Timeout: 50 * time.Millisecond}})
	u := e.addUser("alice")
	e.pool.SetAPIDelay(10 * time.Second)
	start := time.Now()
	_, err := e.so.AdminSignOut(t.Context(), "alice")
	if !errors.Is(err, signout.ErrCognito) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AdminSignOut = %v, want ErrCognito and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v, want about the 50ms timeout", d)
	}
	if _, ok := e.signedOutAt(t, u.Sub); ok {
		t.Error("recorded although AdminGetUser timed out")
	}
}

func TestSignOutCompletesWhenCallerGoesAway(t *testing.T) {
	// The caller's context is cancelled once the sign-out is under way
	// (here, during the store write): both steps still complete.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	e := newEnv(t, envOptions{recorder: func(m *revocation.Memory) signout.Recorder {
		return &cancellingRecorder{Memory: m, cancel: cancel}
	}})
	u := e.addUser("alice")
	s := e.signIn(t, "alice")
	if err := e.so.GlobalSignOut(ctx, *s.AccessToken); err != nil {
		t.Fatalf("GlobalSignOut: %v", err)
	}
	if _, ok := e.signedOutAt(t, u.Sub); !ok {
		t.Error("not recorded")
	}
	if _, ok := e.pool.SignedOutAt(u.Sub); !ok {
		t.Error("Cognito not called")
	}

	// A context done before anything started stops the sign-out.
	e.clock.Advance(time.Second)
	e.addUser("bob")
	b := e.signIn(t, "bob")
	done, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if err := e.so.GlobalSignOut(done, *b.AccessToken); !errors.Is(err, context.Canceled) {
		t.Errorf("GlobalSignOut with a cancelled context = %v, want context.Canceled", err)
	}
	if n := e.pool.Calls("GlobalSignOut"); n != 1 {
		t.Errorf("GlobalSignOut calls = %d, want 1", n)
	}
}

func TestNew(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	api := newClient(p)
	store := revocation.NewMemory(revocation.MemoryConfig{})
	one := newVerifier(t, p.PoolID())
	two := newVerifier(t, p.PoolID(), "eu-west-1_Other1")
	tests := []struct {
		name     string
		api      signout.CognitoAPI
		auth     signout.Authenticator
		rec      signout.Recorder
		cfg      signout.Config
		wantPool string
		wantErr  []string // substrings of the error; nil: no error
	}{
		{"zero config", api, nil, store, signout.Config{}, "", nil},
		{"pool without Verifier", api, nil, store, signout.Config{UserPoolID: "local_x"}, "local_x", nil},
		{"pool of the Verifier by default", api, one, store, signout.Config{}, p.PoolID(), nil},
		{"pool of the Verifier", api, two, store, signout.Config{UserPoolID: "eu-west-1_Other1"}, "eu-west-1_Other1", nil},
		{"Verifier of two pools, none chosen", api, two, store, signout.Config{}, "", nil},
		{"pool the Verifier does not know", api, one, store, signout.Config{UserPoolID: "eu-west-1_Other1"}, "",
			[]string{"eu-west-1_Other1", p.PoolID()}},
		{"negative timeout", api, nil, store, signout.Config{Timeout: -1}, "", []string{"Timeout"}},
		{"nil api", nil, nil, store, signout.Config{}, "", []string{"CognitoAPI"}},
		{"nil recorder", api, nil, nil, signout.Config{}, "", []string{"Recorder"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := signout.New(tc.api, tc.auth, tc.rec, tc.cfg)
			if (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("New: %v, want error %v", err, tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if err == nil && s.UserPoolID() != tc.wantPool {
				t.Errorf("UserPoolID = %q, want %q", s.UserPoolID(), tc.wantPool)
			}
		})
	}
}

func TestSignOutWithoutAuthenticator(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	s, err := signout.New(newClient(p), nil, revocation.NewMemory(revocation.MemoryConfig{}), signout.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.AddUser(cognitotest.User{Username: "alice"})
	tok := p.AccessToken("alice")
	if err := s.GlobalSignOut(t.Context(), tok); err == nil {
		t.Error("GlobalSignOut without an Authenticator succeeded")
	}
	if err := s.RevokeSession(t.Context(), tok, "rt"); err == nil {
		t.Error("RevokeSession without an Authenticator succeeded")
	}
	if _, err := s.AdminSignOut(t.Context(), "alice"); err == nil {
		t.Error("AdminSignOut without a UserPoolID succeeded")
	}
	if p.Calls("GlobalSignOut")+p.Calls("RevokeToken")+p.Calls("AdminGetUser") != 0 {
		t.Error("Cognito was called")
	}
}

func TestSignOutClaimsWithoutPool(t *testing.T) {
	// Claims without a pool could only be recorded where no Verifier
	// reads: the sign-out is refused, nothing recorded, Cognito not called.
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	store := revocation.NewMemory(revocation.MemoryConfig{})
	auth := authFunc(func(context.Context, string) (*cognitoguard.Claims, error) {
		return &cognitoguard.Claims{Subject: "s1", TokenUse: cognitoguard.TokenUseAccess}, nil
	})
	so, err := signout.New(p.Client(), auth, store, signout.Config{})
	if err != nil {
		t.Fatal(err)
	}
	err = so.GlobalSignOut(t.Context(), "a.b.c")
	if !errors.Is(err, cognitoguard.ErrUnavailable) {
		t.Errorf("GlobalSignOut = %v, want ErrUnavailable", err)
	}
	if _, ok, _ := store.SignedOutAt(t.Context(), "", "s1"); ok {
		t.Error("a sign-out was recorded under an empty pool")
	}
	if n := p.Calls("GlobalSignOut"); n != 0 {
		t.Errorf("GlobalSignOut calls = %d, want 0", n)
	}
}

// writesRecorder records the times of the user sign-outs written.
type writesRecorder struct {
	*revocation.Memory
	mu    sync.Mutex
	times []time.Time
}

func (w *writesRecorder) RevokeUser(ctx context.Context, pool, sub string, at time.Time) error {
	w.mu.Lock()
	w.times = append(w.times, at)
	w.mu.Unlock()
	return w.Memory.RevokeUser(ctx, pool, sub, at)
}

func (w *writesRecorder) RevokeUserSince(ctx context.Context, pool, sub string, since, at time.Time) (time.Time, bool, error) {
	got, kept, err := w.Memory.RevokeUserSince(ctx, pool, sub, since, at)
	w.mu.Lock()
	w.times = append(w.times, got)
	w.mu.Unlock()
	return got, kept, err
}

// TestGlobalSignOutRetryWritesAgain: a retried GlobalSignOut writes the
// recorded time again (never a later one), so that the store publishes it
// again to instances that may have missed the first attempt's message.
func TestGlobalSignOutRetryWritesAgain(t *testing.T) {
	var rec *writesRecorder
	e := newEnv(t, envOptions{recorder: func(m *revocation.Memory) signout.Recorder {
		rec = &writesRecorder{Memory: m}
		return rec
	}})
	e.addUser("alice")
	s := e.signIn(t, "alice")
	e.clock.Advance(time.Second)
	if err := e.so.GlobalSignOut(t.Context(), *s.AccessToken); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if err := e.so.GlobalSignOut(t.Context(), *s.AccessToken); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(rec.times) != 2 || !rec.times[1].Equal(rec.times[0]) {
		t.Fatalf("writes at %v, want the first time written twice", rec.times)
	}
}

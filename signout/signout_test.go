package signout_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// clock is a settable clock shared by the pool, the Verifier, the store
// and the sign-out helper.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a fake pool, the real SDK client pointed at it, a Memory store,
// a Verifier wired to the store and a sign-out helper.
type env struct {
	pool     *cognitotest.Pool
	clock    *clock
	client   *cip.Client
	store    *revocation.Memory
	verifier *cognitoguard.Verifier
	so       *signout.Helper
	logs     *syncbuf.Buffer
	secret   string
}

// envOptions tune newEnv.
type envOptions struct {
	recorder func(*revocation.Memory) signout.Recorder // default: the store
	cfg      signout.Config
	secret   string // the pool's client has this client secret
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{clock: newClock(), logs: new(syncbuf.Buffer), secret: o.secret}
	pc := cognitotest.Config{Now: e.clock.Now, AliasAttributes: []string{"email"}, CaseInsensitive: true}
	if o.secret != "" {
		pc.ClientSecrets = map[string]string{cognitotest.DefaultClientID: o.secret}
	}
	e.pool = cognitotest.NewPool(pc)
	t.Cleanup(e.pool.Close)
	e.client = newClient(e.pool)
	e.store = revocation.NewMemory(revocation.MemoryConfig{Now: e.clock.Now})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()}, ClientIDs: []string{e.pool.ClientID()}}}, cognitoguard.Config{
		TokenUse:   cognitoguard.TokenUseAny,
		Revocation: e.store,
		Now:        e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	e.verifier = v
	var rec signout.Recorder = e.store
	if o.recorder != nil {
		rec = o.recorder(e.store)
	}
	cfg := o.cfg
	cfg.UserPoolID = e.pool.PoolID()
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.so, err = signout.New(e.client, v, rec, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newClient(p *cognitotest.Pool) *cip.Client {
	return p.Client()
}

// addUser adds a user with a password and returns it.
func (e *env) addUser(name string) cognitotest.User {
	return e.pool.AddUser(cognitotest.User{Username: name, Password: "pw-" + name, Email: name + "@example.com",
		Attributes: map[string]string{"email_verified": "true"}})
}

// signIn signs in through the API with the user's password.
func (e *env) signIn(t *testing.T, name string) *types.AuthenticationResultType {
	t.Helper()
	out, err := e.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(e.pool.ClientID()),
		AuthParameters: e.secretHash(name, map[string]string{"USERNAME": name, "PASSWORD": "pw-" + name}),
	})
	if err != nil {
		t.Fatalf("InitiateAuth %s: %v", name, err)
	}
	return out.AuthenticationResult
}

// secretHash adds SECRET_HASH for username to params when the client has
// a secret.
func (e *env) secretHash(username string, params map[string]string) map[string]string {
	if e.secret != "" {
		params["SECRET_HASH"] = cognitotest.SecretHash(e.secret, username, e.pool.ClientID())
	}
	return params
}

func (e *env) refresh(ctx context.Context, rt string) (*types.AuthenticationResultType, error) {
	out, err := e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(e.pool.ClientID()),
		AuthParameters: map[string]string{"REFRESH_TOKEN": rt},
	})
	if err != nil {
		return nil, err
	}
	return out.AuthenticationResult, nil
}

func (e *env) signedOutAt(t *testing.T, sub string) (time.Time, bool) {
	t.Helper()
	at, ok, err := e.store.SignedOutAt(t.Context(), e.pool.PoolID(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return at, ok
}

// wantVerify checks that Verify accepts (want nil) or rejects with want.
func (e *env) wantVerify(t *testing.T, what, token string, want error) {
	t.Helper()
	_, err := e.verifier.Verify(t.Context(), token)
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: Verify = %v, want accepted", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: Verify = %v, want %v", what, err, want)
	}
}

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

// errorCode reports whether err carries the smithy error code.
func errorCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
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

func TestGlobalSignOutClockBehindCognito(t *testing.T) {
	// This host's clock is 30s behind Cognito's: the recorded time is the
	// token's auth_time, so the presented token is revoked all the same.
	e := newEnv(t, envOptions{cfg: signout.Config{Now: func() time.Time { return newClock().Now().Add(-30 * time.Second) }}})
	u := e.addUser("alice")
	s := e.signIn(t, "alice")
	if err := e.so.GlobalSignOut(t.Context(), *s.AccessToken); err != nil {
		t.Fatal(err)
	}
	if at, _ := e.signedOutAt(t, u.Sub); !at.Equal(e.clock.Now()) {
		t.Errorf("T = %v, want the auth_time %v", at, e.clock.Now())
	}
	e.wantVerify(t, "access token", *s.AccessToken, cognitoguard.ErrRevoked)
}

func TestSignOutFutureAuthTime(t *testing.T) {
	// A token whose auth_time lies a year ahead of its own iat must not
	// push the user's sign-out time ahead: that would lock out every
	// later sign-in. The recorded time is now, or the token's auth_time
	// only as far as its verified iat allows.
	for _, op := range []string{"GlobalSignOut", "RevokeSession without origin_jti"} {
		t.Run(op, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			u := e.addUser("alice")
			s := e.pool.SignIn("alice")
			future := cognitotest.WithAuthTime(e.clock.Now().Add(365 * 24 * time.Hour))
			var err error
			if op == "GlobalSignOut" {
				err = e.so.GlobalSignOut(t.Context(), e.pool.AccessToken("alice", future))
			} else {
				tok := e.pool.AccessToken("alice", future, cognitotest.WithClaims(map[string]any{"origin_jti": nil}))
				err = e.so.RevokeSession(t.Context(), tok, s.RefreshToken)
			}
			// The Verifier refuses such a token (nothing recorded); were it
			// accepted, the sign-out would be recorded at now.
			at, ok := e.signedOutAt(t, u.Sub)
			switch {
			case err != nil && !errors.Is(err, cognitoguard.ErrNotYetValid):
				t.Fatalf("%s: %v, want nil or ErrNotYetValid", op, err)
			case err != nil && ok:
				t.Errorf("refused, but a sign-out was recorded at %v", at)
			case err == nil && (!ok || !at.Equal(e.clock.Now())):
				t.Errorf("store.SignedOutAt = %v, %v; want now, %v", at, ok, e.clock.Now())
			}
			e.clock.Advance(time.Minute)
			later := e.signIn(t, "alice")
			e.wantVerify(t, "a sign-in a minute later", *later.AccessToken, nil)
		})
	}
}

// authFunc adapts a function to signout.Authenticator of the pool
// "us-east-1_Fake".
type authFunc func(context.Context, string) (*cognitoguard.Claims, error)

func (f authFunc) Authenticate(ctx context.Context, tok string) (*cognitoguard.Claims, error) {
	return f(ctx, tok)
}

func (authFunc) UserPoolIDs() []string { return []string{"us-east-1_Fake"} }

func TestSignOutAuthTimeBound(t *testing.T) {
	// Whatever an Authenticator lets through, a token's authentication
	// time moves the recorded sign-out at most 5 minutes (the largest
	// Verifier Leeway) past the recorder's clock.
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	store := revocation.NewMemory(revocation.MemoryConfig{Now: func() time.Time { return now }})
	for _, tc := range []struct {
		name      string
		authTime  time.Time
		issuedAt  time.Time
		wantAhead time.Duration
	}{
		{"auth_time and iat an hour ahead", now.Add(time.Hour), now.Add(time.Hour), 5 * time.Minute},
		{"auth_time a minute ahead, iat 30s", now.Add(time.Minute), now.Add(30 * time.Second), 30 * time.Second},
		{"no iat", now.Add(time.Minute), time.Time{}, 0},
		{"auth_time behind", now.Add(-time.Minute), now, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := "sub-" + tc.name
			auth := authFunc(func(context.Context, string) (*cognitoguard.Claims, error) {
				return &cognitoguard.Claims{Subject: sub, TokenUse: cognitoguard.TokenUseAccess, UserPoolID: "us-east-1_Fake",
					AuthTime: tc.authTime, IssuedAt: tc.issuedAt}, nil
			})
			so, err := signout.New(p.Client(), auth, store, signout.Config{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			_ = so.GlobalSignOut(t.Context(), "not-a-token") // Cognito refuses it; the record stays
			at, ok, err := store.SignedOutAt(t.Context(), "us-east-1_Fake", sub)
			if err != nil || !ok || !at.Equal(now.Add(tc.wantAhead)) {
				t.Errorf("recorded %v, %v, %v; want %v", at, ok, err, now.Add(tc.wantAhead))
			}
		})
	}
}

// failingRecorder is a Recorder whose writes fail with err (and otherwise
// go to the store).
type failingRecorder struct {
	*revocation.Memory
	err    error
	writes int
	mu     sync.Mutex
}

func (f *failingRecorder) RevokeUser(ctx context.Context, iss, sub string, at time.Time) error {
	f.mu.Lock()
	f.writes++
	f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	return f.Memory.RevokeUser(ctx, iss, sub, at)
}

func (f *failingRecorder) RevokeSession(ctx context.Context, iss, sub, jti string, at time.Time) error {
	f.mu.Lock()
	f.writes++
	f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	return f.Memory.RevokeSession(ctx, iss, sub, jti, at)
}

var errStoreDown = errors.New("store down (test)")

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

func fmtWrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "redis: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

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

func as[T error](err error) bool {
	var target T
	return errors.As(err, &target)
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

func TestRevokeSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	laptop := e.signIn(t, "alice")
	phone := e.signIn(t, "alice")
	laptopID, _ := e.verifier.Verify(t.Context(), *laptop.AccessToken)

	if err := e.so.RevokeSession(t.Context(), *laptop.AccessToken, *laptop.RefreshToken); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	e.wantVerify(t, "laptop access token", *laptop.AccessToken, cognitoguard.ErrRevoked)
	e.wantVerify(t, "laptop ID token", *laptop.IdToken, cognitoguard.ErrRevoked)
	e.wantVerify(t, "phone access token", *phone.AccessToken, nil)
	e.wantVerify(t, "phone ID token", *phone.IdToken, nil)
	if _, err := e.refresh(t.Context(), *laptop.RefreshToken); !errorCode(err, "NotAuthorizedException") {
		t.Errorf("laptop refresh: %v, want NotAuthorizedException", err)
	}
	if _, err := e.refresh(t.Context(), *phone.RefreshToken); err != nil {
		t.Errorf("phone refresh: %v", err)
	}
	if !e.pool.OriginRevoked(laptopID.OriginJTI) {
		t.Error("Cognito did not revoke the laptop session")
	}
	if _, ok := e.signedOutAt(t, u.Sub); ok {
		t.Error("a user sign-out was recorded for a session revocation")
	}
	// Retry: safe, and still only that session.
	if err := e.so.RevokeSession(t.Context(), *laptop.AccessToken, *laptop.RefreshToken); err != nil {
		t.Fatalf("RevokeSession retry: %v", err)
	}
	e.wantVerify(t, "phone access token after the retry", *phone.AccessToken, nil)

	// An ID token names the session as well.
	tablet := e.signIn(t, "alice")
	if err := e.so.RevokeSession(t.Context(), *tablet.IdToken, *tablet.RefreshToken); err != nil {
		t.Fatalf("RevokeSession with an ID token: %v", err)
	}
	e.wantVerify(t, "tablet access token", *tablet.AccessToken, cognitoguard.ErrRevoked)
	e.wantVerify(t, "phone access token at the end", *phone.AccessToken, nil)
}

func TestRevokeSessionWithoutOriginJTI(t *testing.T) {
	// A token without origin_jti cannot name its session: the user's
	// sign-out is recorded instead.
	e := newEnv(t, envOptions{})
	u := e.addUser("alice")
	s := e.signIn(t, "alice")
	old := e.pool.AccessToken("alice", cognitotest.WithClaims(map[string]any{"origin_jti": nil}))
	if err := e.so.RevokeSession(t.Context(), old, *s.RefreshToken); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if at, ok := e.signedOutAt(t, u.Sub); !ok || !at.Equal(e.clock.Now()) {
		t.Errorf("store.SignedOutAt = %v, %v; want %v", at, ok, e.clock.Now())
	}
	e.wantVerify(t, "session access token", *s.AccessToken, cognitoguard.ErrRevoked)
	// A retry keeps T.
	e.clock.Advance(5 * time.Second)
	if err := e.so.RevokeSession(t.Context(), old, *s.RefreshToken); err != nil {
		t.Fatalf("RevokeSession retry: %v", err)
	}
	if at, _ := e.signedOutAt(t, u.Sub); !at.Equal(e.clock.Now().Add(-5 * time.Second)) {
		t.Errorf("retry moved T to %v", at)
	}
}

func TestRevokeSessionBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser("alice")
	s := e.signIn(t, "alice")
	forged := e.pool.AccessToken("alice", cognitotest.WithSigningKey(e.pool.IDSigningKey()))
	if err := e.so.RevokeSession(t.Context(), forged, *s.RefreshToken); !errors.Is(err, cognitoguard.ErrInvalidToken) {
		t.Errorf("forged token: %v, want ErrInvalidToken", err)
	}
	if err := e.so.RevokeSession(t.Context(), *s.AccessToken, ""); err == nil {
		t.Error("empty refresh token accepted")
	}
	if n := e.pool.Calls("RevokeToken"); n != 0 {
		t.Errorf("RevokeToken calls = %d, want 0", n)
	}
	e.wantVerify(t, "session access token", *s.AccessToken, nil)
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

// cancellingRecorder cancels the caller's context while recording.
type cancellingRecorder struct {
	*revocation.Memory
	cancel context.CancelFunc
}

func (c *cancellingRecorder) RevokeUser(ctx context.Context, iss, sub string, at time.Time) error {
	c.cancel()
	return c.Memory.RevokeUser(ctx, iss, sub, at)
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

func TestNewSignOut(t *testing.T) {
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

// newVerifier is a Verifier of the pools (with explicit issuers, so that
// nothing is fetched).
func newVerifier(t *testing.T, poolIDs ...string) *cognitoguard.Verifier {
	t.Helper()
	var pools []cognitoguard.Pool
	for _, id := range poolIDs {
		pools = append(pools, cognitoguard.Pool{UserPoolID: id, Issuers: []string{"https://issuer.example/" + id}, AnyClient: true})
	}
	v, err := cognitoguard.New(pools, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
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

func TestSignOutWithoutAuthenticator(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	s, err := signout.New(newClient(p), nil, revocation.NewMemory(revocation.MemoryConfig{}), signout.Config{})
	if err != nil {
		t.Fatal(err)
	}
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

// TestRevokeSessionClientSecret: an app client with a secret; RevokeToken
// goes through the real SDK with Config.ClientSecret. A wrong
// secret is Cognito's UnauthorizedException, returned typed, the session
// revocation recorded all the same; the right one revokes the refresh
// token.
func TestRevokeSessionClientSecret(t *testing.T) {
	const secret = "0123456789abcdefghijklmnopqrstuv"
	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{
		{"right secret", secret, true},
		{"wrong secret", "wrong-secret-of-24-chars-min", false},
		{"no secret", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{secret: secret, cfg: signout.Config{ClientSecret: tc.secret}})
			e.addUser("alice")
			s := e.signIn(t, "alice")
			err := e.so.RevokeSession(t.Context(), *s.AccessToken, *s.RefreshToken)
			e.wantVerify(t, "access token", *s.AccessToken, cognitoguard.ErrRevoked) // recorded either way
			_, rerr := e.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
				AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
				ClientId:       aws.String(e.pool.ClientID()),
				AuthParameters: e.secretHash("alice", map[string]string{"REFRESH_TOKEN": *s.RefreshToken}),
			})
			if tc.ok {
				if err != nil {
					t.Fatalf("RevokeSession: %v", err)
				}
				if rerr == nil {
					t.Error("the refresh token still works after RevokeToken")
				}
				return
			}
			var soe *signout.Error
			var ue *types.UnauthorizedException
			if !errors.As(err, &soe) || !soe.Recorded || !errors.Is(err, signout.ErrCognito) || !errors.As(err, &ue) {
				t.Fatalf("RevokeSession = %v, want a recorded Error wrapping UnauthorizedException", err)
			}
			if rerr != nil {
				t.Errorf("refresh after a refused RevokeToken: %v, want it to work (Cognito revoked nothing)", rerr)
			}
			if strings.Contains(e.logs.String(), secret) || (tc.secret != "" && strings.Contains(e.logs.String(), tc.secret)) {
				t.Error("a client secret was logged")
			}
		})
	}
}

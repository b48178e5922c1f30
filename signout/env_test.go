package signout_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/clocktest"

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

// The fixture of the sign-out tests: a fake pool through the real SDK, a
// Memory store, a Verifier wired to it, and the helper.

// newClock is the clock shared by the pool, the Verifier, the store and
// the sign-out helper.
func newClock() *clocktest.Clock { return clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

// env is a fake pool, the real SDK client pointed at it, a Memory store,
// a Verifier wired to the store and a sign-out helper.
type env struct {
	pool     *cognitotest.Pool
	clock    *clocktest.Clock
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
	// The logger is set once, on the Verifier: the helper logs there.
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: e.pool.PoolID(), Issuers: []string{e.pool.Issuer()}, ClientIDs: []string{e.pool.ClientID()}}}, cognitoguard.Config{
		TokenUse:   cognitoguard.TokenUseAny,
		Revocation: e.store,
		Now:        e.clock.Now,
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
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

// errorCode reports whether err carries the smithy error code.
func errorCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}

// authFunc adapts a function to signout.Authenticator of the pool
// "us-east-1_Fake".
type authFunc func(context.Context, string) (*cognitoguard.Claims, error)

func (f authFunc) Authenticate(ctx context.Context, tok string) (*cognitoguard.Claims, error) {
	return f(ctx, tok)
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

func (f *failingRecorder) RevokeUserSince(ctx context.Context, iss, sub string, since, at time.Time) (time.Time, bool, error) {
	f.mu.Lock()
	f.writes++
	f.mu.Unlock()
	if f.err != nil {
		return time.Time{}, false, f.err
	}
	return f.Memory.RevokeUserSince(ctx, iss, sub, since, at)
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

func fmtWrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "redis: " + w.err.Error() }

func (w *wrapped) Unwrap() error { return w.err }

func as[T error](err error) bool {
	var target T
	return errors.As(err, &target)
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

func (c *cancellingRecorder) RevokeUserSince(ctx context.Context, iss, sub string, since, at time.Time) (time.Time, bool, error) {
	c.cancel()
	return c.Memory.RevokeUserSince(ctx, iss, sub, since, at)
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

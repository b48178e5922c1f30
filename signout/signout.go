package signout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/logs"
)

// DefaultTimeout bounds each step of a sign-out (the store write
// and each Cognito call) when [Config.Timeout] is zero.
const DefaultTimeout = 5 * time.Second

// CognitoAPI is the part of the Cognito user pool client the sign-out
// helper calls. *cognitoidentityprovider.Client implements it; tests may
// point that client at a fake pool (package cognitotest) with its
// BaseEndpoint option.
type CognitoAPI interface {
	GlobalSignOut(ctx context.Context, params *cognitoidentityprovider.GlobalSignOutInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.GlobalSignOutOutput, error)
	AdminUserGlobalSignOut(ctx context.Context, params *cognitoidentityprovider.AdminUserGlobalSignOutInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminUserGlobalSignOutOutput, error)
	AdminGetUser(ctx context.Context, params *cognitoidentityprovider.AdminGetUserInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminGetUserOutput, error)
	AdminDisableUser(ctx context.Context, params *cognitoidentityprovider.AdminDisableUserInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminDisableUserOutput, error)
	AdminDeleteUser(ctx context.Context, params *cognitoidentityprovider.AdminDeleteUserInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminDeleteUserOutput, error)
	RevokeToken(ctx context.Context, params *cognitoidentityprovider.RevokeTokenInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.RevokeTokenOutput, error)
}

var _ CognitoAPI = (*cognitoidentityprovider.Client)(nil)

// Recorder is where the sign-out helper records sign-outs, keyed by
// (user pool ID, sub): the revocation store shared by the services'
// Verifiers. The stores of package revocation implement it.
// Implementations MUST be safe for concurrent use and MUST keep the latest
// time of a user's sign-out (a write with an earlier time never lowers
// it).
//
// SignedOutAt reports the user's last recorded sign-out. The helper reads
// it only to tell a retried sign-out (already recorded) from a token
// whose session alone was revoked.
type Recorder interface {
	RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error
	RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error
	SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error)
}

// SinceRecorder is a [Recorder] that decides a retried sign-out with its
// write (see revocation.Store.RevokeUserSince): the helper then records a
// user's sign-out in one write, without reading the recorded time first.
// The stores of package revocation implement it.
//
// A Recorder that wraps a store by embedding it and overrides RevokeUser
// (to count, log or refuse writes) MUST override RevokeUserSince too: the
// embedded store's method is promoted, and the helper calls it instead of
// RevokeUser.
type SinceRecorder interface {
	RevokeUserSince(ctx context.Context, poolID, sub string, since, at time.Time) (time.Time, bool, error)
}

// Authenticator verifies the token presented for a sign-out: signature,
// issuer, client, token use and expiry, but not revocation, so that a
// retried sign-out, or one made while the store is down, still identifies
// its user. [*cognitoguard.Verifier] implements it. For
// [Helper.GlobalSignOut] it MUST accept access tokens
// (cognitoguard.Config.TokenUse access, the default, or any).
//
// The claims it returns MUST carry the UserPoolID of the configured pool
// whose issuer matched: sign-outs are recorded under it, as the Verifier
// reads them. UserPoolIDs lists those pools.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*cognitoguard.Claims, error)
	UserPoolIDs() []string
}

var _ Authenticator = (*cognitoguard.Verifier)(nil)

// Config holds the settings of a [Helper]. Its zero value suits a
// Verifier of one pool and a public app client.
type Config struct {
	// UserPoolID is the pool whose users the Admin methods address, such
	// as "eu-west-1_AbCdEf123"; their sign-outs are recorded under it, as
	// the Verifiers key them. Default: the Authenticator's pool when it
	// has exactly one. With an Authenticator it MUST be one of its pools
	// ([New] refuses any other). Token sign-outs record the pool of the
	// verified token, whatever this says.
	UserPoolID string

	// ClientID and ClientSecret authenticate RevokeToken. ClientID
	// defaults to the client of the verified token (client_id, or aud of
	// an ID token). ClientSecret is required when that app client has a
	// secret. The secret is never logged.
	ClientID, ClientSecret string

	// Timeout bounds each step: the store write and each Cognito call.
	// Default [DefaultTimeout] (5s).
	Timeout time.Duration

	// Now is the clock of the sign-out times recorded. Default time.Now.
	Now func() time.Time

	// Logger receives one record per sign-out: Info on success, Warn on
	// failure, Debug for rejected tokens. Tokens are never logged. Nil:
	// the Authenticator's logger when it has a Logger method (as
	// [cognitoguard.Verifier.Logger]), else nothing is logged.
	Logger *slog.Logger
}

// Helper signs users out in both places that matter: the revocation
// store shared by this library's Verifiers, which makes every service
// reject the user's unexpired access and ID tokens at once, and Cognito,
// which revokes the refresh tokens (and, for Cognito's own APIs, the
// access tokens). Cognito alone is not enough: every API other than
// Cognito's keeps accepting a signed-out user's tokens until they expire
// (up to a day).
//
// # Order, failures and retries
//
// Each method records locally first, then calls Cognito. Both steps are
// always attempted: a store failure still calls Cognito, and a Cognito
// failure keeps the record. Any failure is returned as a [*Error]
// matching [ErrStore] and/or [ErrCognito] and the sentinel of the Cognito
// exception ([ErrNotAuthorized], [ErrTooManyRequests], …). The caller
// should retry a failed sign-out; a retry is safe:
//
//   - [Helper.GlobalSignOut] with a token whose user sign-out is already
//     recorded keeps the earlier record (the time is not moved, so a
//     sign-in made in between stays valid), and treats Cognito's answer
//     "Access Token has been revoked" as success;
//   - [Helper.AdminSignOut] and [Helper.AdminDisableUser] record the time
//     of the retry (a later time is a superset of the earlier sign-out);
//     [Helper.AdminDeleteUser] deletes only once the record is in place;
//   - [Helper.RevokeSession] records the same session again.
//
// Once the record has been attempted, the remaining step runs even if ctx
// is cancelled (each bounded by [Config.Timeout]), so a client that
// goes away mid-sign-out does not leave the two places disagreeing. A ctx
// that is already done when the token has been checked stops the
// sign-out before anything is recorded.
//
// # Security
//
// A token-based sign-out first verifies the token with the Authenticator:
// a forged, foreign, expired or malformed token fails with the
// Authenticator's error (errors.Is(err, cognitoguard.ErrInvalidToken)),
// nothing is recorded and Cognito is not called, so nobody can sign
// another user out. The recorded time is now, or the token's
// authentication time when later (this host's clock behind Cognito's),
// bounded by the token's verified iat and by 5 minutes, so that the
// presented token is revoked while a token claiming a future
// authentication cannot lock out later sign-ins.
//
// Neither Cognito call clears the hosted UI (managed login) session
// cookie: a browser must also be sent to [LogoutURL].
//
// A Helper is safe for concurrent use.
type Helper struct {
	api          CognitoAPI
	auth         Authenticator
	rec          Recorder
	poolID       string
	clientID     string
	clientSecret string
	timeout      time.Duration
	now          func() time.Time
	log          *slog.Logger
}

// New returns a sign-out helper calling api and recording in rec.
// api and rec are required. auth verifies the tokens of GlobalSignOut and
// RevokeSession; it may be nil when only AdminSignOut is used (the token
// methods then fail). It fails if auth is set and does not know
// [Config.UserPoolID], so that a sign-out can never be recorded under a
// pool the Verifiers do not read.
func New(api CognitoAPI, auth Authenticator, rec Recorder, cfg Config) (*Helper, error) {
	if api == nil {
		return nil, errors.New("signout: New: nil CognitoAPI")
	}
	if rec == nil {
		return nil, errors.New("signout: New: nil Recorder")
	}
	s := &Helper{
		api:          api,
		auth:         auth,
		rec:          rec,
		poolID:       cfg.UserPoolID,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		timeout:      cfg.Timeout,
		now:          cfg.Now,
		log:          cfg.Logger,
	}
	if s.timeout < 0 {
		return nil, errors.New("signout: New: negative Timeout")
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.log = logs.Of(s.log, auth)
	if auth != nil {
		pools := auth.UserPoolIDs()
		switch {
		case s.poolID == "" && len(pools) == 1:
			s.poolID = pools[0]
		case s.poolID != "" && !slices.Contains(pools, s.poolID):
			return nil, fmt.Errorf("signout: New: Config.UserPoolID %q is not one of the Verifier's pools %q", s.poolID, pools)
		}
	}
	return s, nil
}

// UserPoolID returns the pool the Admin methods address, empty when none
// is configured.
func (s *Helper) UserPoolID() string { return s.poolID }

// errNoAuthenticator is returned by the token methods of a Helper built
// without an Authenticator.
var errNoAuthenticator = errors.New("signout: Helper has no Authenticator: token sign-outs are disabled")

// verify authenticates token, logging rejections at Debug. Its errors are
// the Authenticator's.
func (s *Helper) verify(ctx context.Context, op, token string) (*cognitoguard.Claims, error) {
	if s.auth == nil {
		return nil, errNoAuthenticator
	}
	c, err := s.auth.Authenticate(ctx, token)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelDebug, "signout: sign-out token rejected",
			slog.String("op", op), slog.String("error", err.Error()))
		return nil, err
	}
	if c == nil || c.UserPoolID == "" {
		// Nothing could be recorded where a Verifier reads it.
		return nil, &cognitoguard.Error{Kind: cognitoguard.ErrUnavailable, Reason: "authenticator returned no claims or no user pool ID"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// step returns a context for one step of a sign-out that is under way:
// detached from ctx's cancellation (the step must run once the other one
// has), keeping its values, bounded by the timeout.
func (s *Helper) step(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
}

// maxAhead bounds how far a token's auth_time may move a recorded
// sign-out past the recorder's clock: the largest Leeway a
// [cognitoguard.Verifier] accepts.
const maxAhead = 5 * time.Minute

// recordTime is the sign-out time for the user of c: now, or c's
// authentication time if that is later (this host's clock behind
// Cognito's), trusted only as far as the Verifier checked it: up to c's
// iat (not in the future beyond its Leeway) and never beyond maxAhead.
// A token that claims a later authentication cannot push the user's
// sign-out time ahead and lock out the sign-ins that follow.
func (s *Helper) recordTime(c *cognitoguard.Claims) time.Time {
	now := s.now()
	a := c.AuthenticatedAt()
	if !a.After(now) {
		return now
	}
	if c.IssuedAt.Before(a) {
		a = c.IssuedAt // zero when absent: then now
	}
	if limit := now.Add(maxAhead); a.After(limit) {
		a = limit
	}
	if a.After(now) {
		return a
	}
	return now
}

// GlobalSignOut signs out the user of accessToken everywhere: it records
// the user's sign-out in the store (every token of the user authenticated
// at or before now is rejected) and calls Cognito's GlobalSignOut with the
// token, which revokes all the user's refresh tokens. The token MUST be
// an access token with scope aws.cognito.signin.user.admin (Cognito
// requires it); an ID token fails with [cognitoguard.ErrTokenUse], and a
// token without the scope — a client-credentials (M2M) token among
// them — with [ErrNotUserToken] before anything is recorded.
//
// The token is verified first; see [Helper] for what happens on a bad
// token, on failures and on retries. A token already revoked by a recorded
// sign-out of its user is a retry: the record is kept as is. Once the
// sign-out is recorded, Cognito's answer "Access Token has been revoked"
// counts as success: Cognito already signed the token out, on an earlier
// attempt (whose record may have failed) or through
// [Helper.RevokeSession]. In the latter case only that session's refresh
// token was revoked in Cognito: sign such a user out with AdminSignOut to
// revoke the others.
func (s *Helper) GlobalSignOut(ctx context.Context, accessToken string) error {
	const op = "GlobalSignOut"
	c, err := s.verify(ctx, op, accessToken)
	if err != nil {
		return err
	}
	if c.TokenUse != cognitoguard.TokenUseAccess {
		return &cognitoguard.Error{Kind: cognitoguard.ErrTokenUse, Reason: "GlobalSignOut needs an access token, got " + string(c.TokenUse)}
	}
	if !c.HasScope(AdminScope) { // Cognito would refuse it: record nothing
		return notUserToken(op, c, "the access token lacks scope "+AdminScope+" (a client-credentials token, or a user's without it)")
	}
	e := &Error{Op: op, Sub: c.Subject}
	at, retry, err := s.revokeUser(ctx, c, s.recordTime(c))
	e.Store = err
	e.Recorded = e.Store == nil || retry
	cctx, cancel := s.step(ctx)
	_, err = s.api.GlobalSignOut(cctx, &cognitoidentityprovider.GlobalSignOutInput{AccessToken: &accessToken})
	cancel()
	if err != nil {
		err = MapCognitoError(err)
		// "Access Token has been revoked": Cognito already signed this
		// token's user (or session) out, on an earlier attempt whose
		// record may have failed. With the record now in place there is
		// nothing left to do.
		if !(e.Recorded && tokenRevoked(err)) {
			e.Cognito = err
		}
	}
	return s.finish(ctx, e, c.UserPoolID, at, retry)
}

// revokeUser records the sign-out of c's user at at unless it is a retry:
// a sign-out at or after c's authentication is recorded already. A retry
// writes the recorded time again rather than skip the write: it never
// moves (a sign-in made since stays valid), and the write publishes it
// again, so that an instance which missed the first attempt's publication
// (a write that failed, then landed) learns it now. It returns the time in
// force. A [SinceRecorder] decides it in one write; another Recorder is
// read first.
func (s *Helper) revokeUser(ctx context.Context, c *cognitoguard.Claims, at time.Time) (time.Time, bool, error) {
	if sr, ok := s.rec.(SinceRecorder); ok {
		var retry bool
		err := s.record(ctx, func(ctx context.Context) error {
			var err error
			var got time.Time
			if got, retry, err = sr.RevokeUserSince(ctx, c.UserPoolID, c.Subject, c.AuthenticatedAt(), at); err == nil || retry {
				at = got
			}
			return err
		})
		return at, retry, err
	}
	prev, retry := s.recordedSince(ctx, c)
	if retry {
		at = prev
	}
	err := s.record(ctx, func(ctx context.Context) error {
		return s.rec.RevokeUser(ctx, c.UserPoolID, c.Subject, at)
	})
	return at, retry, err
}

// recordedSince returns the user sign-out of c's user recorded in the
// store and whether it is at or after c's authentication, that is whether
// a revoked c is revoked because its user signed out (a retry) rather than
// its session. A store error answers false: the sign-out is then recorded
// again.
func (s *Helper) recordedSince(ctx context.Context, c *cognitoguard.Claims) (time.Time, bool) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	t, ok, err := s.rec.SignedOutAt(rctx, c.UserPoolID, c.Subject)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "signout: reading the last sign-out failed",
			slog.String("pool", c.UserPoolID), slog.String("sub", c.Subject), slog.String("error", err.Error()))
		return time.Time{}, false
	}
	return t, ok && !t.Before(c.AuthenticatedAt())
}

// record runs one store write as a step.
func (s *Helper) record(ctx context.Context, write func(context.Context) error) error {
	sctx, cancel := s.step(ctx)
	defer cancel()
	return write(sctx)
}

// finish logs the outcome of a sign-out and returns e if a step failed.
func (s *Helper) finish(ctx context.Context, e *Error, poolID string, at time.Time, retry bool) error {
	attrs := []slog.Attr{
		slog.String("op", e.Op), slog.String("pool", poolID), slog.String("sub", e.Sub),
		slog.Time("at", at), slog.Bool("retry", retry), slog.Bool("recorded", e.Recorded),
	}
	if e.Store == nil && e.Cognito == nil {
		s.log.LogAttrs(ctx, slog.LevelInfo, "signout: signed out", attrs...)
		return nil
	}
	if e.Store != nil {
		attrs = append(attrs, slog.String("store_error", e.Store.Error()))
	}
	if e.Cognito != nil {
		attrs = append(attrs, slog.String("cognito_error", e.Cognito.Error()))
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "signout: sign-out failed", attrs...)
	return e
}

// RevokeSession signs out one session (one sign-in) instead of the user:
// it records the revocation of the token's origin_jti, so that the tokens
// of that session — and only those — are rejected, and calls Cognito's
// RevokeToken with refreshToken, which revokes the refresh token and the
// tokens issued from it. token is an access or ID token of the session;
// it is verified first, as described at [Helper]. refreshToken MUST be
// the refresh token of the same session: it is opaque and cannot be
// checked here (a mismatch signs out the two sessions halfway each).
//
// A token without origin_jti (issued before the app client enabled token
// revocation) cannot name its session: the user's sign-out is recorded
// instead (every session of the user authenticated until now, unless a
// sign-out already covers the token), as GlobalSignOut would.
//
// RevokeToken is authenticated with [Config.ClientID] (default:
// the token's client) and ClientSecret. A client-credentials (M2M)
// token has no session: it fails with [ErrNotUserToken] before anything
// is recorded.
func (s *Helper) RevokeSession(ctx context.Context, token, refreshToken string) error {
	const op = "RevokeSession"
	if refreshToken == "" {
		return errors.New("signout: RevokeSession: empty refresh token")
	}
	c, err := s.verify(ctx, op, token)
	if err != nil {
		return err
	}
	if machineToken(c) { // its sub is its client: a user sign-out would revoke the client
		return notUserToken(op, c, "a client-credentials token has no session to revoke")
	}
	e := &Error{Op: op, Sub: c.Subject}
	at := s.recordTime(c)
	var retry bool
	if c.OriginJTI != "" {
		e.Store = s.record(ctx, func(ctx context.Context) error {
			return s.rec.RevokeSession(ctx, c.UserPoolID, c.Subject, c.OriginJTI, at)
		})
	} else {
		at, retry, e.Store = s.revokeUser(ctx, c, at)
	}
	e.Recorded = e.Store == nil
	clientID := s.clientID
	if clientID == "" {
		clientID = c.ClientID
	}
	in := &cognitoidentityprovider.RevokeTokenInput{Token: &refreshToken, ClientId: &clientID}
	if s.clientSecret != "" {
		in.ClientSecret = &s.clientSecret
	}
	cctx, cancel := s.step(ctx)
	_, err = s.api.RevokeToken(cctx, in)
	cancel()
	e.Cognito = MapCognitoError(err)
	return s.finish(ctx, e, c.UserPoolID, at, retry)
}

// Logger returns the logger of h, for the handlers built on it.
func (h *Helper) Logger() *slog.Logger { return h.log }

package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard"
)

// DefaultSignOutTimeout bounds each step of a sign-out (the store write
// and each Cognito call) when [SignOutConfig.Timeout] is zero.
const DefaultSignOutTimeout = 5 * time.Second

// CognitoAPI is the part of the Cognito user pool client the sign-out
// helper calls. *cognitoidentityprovider.Client implements it; tests may
// point that client at a fake pool (package cognitotest) with its
// BaseEndpoint option.
type CognitoAPI interface {
	GlobalSignOut(ctx context.Context, params *cognitoidentityprovider.GlobalSignOutInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.GlobalSignOutOutput, error)
	AdminUserGlobalSignOut(ctx context.Context, params *cognitoidentityprovider.AdminUserGlobalSignOutInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminUserGlobalSignOutOutput, error)
	AdminGetUser(ctx context.Context, params *cognitoidentityprovider.AdminGetUserInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminGetUserOutput, error)
	RevokeToken(ctx context.Context, params *cognitoidentityprovider.RevokeTokenInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.RevokeTokenOutput, error)
}

var _ CognitoAPI = (*cognitoidentityprovider.Client)(nil)

// Recorder is where the sign-out helper records sign-outs: the
// revocation store shared by the services' Verifiers. The stores of this
// package implement it. Implementations MUST be safe for concurrent use
// and MUST keep the latest time of a user's sign-out (a write with an
// earlier time never lowers it).
//
// SignedOutAt reports the user's last recorded sign-out. The helper reads
// it only to tell a retried sign-out (already recorded) from a token
// whose session alone was revoked.
type Recorder interface {
	RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error
	RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error
	SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error)
}

// Authenticator verifies the token presented for a sign-out: signature,
// issuer, client, token use and expiry, but not revocation, so that a
// retried sign-out, or one made while the store is down, still identifies
// its user. *cognitoguard.Verifier implements it with
// [cognitoguard.Verifier.Authenticate]. For [SignOut.GlobalSignOut] it MUST
// accept access tokens (cognitoguard.Config.TokenUse access, the default,
// or any).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*cognitoguard.Claims, error)
}

var _ Authenticator = (*cognitoguard.Verifier)(nil)

// SignOutConfig holds the settings of a [SignOut]. Its zero value suits
// [SignOut.GlobalSignOut] and [SignOut.RevokeSession] with a public app
// client; [SignOut.AdminSignOut] needs UserPoolID.
type SignOutConfig struct {
	// UserPoolID is the pool whose users AdminSignOut signs out, such as
	// "eu-west-1_AbCdEf123". Required for AdminSignOut only.
	UserPoolID string

	// Issuer is the iss recorded by AdminSignOut, which has no token to
	// read it from. Default: https://cognito-idp.{region}.amazonaws.com/
	// {UserPoolID}, as [cognitoguard.NewVerifier] derives it. It MUST be
	// the issuer the Verifiers are configured with (set it for
	// multi-Region issuers, emulators and tests), or their tokens will
	// not match the record. GlobalSignOut and RevokeSession record the
	// verified token's iss.
	Issuer string

	// ClientID and ClientSecret authenticate RevokeToken. ClientID
	// defaults to the client of the verified token (client_id, or aud of
	// an ID token). ClientSecret is required when that app client has a
	// secret. The secret is never logged.
	ClientID, ClientSecret string

	// Timeout bounds each step: the store write and each Cognito call.
	// Default [DefaultSignOutTimeout] (5s).
	Timeout time.Duration

	// Now is the clock of the sign-out times recorded. Default time.Now.
	Now func() time.Time

	// Logger receives one record per sign-out: Info on success, Warn on
	// failure, Debug for rejected tokens. Tokens are never logged. Nil
	// discards.
	Logger *slog.Logger
}

// SignOut signs users out in both places that matter: the revocation
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
// failure keeps the record. Any failure is returned as a [*SignOutError]
// matching [ErrStore] and/or [ErrCognito] and the sentinel of the Cognito
// exception ([ErrNotAuthorized], [ErrTooManyRequests], …). The caller
// should retry a failed sign-out; a retry is safe:
//
//   - [SignOut.GlobalSignOut] with a token whose user sign-out is already
//     recorded keeps the earlier record (the time is not moved, so a
//     sign-in made in between stays valid), and treats Cognito's answer
//     "Access Token has been revoked" as success;
//   - [SignOut.AdminSignOut] records the time of the retry (a later time
//     is a superset of the earlier sign-out);
//   - [SignOut.RevokeSession] records the same session again.
//
// Once the record has been attempted, the remaining step runs even if ctx
// is cancelled (each bounded by [SignOutConfig.Timeout]), so a client that
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
// another user out. The recorded time is the later of now and the token's
// authentication time, so that the presented token is revoked even if
// this host's clock is behind Cognito's.
//
// Neither Cognito call clears the hosted UI (managed login) session
// cookie: a browser must also be sent to [LogoutURL].
//
// A SignOut is safe for concurrent use.
type SignOut struct {
	api          CognitoAPI
	auth         Authenticator
	rec          Recorder
	poolID       string
	issuer       string
	clientID     string
	clientSecret string
	timeout      time.Duration
	now          func() time.Time
	log          *slog.Logger
}

var poolIDRe = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$`)

// NewSignOut returns a sign-out helper calling api and recording in rec.
// api and rec are required. auth verifies the tokens of GlobalSignOut and
// RevokeSession; it may be nil when only AdminSignOut is used (the token
// methods then fail). It fails if UserPoolID is set but no issuer can be
// derived from it, or Issuer is not an absolute http(s) URL without a
// trailing slash.
func NewSignOut(api CognitoAPI, auth Authenticator, rec Recorder, cfg SignOutConfig) (*SignOut, error) {
	if api == nil {
		return nil, errors.New("revocation: NewSignOut: nil CognitoAPI")
	}
	if rec == nil {
		return nil, errors.New("revocation: NewSignOut: nil Recorder")
	}
	s := &SignOut{
		api:          api,
		auth:         auth,
		rec:          rec,
		poolID:       cfg.UserPoolID,
		issuer:       cfg.Issuer,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		timeout:      cfg.Timeout,
		now:          cfg.Now,
		log:          cfg.Logger,
	}
	if s.timeout < 0 {
		return nil, errors.New("revocation: NewSignOut: negative Timeout")
	}
	if s.timeout == 0 {
		s.timeout = DefaultSignOutTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.issuer == "" && s.poolID != "" {
		m := poolIDRe.FindStringSubmatch(s.poolID)
		if m == nil {
			return nil, fmt.Errorf("revocation: NewSignOut: user pool id %q is not of the form region_id (set Issuer)", s.poolID)
		}
		s.issuer = "https://cognito-idp." + m[1] + ".amazonaws.com/" + s.poolID
	}
	if s.issuer != "" {
		u, err := url.Parse(s.issuer)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") ||
			u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s.issuer, "/") {
			return nil, fmt.Errorf("revocation: NewSignOut: issuer %q is not an absolute http(s) URL without a trailing slash", s.issuer)
		}
	}
	return s, nil
}

// Issuer returns the issuer AdminSignOut records, empty when no user pool
// is configured.
func (s *SignOut) Issuer() string { return s.issuer }

// errNoAuthenticator is returned by the token methods of a SignOut built
// without an Authenticator.
var errNoAuthenticator = errors.New("revocation: SignOut has no Authenticator: token sign-outs are disabled")

// verify authenticates token, logging rejections at Debug. Its errors are
// the Authenticator's.
func (s *SignOut) verify(ctx context.Context, op, token string) (*cognitoguard.Claims, error) {
	if s.auth == nil {
		return nil, errNoAuthenticator
	}
	c, err := s.auth.Authenticate(ctx, token)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelDebug, "revocation: sign-out token rejected",
			slog.String("op", op), slog.String("error", err.Error()))
		return nil, err
	}
	if c == nil {
		return nil, &cognitoguard.Error{Kind: cognitoguard.ErrUnavailable, Reason: "authenticator returned no claims"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// step returns a context for one step of a sign-out that is under way:
// detached from ctx's cancellation (the step must run once the other one
// has), keeping its values, bounded by the timeout.
func (s *SignOut) step(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
}

// recordTime is the sign-out time for the user of c: now, or c's
// authentication time if that is later (clock skew with Cognito).
func (s *SignOut) recordTime(c *cognitoguard.Claims) time.Time {
	t := s.now()
	if a := c.AuthenticatedAt(); a.After(t) {
		t = a
	}
	return t
}

// GlobalSignOut signs out the user of accessToken everywhere: it records
// the user's sign-out in the store (every token of the user authenticated
// at or before now is rejected) and calls Cognito's GlobalSignOut with the
// token, which revokes all the user's refresh tokens. The token MUST be
// an access token with scope aws.cognito.signin.user.admin (Cognito
// requires it); an ID token fails with [cognitoguard.ErrTokenUse].
//
// The token is verified first; see [SignOut] for what happens on a bad
// token, on failures and on retries. A token already revoked by a recorded
// sign-out of its user is a retry: the record is kept as is. Once the
// sign-out is recorded, Cognito's answer "Access Token has been revoked"
// counts as success: Cognito already signed the token out, on an earlier
// attempt (whose record may have failed) or through
// [SignOut.RevokeSession]. In the latter case only that session's refresh
// token was revoked in Cognito: sign such a user out with AdminSignOut to
// revoke the others.
func (s *SignOut) GlobalSignOut(ctx context.Context, accessToken string) error {
	const op = "GlobalSignOut"
	c, err := s.verify(ctx, op, accessToken)
	if err != nil {
		return err
	}
	if c.TokenUse != cognitoguard.TokenUseAccess {
		return &cognitoguard.Error{Kind: cognitoguard.ErrTokenUse, Reason: "GlobalSignOut needs an access token, got " + string(c.TokenUse)}
	}
	e := &SignOutError{Op: op, Sub: c.Subject}
	at := s.recordTime(c)
	prev, retry := s.recordedSince(ctx, c)
	if retry {
		at = prev
	}
	if retry {
		e.Recorded = true
	} else {
		e.Store = s.record(ctx, func(ctx context.Context) error {
			return s.rec.RevokeUser(ctx, c.UserPoolID, c.Subject, at)
		})
		e.Recorded = e.Store == nil
	}
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
	return s.finish(ctx, e, c.Issuer, at, retry)
}

// recordedSince returns the user sign-out of c's user recorded in the
// store and whether it is at or after c's authentication, that is whether
// a revoked c is revoked because its user signed out (a retry) rather than
// its session. A store error answers false: the sign-out is then recorded
// again.
func (s *SignOut) recordedSince(ctx context.Context, c *cognitoguard.Claims) (time.Time, bool) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	t, ok, err := s.rec.SignedOutAt(rctx, c.UserPoolID, c.Subject)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "revocation: reading the last sign-out failed",
			slog.String("iss", c.Issuer), slog.String("sub", c.Subject), slog.String("error", err.Error()))
		return time.Time{}, false
	}
	return t, ok && !t.Before(c.AuthenticatedAt())
}

// record runs one store write as a step.
func (s *SignOut) record(ctx context.Context, write func(context.Context) error) error {
	sctx, cancel := s.step(ctx)
	defer cancel()
	return write(sctx)
}

// finish logs the outcome of a sign-out and returns e if a step failed.
func (s *SignOut) finish(ctx context.Context, e *SignOutError, iss string, at time.Time, retry bool) error {
	attrs := []slog.Attr{
		slog.String("op", e.Op), slog.String("iss", iss), slog.String("sub", e.Sub),
		slog.Time("at", at), slog.Bool("retry", retry), slog.Bool("recorded", e.Recorded),
	}
	if e.Store == nil && e.Cognito == nil {
		s.log.LogAttrs(ctx, slog.LevelInfo, "revocation: signed out", attrs...)
		return nil
	}
	if e.Store != nil {
		attrs = append(attrs, slog.String("store_error", e.Store.Error()))
	}
	if e.Cognito != nil {
		attrs = append(attrs, slog.String("cognito_error", e.Cognito.Error()))
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "revocation: sign-out failed", attrs...)
	return e
}

// AdminSignOut signs a user out by username, alias (such as the email) or
// sub, with the IAM permissions cognito-idp:AdminGetUser and
// cognito-idp:AdminUserGlobalSignOut on [SignOutConfig.UserPoolID]. It
// returns the user's sub.
//
// It resolves the sub with AdminGetUser first (Cognito accepts all three
// forms there, so the call is made whatever the input). If that fails —
// unknown user ([ErrUserNotFound]), throttling, … — nothing is recorded
// and AdminUserGlobalSignOut is not called: there is no sub to record,
// and signing out in Cognito alone would report half a sign-out. The
// error is then a [*CognitoError] (not a SignOutError) and the sub is
// empty. Otherwise it records the sign-out of the sub at now under
// [SignOutConfig.Issuer] and calls AdminUserGlobalSignOut with the sub
// (immutable, unlike a username), as described at [SignOut].
func (s *SignOut) AdminSignOut(ctx context.Context, username string) (sub string, err error) {
	const op = "AdminSignOut"
	if s.poolID == "" {
		return "", errors.New("revocation: AdminSignOut: no UserPoolID configured")
	}
	if username == "" {
		return "", errors.New("revocation: AdminSignOut: empty username")
	}
	sub, err = s.resolveSub(ctx, username)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "revocation: sign-out failed: user not resolved",
			slog.String("op", op), slog.String("error", err.Error()))
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	at := s.now()
	e := &SignOutError{Op: op, Sub: sub}
	e.Store = s.record(ctx, func(ctx context.Context) error {
		return s.rec.RevokeUser(ctx, s.poolID, sub, at)
	})
	e.Recorded = e.Store == nil
	cctx, cancel := s.step(ctx)
	_, err = s.api.AdminUserGlobalSignOut(cctx, &cognitoidentityprovider.AdminUserGlobalSignOutInput{
		UserPoolId: &s.poolID,
		Username:   &sub,
	})
	cancel()
	e.Cognito = MapCognitoError(err)
	return sub, s.finish(ctx, e, s.issuer, at, false)
}

// ResolveSub returns the sub of the user whose username, alias or sub is
// username, with AdminGetUser on [SignOutConfig.UserPoolID]. Errors are
// [*CognitoError]s ([ErrUserNotFound], …).
func (s *SignOut) ResolveSub(ctx context.Context, username string) (string, error) {
	if s.poolID == "" {
		return "", errors.New("revocation: ResolveSub: no UserPoolID configured")
	}
	if username == "" {
		return "", errors.New("revocation: ResolveSub: empty username")
	}
	return s.resolveSub(ctx, username)
}

func (s *SignOut) resolveSub(ctx context.Context, username string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.api.AdminGetUser(cctx, &cognitoidentityprovider.AdminGetUserInput{
		UserPoolId: &s.poolID,
		Username:   &username,
	})
	if err != nil {
		return "", MapCognitoError(err)
	}
	for _, a := range out.UserAttributes {
		if a.Name != nil && *a.Name == "sub" && a.Value != nil && *a.Value != "" {
			return *a.Value, nil
		}
	}
	return "", &CognitoError{Err: errors.New("AdminGetUser answered without a sub attribute")}
}

// RevokeSession signs out one session (one sign-in) instead of the user:
// it records the revocation of the token's origin_jti, so that the tokens
// of that session — and only those — are rejected, and calls Cognito's
// RevokeToken with refreshToken, which revokes the refresh token and the
// tokens issued from it. token is an access or ID token of the session;
// it is verified first, as described at [SignOut]. refreshToken MUST be
// the refresh token of the same session: it is opaque and cannot be
// checked here (a mismatch signs out the two sessions halfway each).
//
// A token without origin_jti (issued before the app client enabled token
// revocation) cannot name its session: the user's sign-out is recorded
// instead (every session of the user authenticated until now, unless a
// sign-out already covers the token), as GlobalSignOut would.
//
// RevokeToken is authenticated with [SignOutConfig.ClientID] (default:
// the token's client) and ClientSecret.
func (s *SignOut) RevokeSession(ctx context.Context, token, refreshToken string) error {
	const op = "RevokeSession"
	if refreshToken == "" {
		return errors.New("revocation: RevokeSession: empty refresh token")
	}
	c, err := s.verify(ctx, op, token)
	if err != nil {
		return err
	}
	e := &SignOutError{Op: op, Sub: c.Subject}
	at := s.recordTime(c)
	var retry bool
	if c.OriginJTI != "" {
		e.Store = s.record(ctx, func(ctx context.Context) error {
			return s.rec.RevokeSession(ctx, c.UserPoolID, c.Subject, c.OriginJTI, at)
		})
	} else {
		var prev time.Time
		if prev, retry = s.recordedSince(ctx, c); retry {
			at = prev
		}
		if !retry {
			e.Store = s.record(ctx, func(ctx context.Context) error {
				return s.rec.RevokeUser(ctx, c.UserPoolID, c.Subject, at)
			})
		}
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
	return s.finish(ctx, e, c.Issuer, at, retry)
}

var _ Recorder = Store(nil)

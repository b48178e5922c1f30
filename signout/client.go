package signout

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cognitoguard/cognitoguard"
)

// AdminScope is the scope Cognito requires of the access token of
// GlobalSignOut, and that [Helper.GlobalSignOut] requires before
// recording anything.
const AdminScope = "aws.cognito.signin.user.admin"

// ErrNotUserToken: the token of a token sign-out is not a user's to sign
// out with — a client-credentials (M2M) access token (sub = client_id, no
// username), or, for [Helper.GlobalSignOut], an access token without
// [AdminScope], which Cognito's GlobalSignOut refuses. Nothing was
// recorded and Cognito was not called: the holder of one M2M token must
// not be able to revoke every token of its client (use
// [Helper.RevokeClient]). It comes wrapped in a [cognitoguard.Error] of
// kind [cognitoguard.ErrInsufficientScope], so the logout handler answers
// 403 insufficient_scope.
var ErrNotUserToken = errors.New("signout: not a user's sign-out token")

// ErrNoClientRecorder is returned by [Helper.RevokeClient] when the
// Recorder does not implement [ClientRecorder]. Nothing was recorded.
var ErrNoClientRecorder = errors.New("signout: the Recorder cannot record app-client revocations")

// ClientRecorder is a [Recorder] that records app-client revocations
// (see revocation.Store.RevokeClient): every token issued to the client
// at or before at is rejected. The stores of package revocation
// implement it.
type ClientRecorder interface {
	RevokeClient(ctx context.Context, poolID, clientID string, at time.Time) error
}

// notUserToken is the refusal of a token sign-out with c.
func notUserToken(op string, c *cognitoguard.Claims, why string) error {
	return &cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope, Reason: op + ": " + why,
		Err: ErrNotUserToken, Subject: c.Subject}
}

// machineToken reports whether c is a client-credentials access token:
// Cognito gives those no username, and every user's access token one.
func machineToken(c *cognitoguard.Claims) bool {
	return c.TokenUse == cognitoguard.TokenUseAccess && c.Username == ""
}

// RevokeClient revokes the app client clientID of [Config.UserPoolID]
// (after a leaked or rotated client secret): it records, at now, that every
// token issued to that client at or before now is rejected by every
// Verifier sharing the store — its client-credentials (M2M) tokens and
// the tokens of users signed in through it (client_id, or aud of an ID
// token), whatever their auth_time; tokens issued later pass. Cognito has
// no call that revokes a client's tokens, so none is made: rotate the
// secret (or delete the client) in Cognito too, or the old secret mints
// new tokens. The record exists only in the store (no CloudTrail event
// logs it). It is idempotent; a retry records the later time.
//
// Errors: no UserPoolID configured or an empty clientID (plain errors),
// [ErrNoClientRecorder], or an [*Error] (Op "RevokeClient", Sub the
// client ID) matching [ErrStore] when the write failed.
func (s *Helper) RevokeClient(ctx context.Context, clientID string) error {
	const op = "RevokeClient"
	switch {
	case s.poolID == "":
		return errors.New("signout: " + op + ": no UserPoolID configured")
	case clientID == "":
		return errors.New("signout: " + op + ": empty client ID")
	}
	cr, ok := s.rec.(ClientRecorder)
	if !ok {
		return ErrNoClientRecorder
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	at := s.now()
	e := &Error{Op: op, Sub: clientID}
	e.Store = s.record(ctx, func(ctx context.Context) error {
		return cr.RevokeClient(ctx, s.poolID, clientID, at)
	})
	e.Recorded = e.Store == nil
	attrs := []slog.Attr{slog.String("op", op), slog.String("pool", s.poolID), slog.String("client_id", clientID), slog.Time("at", at)}
	if e.Store != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "signout: app-client revocation not recorded",
			append(attrs, slog.String("store_error", e.Store.Error()))...)
		return e
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "signout: app client revoked", attrs...)
	return nil
}

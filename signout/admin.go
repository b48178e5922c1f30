package signout

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// User is a user of the pool as Cognito names it: Username, the name its
// Admin* operations accept for every user (for a federated user, such as
// "Google_104752981234567890123", the only one), and Sub, the immutable
// ID that sign-outs are recorded under.
type User struct {
	Username string
	Sub      string
}

// AdminSignOut signs a user out by username, alias (such as the email) or,
// for a local user, sub, with the IAM permissions cognito-idp:AdminGetUser
// and cognito-idp:AdminUserGlobalSignOut on [Config.UserPoolID]. It
// returns the user's sub.
//
// It resolves the user with AdminGetUser first. If that fails — unknown
// user ([ErrUserNotFound], which is also Cognito's answer to a federated
// user's sub), throttling, … — nothing is recorded and Cognito is not
// called: there is no sub to record, and signing out in Cognito alone
// would report half a sign-out. The error is then a [*CognitoError] (not
// an [Error]) and the sub is empty. Otherwise it records the sign-out of
// the sub at now and calls AdminUserGlobalSignOut with the Username
// AdminGetUser returned, as described at [Helper].
func (s *Helper) AdminSignOut(ctx context.Context, username string) (sub string, err error) {
	return s.admin(ctx, "AdminSignOut", username, false, func(ctx context.Context, in adminInput) error {
		_, err := s.api.AdminUserGlobalSignOut(ctx, &cognitoidentityprovider.AdminUserGlobalSignOutInput{
			UserPoolId: in.pool, Username: in.username,
		})
		return err
	})
}

// AdminDisableUser disables a user (Cognito: "deactivates a user and
// revokes all access tokens"; the user can no longer sign in) and records
// the user's sign-out first, so that every service rejects the user's
// unexpired tokens too. It needs cognito-idp:AdminGetUser and
// cognito-idp:AdminDisableUser; the user is resolved, recorded and
// retried as by [Helper.AdminSignOut]. Re-enabling the user
// (AdminEnableUser) does not revive the tokens issued before.
func (s *Helper) AdminDisableUser(ctx context.Context, username string) (sub string, err error) {
	return s.admin(ctx, "AdminDisableUser", username, false, func(ctx context.Context, in adminInput) error {
		_, err := s.api.AdminDisableUser(ctx, &cognitoidentityprovider.AdminDisableUserInput{
			UserPoolId: in.pool, Username: in.username,
		})
		return err
	})
}

// AdminDeleteUser deletes a user from the pool and records the user's
// sign-out first, so that every service rejects the user's unexpired
// tokens (Cognito itself only refuses them on its own API). It needs
// cognito-idp:AdminGetUser and cognito-idp:AdminDeleteUser; the user is
// resolved as by [Helper.AdminSignOut].
//
// Unlike the other methods, it does not call Cognito when the record
// failed or was not confirmed ([ErrStore]): a deleted user can no longer
// be resolved, so such a delete could never be recorded by a retry. The
// user is then kept; retry.
func (s *Helper) AdminDeleteUser(ctx context.Context, username string) (sub string, err error) {
	return s.admin(ctx, "AdminDeleteUser", username, true, func(ctx context.Context, in adminInput) error {
		_, err := s.api.AdminDeleteUser(ctx, &cognitoidentityprovider.AdminDeleteUserInput{
			UserPoolId: in.pool, Username: in.username,
		})
		return err
	})
}

// adminInput names the user of an admin call as Cognito requires.
type adminInput struct {
	pool, username *string
}

// admin resolves username, records the user's sign-out, then makes the
// Cognito call; onlyIfRecorded skips the call when the record failed.
func (s *Helper) admin(ctx context.Context, op, username string, onlyIfRecorded bool, call func(context.Context, adminInput) error) (string, error) {
	if s.poolID == "" {
		return "", errors.New("signout: " + op + ": no UserPoolID configured")
	}
	if username == "" {
		return "", errors.New("signout: " + op + ": empty username")
	}
	u, err := s.resolve(ctx, username)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "signout: sign-out failed: user not resolved",
			slog.String("op", op), slog.String("error", err.Error()))
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	at := s.now()
	e := &Error{Op: op, Sub: u.Sub}
	e.Store = s.record(ctx, func(ctx context.Context) error {
		return s.rec.RevokeUser(ctx, s.poolID, u.Sub, at)
	})
	e.Recorded = e.Store == nil
	if e.Store == nil || !onlyIfRecorded {
		cctx, cancel := s.step(ctx)
		e.Cognito = MapCognitoError(call(cctx, adminInput{pool: &s.poolID, username: &u.Username}))
		cancel()
	}
	return u.Sub, s.finish(ctx, e, s.poolID, at, false)
}

// Resolve returns the user whose username, alias or (local users only)
// sub is username, with AdminGetUser on [Config.UserPoolID]. Errors are
// [*CognitoError]s ([ErrUserNotFound], …).
func (s *Helper) Resolve(ctx context.Context, username string) (User, error) {
	if s.poolID == "" {
		return User{}, errors.New("signout: Resolve: no UserPoolID configured")
	}
	if username == "" {
		return User{}, errors.New("signout: Resolve: empty username")
	}
	return s.resolve(ctx, username)
}

func (s *Helper) resolve(ctx context.Context, username string) (User, error) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.api.AdminGetUser(cctx, &cognitoidentityprovider.AdminGetUserInput{
		UserPoolId: &s.poolID,
		Username:   &username,
	})
	if err != nil {
		return User{}, MapCognitoError(err)
	}
	u := User{}
	if out.Username != nil {
		u.Username = *out.Username
	}
	for _, a := range out.UserAttributes {
		if a.Name != nil && *a.Name == "sub" && a.Value != nil {
			u.Sub = *a.Value
		}
	}
	if u.Username == "" || u.Sub == "" {
		return User{}, &CognitoError{Err: errors.New("AdminGetUser answered without a username or a sub attribute")}
	}
	return u, nil
}

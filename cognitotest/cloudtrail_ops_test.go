package cognitotest_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

func signInErr(t *testing.T, pool *cognitotest.Pool, user, pw string) (*types.AuthenticationResultType, error) {
	t.Helper()
	out, err := pool.Client().InitiateAuth(t.Context(), &cip.InitiateAuthInput{ClientId: aws.String(pool.ClientID()),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw}})
	if err != nil {
		return nil, err
	}
	return out.AuthenticationResult, nil
}

func TestPasswordOperations(t *testing.T) {
	pool, _ := newPool(t, cognitotest.Config{})
	api, ctx := pool.Client(), t.Context()
	pool.AddUser(cognitotest.User{Username: "alice", Password: "Passw0rd!", Email: "alice@example.com", Attributes: map[string]string{"email_verified": "true"}})
	pool.AddUser(cognitotest.User{Username: "nomail", Password: "Passw0rd!"})
	a, err := signInErr(t, pool, "alice", "Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	change := func(prev, next string) error {
		_, err := api.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: a.AccessToken, PreviousPassword: aws.String(prev), ProposedPassword: aws.String(next)})
		return err
	}
	var notAuth *types.NotAuthorizedException
	var invalidPw *types.InvalidPasswordException
	var mismatch *types.CodeMismatchException
	var invalidParam *types.InvalidParameterException
	var exists *types.UsernameExistsException
	var notFound *types.UserNotFoundException
	var resetRequired *types.PasswordResetRequiredException
	check := func(what string, err error, target any) {
		t.Helper()
		if target == nil {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return
		}
		if !errors.As(err, target) {
			t.Fatalf("%s: %v, want %T", what, err, target)
		}
	}
	check("wrong previous password", change("nope", "N3w-Passw0rd"), &notAuth)
	check("weak password", change("Passw0rd!", "short"), &invalidPw)
	check("no symbol", change("Passw0rd!", "Passw0rd1"), &invalidPw)
	check("change", change("Passw0rd!", "N3w-Passw0rd"), nil)
	_, err = signInErr(t, pool, "alice", "Passw0rd!")
	check("old password", err, &notAuth)
	_, err = signInErr(t, pool, "alice", "N3w-Passw0rd")
	check("new password", err, nil)

	_, err = api.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(pool.ClientID()), Username: aws.String("nomail")})
	check("no verified email", err, &invalidParam)
	out, err := api.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(pool.ClientID()), Username: aws.String("alice")})
	check("forgot", err, nil)
	if d := out.CodeDeliveryDetails; d == nil || aws.ToString(d.Destination) != "a***@e***" || d.DeliveryMedium != types.DeliveryMediumTypeEmail {
		t.Errorf("CodeDeliveryDetails %+v", out.CodeDeliveryDetails)
	}
	confirm := func(user, code, pw string) error {
		_, err := api.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(pool.ClientID()), Username: aws.String(user), ConfirmationCode: aws.String(code), Password: aws.String(pw)})
		return err
	}
	code, ok := pool.ConfirmationCode("alice")
	if !ok {
		t.Fatal("no code")
	}
	check("wrong code", confirm("alice", "x"+code, "F1fth-Passw0rd"), &mismatch)
	check("unknown user", confirm("nobody", code, "F1fth-Passw0rd"), &mismatch)
	check("confirm", confirm("alice", code, "F1fth-Passw0rd"), nil)
	check("code used twice", confirm("alice", code, "S1xth-Passw0rd"), &mismatch)

	pid, alice := aws.String(pool.PoolID()), aws.String("alice")
	_, err = api.AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: pid, Username: alice})
	check("admin reset", err, nil)
	_, err = signInErr(t, pool, "alice", "F1fth-Passw0rd")
	check("sign-in after reset", err, &resetRequired)
	_, err = api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pid, Username: alice, Password: aws.String("Sev3n-Passw0rd"), Permanent: true})
	check("admin set", err, nil)
	_, err = signInErr(t, pool, "alice", "Sev3n-Passw0rd")
	check("sign-in after set", err, nil)

	created, err := api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pid, Username: aws.String("carol"),
		TemporaryPassword: aws.String("T3mp-Passw0rd"), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("carol@example.com")}}})
	check("create", err, nil)
	if created.User.UserStatus != types.UserStatusTypeForceChangePassword || !created.User.Enabled {
		t.Errorf("created %+v", created.User)
	}
	_, err = api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pid, Username: aws.String("carol")})
	check("create twice", err, &exists)
	_, err = signInErr(t, pool, "carol", "T3mp-Passw0rd")
	check("temporary password", err, &invalidParam)
	_, err = api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pid, Username: aws.String("carol"), Password: aws.String("C4rol-Passw0rd"), Permanent: true})
	check("carol's password", err, nil)
	c, err := signInErr(t, pool, "carol", "C4rol-Passw0rd")
	check("carol signs in", err, nil)

	_, err = api.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: c.AccessToken})
	check("delete", err, nil)
	if _, ok := pool.User("carol"); ok {
		t.Error("carol still exists")
	}
	_, err = api.GetUser(ctx, &cip.GetUserInput{AccessToken: c.AccessToken})
	check("token of a deleted user", err, &notFound)
}

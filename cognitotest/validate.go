package cognitotest

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// publicOps are the operations of the user pool API that a client calls
// without AWS credentials: authorized by a user's token, a client ID or a
// confirmation code. Every other operation is authorized by IAM and needs
// a SigV4 signature.
var publicOps = map[string]bool{
	"InitiateAuth": true, "RespondToAuthChallenge": true, "SignUp": true,
	"ConfirmSignUp": true, "ResendConfirmationCode": true, "ForgotPassword": true,
	"ConfirmForgotPassword": true, "GlobalSignOut": true, "GetUser": true,
	"ChangePassword": true, "DeleteUser": true, "RevokeToken": true,
	"GetTokensFromRefreshToken": true, "UpdateUserAttributes": true,
	"DeleteUserAttributes": true, "VerifyUserAttribute": true,
	"GetUserAttributeVerificationCode": true, "AssociateSoftwareToken": true,
	"VerifySoftwareToken": true, "SetUserMFAPreference": true,
	"ConfirmDevice": true, "ForgetDevice": true, "GetDevice": true,
	"ListDevices": true, "UpdateDeviceStatus": true, "GetUserAuthFactors": true,
}

// Constraints of the API's input fields, from the API reference.
var (
	userPoolIDPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`) })
	usernamePattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`) })
)

const (
	maxUserPoolIDLen = 55
	maxUsernameLen   = 128
)

// commonInput are the fields that many operations share, checked before
// any operation runs.
type commonInput struct {
	UserPoolId *string
	Username   *string
}

// checkRequest refuses, as Cognito does, an unsigned call of an
// IAM-authorized operation (the signature itself is not checked) and a
// malformed UserPoolId or Username, whatever the operation.
func checkRequest(op string, r *http.Request, body []byte) *apiError {
	if !publicOps[op] && !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		return &apiError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	var in commonInput
	if e := decode(body, &in); e != nil {
		return e
	}
	if id := in.UserPoolId; id != nil && (len(*id) > maxUserPoolIDLen || !userPoolIDPattern().MatchString(*id)) {
		return errInvalidParameter("1 validation error detected: Value '" + *id +
			"' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+ and have length less than or equal to 55")
	}
	if u := in.Username; u != nil && *u != "" {
		switch {
		case utf8.RuneCountInString(*u) > maxUsernameLen:
			return errInvalidParameter("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128")
		case !usernamePattern().MatchString(*u):
			return errInvalidParameter("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+")
		}
	}
	return nil
}

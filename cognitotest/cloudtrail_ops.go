package cognitotest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// The user-pool operations whose CloudTrail records sign users out or
// change passwords (and AdminCreateUser, to make users through the API),
// registered here so that the dispatcher's table stays as it was.
func init() {
	apiHandlers["DeleteUser"] = (*Pool).deleteUser
	apiHandlers["ChangePassword"] = (*Pool).changePassword
	apiHandlers["ForgotPassword"] = (*Pool).forgotPassword
	apiHandlers["ConfirmForgotPassword"] = (*Pool).confirmForgotPassword
	apiHandlers["AdminSetUserPassword"] = (*Pool).adminSetUserPassword
	apiHandlers["AdminResetUserPassword"] = (*Pool).adminResetUserPassword
	apiHandlers["AdminCreateUser"] = (*Pool).adminCreateUser
}

// StatusForceChangePassword is the UserStatus of a user made by
// AdminCreateUser, or given a temporary password by AdminSetUserPassword,
// until it sets a password of its own.
const StatusForceChangePassword = "FORCE_CHANGE_PASSWORD"

// resetCodeTTL is how long a password-reset code is valid, as Cognito's.
const resetCodeTTL = time.Hour

type resetCode struct {
	code    string
	expires time.Time
}

var (
	errCodeMismatch  = &apiError{http.StatusBadRequest, "CodeMismatchException", "Invalid verification code provided, please try again."}
	errWrongPassword = errNotAuthorized("Incorrect username or password.")
)

// checkPassword applies Cognito's default password policy: at least 8
// characters with a lowercase and an uppercase letter, a number and a
// symbol.
func checkPassword(pw string) *apiError {
	var lower, upper, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case r != ' ':
			symbol = true
		}
	}
	why := ""
	switch {
	case len(pw) < 8:
		why = "Password not long enough"
	case !lower:
		why = "Password must have lowercase characters"
	case !upper:
		why = "Password must have uppercase characters"
	case !digit:
		why = "Password must have numeric characters"
	case !symbol:
		why = "Password must have symbol characters"
	default:
		return nil
	}
	return &apiError{http.StatusBadRequest, "InvalidPasswordException", "Password does not conform to policy: " + why}
}

// deleteUser is the user's own DeleteUser: its access token names it.
func (p *Pool) deleteUser(body []byte) (any, *apiError) {
	return p.accessTokenOp(body, func(u *userRecord, _ time.Time) (any, *apiError) {
		p.deleteUserLocked(u)
		return struct{}{}, nil
	})
}

type changePasswordInput struct {
	AccessToken, PreviousPassword, ProposedPassword string
}

// changePassword sets a new password; as in Cognito it revokes no token.
func (p *Pool) changePassword(body []byte) (any, *apiError) {
	var in changePasswordInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.ProposedPassword == "" {
		return nil, errInvalidParameter("ProposedPassword is required.")
	}
	return p.withTokenUser(in.AccessToken, func(u *userRecord, now time.Time) (any, *apiError) {
		if u.Password == "" || u.Password != in.PreviousPassword {
			return nil, errWrongPassword
		}
		if e := checkPassword(in.ProposedPassword); e != nil {
			return nil, e
		}
		u.Password, u.modified = in.ProposedPassword, now
		return struct{}{}, nil
	})
}

type forgotPasswordInput struct {
	ClientId, Username, SecretHash, ConfirmationCode, Password string
}

type codeDelivery struct {
	Destination, DeliveryMedium, AttributeName string
}

// forgotPassword starts a password reset: a code goes to the user's
// verified email or phone number ([Pool.ConfirmationCode] reads it).
func (p *Pool) forgotPassword(body []byte) (any, *apiError) {
	in, e := p.decodeForgotPassword(body)
	if e != nil {
		return nil, e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.lookupLocked(in.Username)
	if u == nil || u.federated() {
		// As with PreventUserExistenceErrors: a simulated delivery.
		return map[string]codeDelivery{"CodeDeliveryDetails": {"***@***", "EMAIL", "email"}}, nil
	}
	d, e := p.sendResetCodeLocked(u)
	if e != nil {
		return nil, e
	}
	return map[string]codeDelivery{"CodeDeliveryDetails": d}, nil
}

// decodeForgotPassword decodes a ForgotPassword or ConfirmForgotPassword
// request and checks its client and SecretHash.
func (p *Pool) decodeForgotPassword(body []byte) (forgotPasswordInput, *apiError) {
	var in forgotPasswordInput
	if e := decode(body, &in); e != nil {
		return in, e
	}
	c, ok := p.client(in.ClientId)
	if !ok {
		return in, errNoClient(in.ClientId)
	}
	if in.Username == "" {
		return in, errInvalidParameter("Username is required.")
	}
	return in, checkSecretHash(c, initiateAuthInput{ClientId: in.ClientId, AuthParameters: map[string]string{"SECRET_HASH": in.SecretHash}}, in.Username)
}

// sendResetCodeLocked makes a reset code for u and says where it went.
func (p *Pool) sendResetCodeLocked(u *userRecord) (codeDelivery, *apiError) {
	var d codeDelivery
	switch {
	case u.Email != "" && u.Attributes["email_verified"] == "true":
		d = codeDelivery{maskEmail(u.Email), "EMAIL", "email"}
	case u.Attributes["phone_number"] != "" && u.Attributes["phone_number_verified"] == "true":
		ph := u.Attributes["phone_number"]
		d = codeDelivery{"+*******" + ph[max(len(ph)-4, 0):], "SMS", "phone_number"}
	default:
		return d, errInvalidParameter("Cannot reset password for the user as there is no registered/verified email or phone_number")
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000)) // never fails (crypto/rand)
	if p.trail.codes == nil {
		p.trail.codes = make(map[string]resetCode)
	}
	p.trail.codes[u.Sub] = resetCode{fmt.Sprintf("%06d", n.Int64()), p.now().Add(resetCodeTTL)}
	return d, nil
}

func maskEmail(e string) string {
	local, domain, _ := strings.Cut(e, "@")
	if local == "" || domain == "" {
		return "***@***"
	}
	return local[:1] + "***@" + domain[:1] + "***"
}

// ConfirmationCode returns the password-reset code that ForgotPassword or
// AdminResetUserPassword last sent to the user named (as [Pool.User]
// resolves it), while it is valid (one hour). It is an oracle for tests:
// real Cognito delivers the code by email or SMS.
func (p *Pool) ConfirmationCode(username string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.lookupLocked(username)
	if u == nil {
		return "", false
	}
	c, ok := p.trail.codes[u.Sub]
	if !ok || !p.now().Before(c.expires) {
		return "", false
	}
	return c.code, true
}

// confirmForgotPassword sets the password with a reset code; the user is
// then CONFIRMED. As in Cognito it revokes no token.
func (p *Pool) confirmForgotPassword(body []byte) (any, *apiError) {
	in, e := p.decodeForgotPassword(body)
	if e != nil {
		return nil, e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	u := p.lookupLocked(in.Username)
	if u == nil {
		return nil, errCodeMismatch // PreventUserExistenceErrors
	}
	c, ok := p.trail.codes[u.Sub]
	switch {
	case !ok || c.code != in.ConfirmationCode:
		return nil, errCodeMismatch
	case !now.Before(c.expires):
		return nil, &apiError{http.StatusBadRequest, "ExpiredCodeException", "Invalid code provided, please request a code again."}
	}
	if e := checkPassword(in.Password); e != nil {
		return nil, e
	}
	delete(p.trail.codes, u.Sub)
	u.Password, u.Status, u.modified = in.Password, StatusConfirmed, now
	return struct{}{}, nil
}

type adminSetUserPasswordInput struct {
	UserPoolId, Username, Password string
	Permanent                      bool
}

// adminSetUserPassword sets a permanent password (CONFIRMED) or a
// temporary one (FORCE_CHANGE_PASSWORD). It revokes no token.
func (p *Pool) adminSetUserPassword(body []byte) (any, *apiError) {
	var in adminSetUserPasswordInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	return p.withAdminUser(adminUserInput{in.UserPoolId, in.Username}, func(u *userRecord, now time.Time) (any, *apiError) {
		if u.federated() {
			return nil, errInvalidParameter("cognitotest: a federated user has no password")
		}
		if e := checkPassword(in.Password); e != nil {
			return nil, e
		}
		u.Password, u.Status, u.modified = in.Password, StatusConfirmed, now
		if !in.Permanent {
			u.Status = StatusForceChangePassword
		}
		delete(p.trail.codes, u.Sub)
		return struct{}{}, nil
	})
}

// adminResetUserPassword invalidates the password: the user is
// RESET_REQUIRED (sign-ins get PasswordResetRequiredException) until
// ConfirmForgotPassword with the code sent. It revokes no token.
func (p *Pool) adminResetUserPassword(body []byte) (any, *apiError) {
	return p.adminUserCall(body, func(u *userRecord, now time.Time) (any, *apiError) {
		if u.federated() {
			return nil, errNotAuthorized("cognitotest: a federated user has no password")
		}
		if _, e := p.sendResetCodeLocked(u); e != nil {
			return nil, e
		}
		u.Status, u.modified = StatusResetRequired, now
		return struct{}{}, nil
	})
}

type adminCreateUserInput struct {
	UserPoolId, Username, TemporaryPassword, MessageAction string
	UserAttributes                                         []attribute
}

// adminCreateUser adds a local user in FORCE_CHANGE_PASSWORD with its
// temporary password (generated when absent). With UsernameAttributes,
// Username is the email or phone number and the username is a new sub.
func (p *Pool) adminCreateUser(body []byte) (any, *apiError) {
	var in adminCreateUserInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	switch {
	case in.UserPoolId != p.poolID:
		return nil, errNoPool(in.UserPoolId)
	case in.Username == "":
		return nil, errInvalidParameter("Username is required.")
	case in.MessageAction != "" && in.MessageAction != "SUPPRESS" && in.MessageAction != "RESEND":
		return nil, errInvalidParameter("cognitotest: invalid MessageAction " + in.MessageAction)
	}
	u := User{Username: in.Username, Status: StatusForceChangePassword, Attributes: map[string]string{}}
	for _, a := range in.UserAttributes {
		switch a.Name {
		case "sub":
			return nil, errInvalidParameter("Cannot modify the non-mutable attribute sub")
		case "email":
			u.Email = a.Value
		default:
			u.Attributes[a.Name] = a.Value
		}
	}
	u.Password = in.TemporaryPassword
	if u.Password == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		u.Password = "Tmp-" + hex.EncodeToString(b) + "A1!"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lookupLocked(in.Username) != nil || p.userByUsernameLocked(in.Username) != nil {
		return nil, &apiError{http.StatusBadRequest, "UsernameExistsException", "User account already exists"}
	}
	u.Sub = newUUID()
	if p.usernameAttrs {
		if strings.Contains(in.Username, "@") {
			u.Email = in.Username
		} else {
			u.Attributes["phone_number"] = in.Username
		}
		u.Username = u.Sub
	}
	now := p.now()
	r := &userRecord{User: u, created: now, modified: now}
	p.users = append(p.users, r)
	return map[string]userType{"User": userTypeOf(r)}, nil
}

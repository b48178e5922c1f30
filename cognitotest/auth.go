package cognitotest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

type authResult struct {
	AccessToken  string
	ExpiresIn    int64
	IdToken      string
	RefreshToken string `json:",omitempty"`
	TokenType    string
}

type initiateAuthOutput struct {
	AuthenticationResult authResult
	ChallengeParameters  map[string]string
}

type initiateAuthInput struct {
	UserPoolId     string
	ClientId       string
	AuthFlow       string
	AuthParameters map[string]string
}

func (p *Pool) initiateAuth(body []byte) (any, *apiError) {
	var in initiateAuthInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	switch in.AuthFlow {
	case "USER_PASSWORD_AUTH":
		return p.passwordAuth(in, AllowUserPasswordAuth)
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		return p.refreshAuth(in)
	case "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH", "ADMIN_USER_SRP_AUTH":
		return nil, errInvalidParameter("Initiate Auth method not supported.")
	}
	return nil, errInvalidParameter("cognitotest: unsupported AuthFlow " + in.AuthFlow)
}

func (p *Pool) adminInitiateAuth(body []byte) (any, *apiError) {
	var in initiateAuthInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.UserPoolId != p.poolID {
		return nil, errNoPool(in.UserPoolId)
	}
	switch in.AuthFlow {
	case "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH":
		return p.passwordAuth(in, AllowAdminUserPasswordAuth)
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		return p.refreshAuth(in)
	case "USER_PASSWORD_AUTH", "USER_SRP_AUTH":
		return nil, errInvalidParameter("Initiate Auth method not supported.")
	}
	return nil, errInvalidParameter("cognitotest: unsupported AuthFlow " + in.AuthFlow)
}

// authClient returns the client of an InitiateAuth request if it allows
// flow.
func (p *Pool) authClient(in initiateAuthInput, flow string) (*AppClient, *apiError) {
	c, ok := p.client(in.ClientId)
	switch {
	case !ok:
		return nil, errNoClient(in.ClientId)
	case c.allows(flow):
		return c, nil
	case flow == AllowUserPasswordAuth:
		return nil, errInvalidParameter("USER_PASSWORD_AUTH flow not enabled for this client")
	case flow == AllowAdminUserPasswordAuth:
		return nil, errInvalidParameter("Auth flow not enabled for this client")
	}
	return nil, errInvalidParameter("cognitotest: " + in.AuthFlow + " flow not enabled for this client")
}

func (p *Pool) passwordAuth(in initiateAuthInput, flow string) (any, *apiError) {
	c, e := p.authClient(in, flow)
	if e != nil {
		return nil, e
	}
	name, password := in.AuthParameters["USERNAME"], in.AuthParameters["PASSWORD"]
	if name == "" {
		return nil, errInvalidParameter("Missing required parameter USERNAME")
	}
	if password == "" {
		return nil, errInvalidParameter("Missing required parameter PASSWORD")
	}
	if e := checkSecretHash(c, in, name); e != nil {
		return nil, e
	}
	p.mu.Lock()
	u := p.lookupLocked(name)
	if u == nil && c.PreventUserExistenceErrors == PreventUserExistenceLegacy {
		p.mu.Unlock()
		return nil, errNoUser
	}
	if u == nil || u.Password == "" || u.Password != password {
		p.mu.Unlock()
		// With PreventUserExistenceErrors ENABLED, an unknown user
		// looks like a wrong password.
		return nil, errNotAuthorized("Incorrect username or password.")
	}
	if e := signInStatus(u); e != nil {
		p.mu.Unlock()
		return nil, e
	}
	now := p.now()
	s := p.newSessionLocked(u, in.ClientId, now)
	mi := p.mintInputLocked(u, s, now)
	p.mu.Unlock()
	return mi.authOutput(s.refreshToken), nil
}

// signInStatus refuses the sign-in of a user whose password matched but
// whose state forbids it, with Cognito's errors.
func signInStatus(u *userRecord) *apiError {
	switch {
	case u.Disabled:
		return errDisabled
	case u.Status == StatusUnconfirmed:
		return &apiError{http.StatusBadRequest, "UserNotConfirmedException", "User is not confirmed."}
	case u.Status == StatusResetRequired:
		return &apiError{http.StatusBadRequest, "PasswordResetRequiredException", "Password reset required for the user"}
	case u.Status == StatusForceChangePassword:
		return errInvalidParameter("cognitotest: the NEW_PASSWORD_REQUIRED challenge is not supported")
	}
	return nil
}

// checkSecretHash checks InitiateAuth's SECRET_HASH for username when
// the client has a secret, with Cognito's messages.
func checkSecretHash(c *AppClient, in initiateAuthInput, username string) *apiError {
	if c.Secret == "" {
		return nil
	}
	got := in.AuthParameters["SECRET_HASH"]
	if got == "" {
		return errNotAuthorized("Client " + in.ClientId + " is configured for secret but secret was not received")
	}
	if !hmac.Equal([]byte(got), []byte(SecretHash(c.Secret, username, in.ClientId))) {
		return errNotAuthorized("Unable to verify secret hash for client " + in.ClientId)
	}
	return nil
}

// SecretHash is the SECRET_HASH that Cognito expects from a client with a
// secret: Base64(HMAC-SHA256(secret, username + clientID)).
func SecretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

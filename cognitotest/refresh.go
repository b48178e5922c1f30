package cognitotest

import (
	"crypto/hmac"
	"time"
)

func (p *Pool) refreshAuth(in initiateAuthInput) (any, *apiError) {
	c, e := p.authClient(in, AllowRefreshTokenAuth)
	if e != nil {
		return nil, e
	}
	if c.RefreshTokenRotation {
		return nil, errInvalidParameter("cognitotest: REFRESH_TOKEN_AUTH is not available with refresh token rotation; use GetTokensFromRefreshToken")
	}
	rt := in.AuthParameters["REFRESH_TOKEN"]
	if rt == "" {
		return nil, errInvalidParameter("Missing required parameter REFRESH_TOKEN")
	}
	// The SECRET_HASH of a refresh is over the user's internal username,
	// whatever the user signed in with.
	secretOK := func(u *userRecord) *apiError { return checkSecretHash(c, in, u.Username) }
	p.mu.Lock()
	now := p.now()
	s, u, e := p.refreshSessionLocked(in.ClientId, rt, now, secretOK)
	if e != nil {
		p.mu.Unlock()
		return nil, e
	}
	mi := p.mintInputLocked(u, s, now)
	p.mu.Unlock()
	return mi.authOutput(""), nil
}

type getTokensInput struct {
	RefreshToken string
	ClientId     string
	ClientSecret string
}

// getTokensFromRefreshToken refreshes as REFRESH_TOKEN_AUTH does and,
// for a client with rotation, rotates the refresh token.
func (p *Pool) getTokensFromRefreshToken(body []byte) (any, *apiError) {
	var in getTokensInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.RefreshToken == "" || in.ClientId == "" {
		return nil, errInvalidParameter("cognitotest: RefreshToken and ClientId are required")
	}
	p.mu.Lock()
	c := p.clientLocked(in.ClientId)
	if c == nil {
		p.mu.Unlock()
		return nil, errNoClient(in.ClientId)
	}
	secretOK := func(*userRecord) *apiError {
		if c.Secret != "" && !hmac.Equal([]byte(in.ClientSecret), []byte(c.Secret)) {
			return errNotAuthorized("cognitotest: invalid client secret")
		}
		return nil
	}
	now := p.now()
	s, u, e := p.refreshSessionLocked(in.ClientId, in.RefreshToken, now, secretOK)
	if e != nil {
		p.mu.Unlock()
		return nil, e
	}
	s, rotated := p.rotateForLocked(c, s, now)
	mi := p.mintInputLocked(u, s, now)
	p.mu.Unlock()
	out := mi.authOutput(rotated)
	return struct{ AuthenticationResult authResult }{out.AuthenticationResult}, nil
}

// rotateForLocked rotates s, refreshed at now, when client c has refresh
// token rotation: s retires after c's grace period (unless already
// retiring) and its successor, a new refresh token of the same session
// that expires when s would have, is returned with that token. Without
// rotation it returns s and "".
func (p *Pool) rotateForLocked(c *AppClient, s *session, now time.Time) (*session, string) {
	if !c.RefreshTokenRotation {
		return s, ""
	}
	if s.rotatedOut.IsZero() {
		s.rotatedOut = now.Add(c.RetryGracePeriod)
	}
	next := *s
	next.refreshToken = newRefreshToken()
	next.rotatedOut = time.Time{}
	p.sessions[next.refreshToken] = &next
	p.current[sessionKey{next.sub, next.clientID}] = &next
	return &next, next.refreshToken
}

// refreshSessionLocked finds the session of refresh token rt presented by
// clientID and checks it as Cognito does, with secretOK checking the
// client's secret once the user is known.
func (p *Pool) refreshSessionLocked(clientID, rt string, now time.Time, secretOK func(*userRecord) *apiError) (*session, *userRecord, *apiError) {
	s := p.sessions[rt]
	var u *userRecord
	if s != nil {
		u = p.userBySubLocked(s.sub)
	}
	if s == nil || u == nil {
		return nil, nil, errNotAuthorized("Invalid Refresh Token")
	}
	if e := secretOK(u); e != nil {
		return nil, nil, e
	}
	switch {
	case s.clientID != clientID:
		return nil, nil, errNotAuthorized("Refresh Token has different Client")
	case s.revoked || p.originRevokedLocked(s.originJTI):
		return nil, nil, errNotAuthorized("Refresh Token has been revoked")
	case !s.rotatedOut.IsZero() && !now.Before(s.rotatedOut):
		return nil, nil, errNotAuthorized("cognitotest: Refresh Token has been rotated")
	case u.Disabled:
		return nil, nil, errDisabled
	case !now.Before(s.issued.Add(p.refreshTTL)):
		return nil, nil, errNotAuthorized("Refresh Token has expired")
	}
	return s, u, nil
}

func (p *Pool) originRevokedLocked(originJTI string) bool {
	_, ok := p.revokedOrigins[originJTI]
	return ok
}

// authOutput mints the answer of a successful authentication, with
// refreshToken when not empty.
func (in mintInput) authOutput(refreshToken string) initiateAuthOutput {
	o := new(tokenOptions)
	return initiateAuthOutput{
		AuthenticationResult: authResult{
			AccessToken:  in.access(o),
			ExpiresIn:    int64(in.accessTTL / time.Second),
			IdToken:      in.id(o),
			RefreshToken: refreshToken,
			TokenType:    "Bearer",
		},
		ChallengeParameters: map[string]string{},
	}
}

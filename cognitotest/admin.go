package cognitotest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

type accessTokenInput struct {
	AccessToken string
}

func (p *Pool) globalSignOut(body []byte) (any, *apiError) {
	out, e := p.accessTokenOp(body, func(u *userRecord, now time.Time) (any, *apiError) {
		p.revokeAllLocked(u.Sub, now)
		return struct{}{}, nil
	})
	if e == errNoUser {
		// UserNotFoundException is not among GlobalSignOut's errors:
		// the user's deletion revoked the token.
		return nil, errNotAuthorized("Access Token has been revoked")
	}
	return out, e
}

// accessTokenOp decodes a request authorised by the user's access token
// and answers f applied to the token's user under the pool's lock.
func (p *Pool) accessTokenOp(body []byte, f func(u *userRecord, now time.Time) (any, *apiError)) (any, *apiError) {
	var in accessTokenInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	return p.withTokenUser(in.AccessToken, f)
}

// withTokenUser checks the access token raw (checkAccessTokenLocked) and
// answers f applied to its user, under the pool's lock.
func (p *Pool) withTokenUser(raw string, f func(u *userRecord, now time.Time) (any, *apiError)) (any, *apiError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	u, e := p.checkAccessTokenLocked(raw, now)
	if e != nil {
		return nil, e
	}
	return f(u, now)
}

type adminUserInput struct {
	UserPoolId string
	Username   string
}

func (p *Pool) adminUserLocked(in adminUserInput) (*userRecord, *apiError) {
	if in.UserPoolId != p.poolID {
		return nil, errNoPool(in.UserPoolId)
	}
	if in.Username == "" {
		return nil, errInvalidParameter("Username is required.")
	}
	u := p.lookupLocked(in.Username)
	if u == nil {
		return nil, errNoUser
	}
	return u, nil
}

// withAdminUser resolves the user an Admin* request names and answers f
// applied to it, under the pool's lock.
func (p *Pool) withAdminUser(in adminUserInput, f func(u *userRecord, now time.Time) (any, *apiError)) (any, *apiError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, e := p.adminUserLocked(in)
	if e != nil {
		return nil, e
	}
	return f(u, p.now())
}

// adminUserCall decodes an Admin* request naming a user and answers f
// applied to the user (withAdminUser).
func (p *Pool) adminUserCall(body []byte, f func(u *userRecord, now time.Time) (any, *apiError)) (any, *apiError) {
	var in adminUserInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	return p.withAdminUser(in, f)
}

// adminUserOp is adminUserCall for an f that neither fails nor answers
// anything.
func (p *Pool) adminUserOp(body []byte, f func(r *userRecord, now time.Time)) (any, *apiError) {
	return p.adminUserCall(body, func(r *userRecord, now time.Time) (any, *apiError) {
		f(r, now)
		return struct{}{}, nil
	})
}

func (p *Pool) adminUserGlobalSignOut(body []byte) (any, *apiError) {
	return p.adminUserOp(body, func(r *userRecord, now time.Time) { p.revokeAllLocked(r.Sub, now) })
}

// adminDisableUser deactivates the user and revokes all its sessions, as
// Cognito's AdminDisableUser "revokes all access tokens for the user".
func (p *Pool) adminDisableUser(body []byte) (any, *apiError) {
	return p.adminUserOp(body, func(r *userRecord, now time.Time) {
		r.Disabled, r.modified = true, now
		p.revokeAllLocked(r.Sub, now)
	})
}

// adminEnableUser reactivates the user; tokens revoked by
// AdminDisableUser stay revoked.
func (p *Pool) adminEnableUser(body []byte) (any, *apiError) {
	return p.adminUserOp(body, func(r *userRecord, now time.Time) { r.Disabled, r.modified = false, now })
}

func (p *Pool) adminDeleteUser(body []byte) (any, *apiError) {
	return p.adminUserOp(body, func(r *userRecord, _ time.Time) { p.deleteUserLocked(r) })
}

type attribute struct {
	Name  string
	Value string
}

func userAttributes(r *userRecord) []attribute {
	u := r.User
	attrs := []attribute{{"sub", u.Sub}}
	if u.Identity != nil {
		b, _ := json.Marshal(identitiesClaim(u.Identity, r.created)) // cannot fail: strings only
		attrs = append(attrs, attribute{"identities", string(b)})
	}
	if u.Email != "" {
		attrs = append(attrs, attribute{"email", u.Email})
	}
	for _, k := range slices.Sorted(maps.Keys(u.Attributes)) {
		if k != "sub" && k != "email" && k != "identities" {
			attrs = append(attrs, attribute{k, u.Attributes[k]})
		}
	}
	return attrs
}

type adminGetUserOutput struct {
	Username             string
	UserAttributes       []attribute
	UserCreateDate       float64
	UserLastModifiedDate float64
	Enabled              bool
	UserStatus           string
}

func (p *Pool) adminGetUser(body []byte) (any, *apiError) {
	return p.adminUserCall(body, func(u *userRecord, _ time.Time) (any, *apiError) {
		return adminGetUserOutput{
			Username:             u.Username,
			UserAttributes:       userAttributes(u),
			UserCreateDate:       epochSeconds(u.created),
			UserLastModifiedDate: epochSeconds(u.modified),
			Enabled:              !u.Disabled,
			UserStatus:           u.status(),
		}, nil
	})
}

type getUserOutput struct {
	Username       string
	UserAttributes []attribute
}

func (p *Pool) getUser(body []byte) (any, *apiError) {
	return p.accessTokenOp(body, func(u *userRecord, _ time.Time) (any, *apiError) {
		return getUserOutput{Username: u.Username, UserAttributes: userAttributes(u)}, nil
	})
}

type revokeTokenInput struct {
	Token        string
	ClientId     string
	ClientSecret string
}

// refreshTokenPattern is the shape of Cognito's refresh tokens: a JWE
// compact serialization, five base64url parts.
var refreshTokenPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
})

// revokeToken follows RFC 7009 as Cognito does: a well-formed token the
// pool does not know (or already revoked) is not an error; a token of
// another client is refused, and so is every token of a client without
// token revocation.
func (p *Pool) revokeToken(body []byte) (any, *apiError) {
	var in revokeTokenInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	switch {
	case in.ClientId == "":
		return nil, errInvalidParameter("ClientId is required.")
	case strings.Count(in.Token, ".") == 2:
		return nil, &apiError{http.StatusBadRequest, "UnsupportedTokenTypeException", "Unsupported token type."}
	case !refreshTokenPattern().MatchString(in.Token):
		return nil, errInvalidParameter("Invalid token.")
	}
	unauthorized := &apiError{http.StatusBadRequest, "UnauthorizedException", "Client is not authorized to revoke this token."}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clientLocked(in.ClientId)
	switch {
	case c == nil:
		return nil, unauthorized
	case c.Secret != "" && !hmac.Equal([]byte(in.ClientSecret), []byte(c.Secret)):
		return nil, &apiError{http.StatusBadRequest, "UnauthorizedException", "Invalid client or secret"}
	case c.DisableTokenRevocation:
		return nil, &apiError{http.StatusBadRequest, "UnsupportedOperationException", "cognitotest: token revocation is not enabled for the client"}
	}
	s := p.sessions[in.Token]
	if s == nil {
		return struct{}{}, nil
	}
	if s.clientID != in.ClientId {
		return nil, unauthorized
	}
	p.revokeSessionLocked(s)
	return struct{}{}, nil
}

// accessClaims are the claims of an access token that the API checks.
type accessClaims struct {
	Sub       string `json:"sub"`
	Iss       string `json:"iss"`
	TokenUse  string `json:"token_use"`
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope"`
	OriginJTI string `json:"origin_jti"`
	AuthTime  *int64 `json:"auth_time"`
	Iat       *int64 `json:"iat"`
	Exp       *int64 `json:"exp"`
}

// checkAccessTokenLocked verifies an access token presented to the API as
// Cognito does: signature by a current key of the pool, issuer, token use,
// client, expiry, its user (deleted: UserNotFoundException; disabled),
// revocation and scope.
func (p *Pool) checkAccessTokenLocked(raw string, now time.Time) (*userRecord, *apiError) {
	return p.checkTokenScopeLocked(raw, now, DefaultScope)
}

// checkTokenScopeLocked checks an access token as checkAccessTokenLocked
// does, requiring scope instead of aws.cognito.signin.user.admin.
func (p *Pool) checkTokenScopeLocked(raw string, now time.Time, scope string) (*userRecord, *apiError) {
	if raw == "" {
		return nil, errInvalidParameter("AccessToken is required.")
	}
	invalid := errNotAuthorized("Invalid Access Token")
	pb, ok := p.verifySignatureLocked(raw)
	if !ok {
		return nil, invalid
	}
	var c accessClaims
	if json.Unmarshal(pb, &c) != nil || c.Iss != p.issuer || c.TokenUse != "access" ||
		p.clientLocked(c.ClientID) == nil || c.Exp == nil {
		return nil, invalid
	}
	if now.Unix() >= *c.Exp {
		return nil, errNotAuthorized("Access Token has expired")
	}
	u := p.userBySubLocked(c.Sub)
	switch {
	case u == nil && c.Sub == c.ClientID:
		// A client-credentials token has no user, nor the scope.
		return nil, errNotAuthorized("Access Token does not have required scopes")
	case u == nil:
		// The pool signed it, so its user existed: it was deleted.
		return nil, errNoUser
	case p.accessRevokedLocked(c.Sub, c.OriginJTI, c.AuthTime, c.Iat):
		return nil, errNotAuthorized("Access Token has been revoked")
	case u.Disabled:
		return nil, errDisabled
	case !strings.Contains(" "+c.Scope+" ", " "+scope+" "):
		return nil, errNotAuthorized("Access Token does not have required scopes")
	}
	return u, nil
}

// verifySignatureLocked checks that raw is a compact JWS signed RS256 by
// a current key of the pool and returns its decoded payload.
func (p *Pool) verifySignatureLocked(raw string) ([]byte, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	enc := base64.RawURLEncoding
	hb, err1 := enc.DecodeString(parts[0])
	pb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, false
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hb, &h) != nil || h.Alg != "RS256" {
		return nil, false
	}
	var key *rsa.PrivateKey
	switch h.Kid {
	case p.accessKey.kid:
		key = p.accessKey.key
	case p.idKey.kid:
		key = p.idKey.key
	default:
		return nil, false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, false
	}
	return pb, true
}

// accessRevokedLocked reports whether a token is revoked: its session was,
// or (for a token of no session the pool knows) its user signed out at or
// after its auth_time, or iat when auth_time is absent.
func (p *Pool) accessRevokedLocked(sub, originJTI string, authTime, iat *int64) bool {
	if _, ok := p.revokedOrigins[originJTI]; ok {
		return true
	}
	if p.knownOriginLocked(originJTI) {
		return false
	}
	t, ok := p.signedOut[sub]
	if !ok {
		return false
	}
	at := authTime
	if at == nil {
		at = iat
	}
	return at == nil || *at <= t.Unix()
}

func (p *Pool) knownOriginLocked(originJTI string) bool {
	if originJTI == "" {
		return false
	}
	for _, s := range p.sessions {
		if s.originJTI == originJTI {
			return true
		}
	}
	return false
}

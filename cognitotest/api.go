package cognitotest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// targetPrefix prefixes the X-Amz-Target header of every Cognito user pool
// API call.
const targetPrefix = "AWSCognitoIdentityProviderService."

// maxRequestBody bounds API request bodies.
const maxRequestBody = 1 << 20

// apiError is an error answer in the shape of the AWS JSON 1.1 protocol.
type apiError struct {
	status  int
	errType string
	message string
}

func errNotAuthorized(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "NotAuthorizedException", msg}
}

func errInvalidParameter(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException", msg}
}

func errNoPool(id string) *apiError {
	return &apiError{http.StatusBadRequest, "ResourceNotFoundException", "User pool " + id + " does not exist."}
}

func errNoClient(id string) *apiError {
	return &apiError{http.StatusBadRequest, "ResourceNotFoundException", "User pool client " + id + " does not exist."}
}

var errNoUser = &apiError{http.StatusBadRequest, "UserNotFoundException", "User does not exist."}

type injectedFailure struct {
	errType   string
	status    int
	remaining int
}

// FailNext makes the next n calls of API operation op (such as
// "GlobalSignOut") fail with error type errType (such as
// "TooManyRequestsException" or "InternalErrorException") and HTTP status
// (400 if 0) before doing anything else. Calls to FailNext for the same op
// queue up, served in order; n <= 0 cancels the pending failures of op.
// Failed calls count in [Pool.Calls].
func (p *Pool) FailNext(op, errType string, status, n int) {
	if status == 0 {
		status = http.StatusBadRequest
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n <= 0 {
		delete(p.failures, op)
		return
	}
	p.failures[op] = append(p.failures[op], &injectedFailure{errType, status, n})
}

// Calls returns how many requests named API operation op so far,
// including failed and injected-failure ones.
func (p *Pool) Calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

// SetAPIDelay makes every API call wait d before it is answered (0, the
// default, for none). The wait ends early when the client gives up or the
// pool is closed, and the connection is then dropped without an answer. It
// does not apply to the JWKS endpoint (see
// [Pool.SetJWKSHandler] for that).
func (p *Pool) SetAPIDelay(d time.Duration) {
	p.mu.Lock()
	p.apiDelay = d
	p.mu.Unlock()
}

type apiHandler func(p *Pool, body []byte) (any, *apiError)

var apiHandlers = map[string]apiHandler{
	"InitiateAuth":           (*Pool).initiateAuth,
	"AdminInitiateAuth":      (*Pool).adminInitiateAuth,
	"GlobalSignOut":          (*Pool).globalSignOut,
	"AdminUserGlobalSignOut": (*Pool).adminUserGlobalSignOut,
	"AdminGetUser":           (*Pool).adminGetUser,
	"GetUser":                (*Pool).getUser,
	"RevokeToken":            (*Pool).revokeToken,
}

func (p *Pool) serveAPI(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok || op == "" {
		writeError(w, &apiError{http.StatusBadRequest, "UnknownOperationException", ""})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, &apiError{http.StatusRequestEntityTooLarge, "SerializationException", "Request body too large."})
			return
		}
		writeError(w, &apiError{http.StatusBadRequest, "SerializationException", "Unreadable request body."})
		return
	}

	p.mu.Lock()
	p.calls[op]++
	delay := p.apiDelay
	var injected *apiError
	if q := p.failures[op]; len(q) > 0 {
		f := q[0]
		injected = &apiError{f.status, f.errType, "cognitotest: injected " + f.errType}
		if f.remaining--; f.remaining == 0 {
			p.failures[op] = q[1:]
		}
		if len(p.failures[op]) == 0 {
			delete(p.failures, op)
		}
	}
	p.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			panic(http.ErrAbortHandler) // no answer: the client is gone
		case <-p.done:
			t.Stop()
			// Drop the connection rather than let net/http send an
			// empty 200, which the SDK would take for success.
			panic(http.ErrAbortHandler)
		}
	}
	if injected != nil {
		writeError(w, injected)
		return
	}
	h, ok := apiHandlers[op]
	if !ok {
		writeError(w, &apiError{http.StatusBadRequest, "UnknownOperationException", ""})
		return
	}
	out, aerr := h(p, body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{http.StatusInternalServerError, "InternalErrorException", "cognitotest: " + err.Error()})
		return
	}
	setHeaders(w)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func setHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", newUUID())
}

func writeError(w http.ResponseWriter, e *apiError) {
	setHeaders(w)
	w.Header().Set("X-Amzn-Errortype", e.errType+":")
	w.WriteHeader(e.status)
	body := map[string]string{"__type": e.errType}
	if e.message != "" {
		body["message"] = e.message
	}
	_ = json.NewEncoder(w).Encode(body)
}

// decode unmarshals an API request body.
func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{http.StatusBadRequest, "SerializationException", "Malformed request body."}
	}
	return nil
}

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
		return p.passwordAuth(in)
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
		return p.passwordAuth(in)
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		return p.refreshAuth(in)
	case "USER_PASSWORD_AUTH", "USER_SRP_AUTH":
		return nil, errInvalidParameter("Initiate Auth method not supported.")
	}
	return nil, errInvalidParameter("cognitotest: unsupported AuthFlow " + in.AuthFlow)
}

func (p *Pool) passwordAuth(in initiateAuthInput) (any, *apiError) {
	if !p.isClient(in.ClientId) {
		return nil, errNoClient(in.ClientId)
	}
	name, password := in.AuthParameters["USERNAME"], in.AuthParameters["PASSWORD"]
	if name == "" {
		return nil, errInvalidParameter("Missing required parameter USERNAME")
	}
	if password == "" {
		return nil, errInvalidParameter("Missing required parameter PASSWORD")
	}
	if e := p.checkSecretHash(in, name); e != nil {
		return nil, e
	}
	p.mu.Lock()
	u := p.lookupLocked(name)
	if u == nil || u.Password == "" || u.Password != password {
		p.mu.Unlock()
		// As with PreventUserExistenceErrors (the default of new pools),
		// an unknown user looks like a wrong password.
		return nil, errNotAuthorized("Incorrect username or password.")
	}
	now := p.now()
	s := p.newSessionLocked(u, in.ClientId, now)
	mi := p.mintInputLocked(u, s, now)
	p.mu.Unlock()
	o := new(tokenOptions)
	return initiateAuthOutput{
		AuthenticationResult: authResult{
			AccessToken:  mi.access(o),
			ExpiresIn:    int64(p.accessTTL / time.Second),
			IdToken:      mi.id(o),
			RefreshToken: s.refreshToken,
			TokenType:    "Bearer",
		},
		ChallengeParameters: map[string]string{},
	}, nil
}

func (p *Pool) refreshAuth(in initiateAuthInput) (any, *apiError) {
	if !p.isClient(in.ClientId) {
		return nil, errNoClient(in.ClientId)
	}
	rt := in.AuthParameters["REFRESH_TOKEN"]
	if rt == "" {
		return nil, errInvalidParameter("Missing required parameter REFRESH_TOKEN")
	}
	p.mu.Lock()
	now := p.now()
	s := p.sessions[rt]
	var u *userRecord
	if s != nil {
		u = p.userBySubLocked(s.sub)
	}
	if s == nil || u == nil {
		p.mu.Unlock()
		return nil, errNotAuthorized("Invalid Refresh Token")
	}
	if e := p.checkRefreshSecretHash(in, u); e != nil {
		p.mu.Unlock()
		return nil, e
	}
	switch {
	case s.clientID != in.ClientId:
		p.mu.Unlock()
		return nil, errNotAuthorized("Refresh Token has different Client")
	case s.revoked:
		p.mu.Unlock()
		return nil, errNotAuthorized("Refresh Token has been revoked")
	case !now.Before(s.issued.Add(p.refreshTTL)):
		p.mu.Unlock()
		return nil, errNotAuthorized("Refresh Token has expired")
	}
	mi := p.mintInputLocked(u, s, now)
	p.mu.Unlock()
	o := new(tokenOptions)
	return initiateAuthOutput{
		AuthenticationResult: authResult{
			AccessToken: mi.access(o),
			ExpiresIn:   int64(p.accessTTL / time.Second),
			IdToken:     mi.id(o),
			TokenType:   "Bearer",
		},
		ChallengeParameters: map[string]string{},
	}, nil
}

type accessTokenInput struct {
	AccessToken string
}

func (p *Pool) globalSignOut(body []byte) (any, *apiError) {
	var in accessTokenInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	u, e := p.checkAccessTokenLocked(in.AccessToken, now)
	if e != nil {
		return nil, e
	}
	p.globalSignOutLocked(u.Sub, now)
	return struct{}{}, nil
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

func (p *Pool) adminUserGlobalSignOut(body []byte) (any, *apiError) {
	var in adminUserInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u, e := p.adminUserLocked(in)
	if e != nil {
		return nil, e
	}
	p.globalSignOutLocked(u.Sub, p.now())
	return struct{}{}, nil
}

type attribute struct {
	Name  string
	Value string
}

func userAttributes(u User) []attribute {
	attrs := []attribute{{"sub", u.Sub}}
	if u.Email != "" {
		attrs = append(attrs, attribute{"email", u.Email})
		if _, ok := u.Attributes["email_verified"]; !ok {
			attrs = append(attrs, attribute{"email_verified", "true"})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(u.Attributes)) {
		if k != "sub" && k != "email" {
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
	var in adminUserInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u, e := p.adminUserLocked(in)
	if e != nil {
		return nil, e
	}
	created := float64(u.created.UnixMilli()) / 1000
	return adminGetUserOutput{
		Username:             u.Username,
		UserAttributes:       userAttributes(u.User),
		UserCreateDate:       created,
		UserLastModifiedDate: created,
		Enabled:              true,
		UserStatus:           "CONFIRMED",
	}, nil
}

type getUserOutput struct {
	Username       string
	UserAttributes []attribute
}

func (p *Pool) getUser(body []byte) (any, *apiError) {
	var in accessTokenInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u, e := p.checkAccessTokenLocked(in.AccessToken, p.now())
	if e != nil {
		return nil, e
	}
	return getUserOutput{Username: u.Username, UserAttributes: userAttributes(u.User)}, nil
}

type revokeTokenInput struct {
	Token        string
	ClientId     string
	ClientSecret string
}

var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9\-_=.]+$`)

// revokeToken follows RFC 7009 as Cognito does: a token the pool does not
// know (or already revoked) is not an error; a token of another client is
// refused.
func (p *Pool) revokeToken(body []byte) (any, *apiError) {
	var in revokeTokenInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.Token == "" || !tokenPattern.MatchString(in.Token) {
		return nil, errInvalidParameter("Invalid token.")
	}
	if in.ClientId == "" {
		return nil, errInvalidParameter("ClientId is required.")
	}
	if strings.Count(in.Token, ".") == 2 {
		return nil, &apiError{http.StatusBadRequest, "UnsupportedTokenTypeException", "Unsupported token type."}
	}
	unauthorized := &apiError{http.StatusBadRequest, "UnauthorizedException", "Client is not authorized to revoke this token."}
	if !p.isClient(in.ClientId) {
		return nil, unauthorized
	}
	if secret, ok := p.secrets[in.ClientId]; ok && !hmac.Equal([]byte(in.ClientSecret), []byte(secret)) {
		return nil, &apiError{http.StatusBadRequest, "UnauthorizedException", "Invalid client or secret"}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
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

// checkAccessTokenLocked verifies an access token presented to the API as
// Cognito does: signature by a current key of the pool, issuer, token use,
// client, expiry, scope and revocation.
func (p *Pool) checkAccessTokenLocked(raw string, now time.Time) (*userRecord, *apiError) {
	invalid := errNotAuthorized("Invalid Access Token")
	if raw == "" {
		return nil, errInvalidParameter("AccessToken is required.")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, invalid
	}
	enc := base64.RawURLEncoding
	hb, err1 := enc.DecodeString(parts[0])
	pb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, invalid
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hb, &h) != nil || h.Alg != "RS256" {
		return nil, invalid
	}
	var key *rsa.PrivateKey
	switch h.Kid {
	case p.accessKey.kid:
		key = p.accessKey.key
	case p.idKey.kid:
		key = p.idKey.key
	default:
		return nil, invalid
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, invalid
	}
	var c struct {
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
	if json.Unmarshal(pb, &c) != nil || c.Iss != p.issuer || c.TokenUse != "access" ||
		!p.isClient(c.ClientID) || c.Exp == nil {
		return nil, invalid
	}
	if now.Unix() >= *c.Exp {
		return nil, errNotAuthorized("Access Token has expired")
	}
	u := p.userBySubLocked(c.Sub)
	if u == nil {
		return nil, invalid
	}
	if p.accessRevokedLocked(c.Sub, c.OriginJTI, c.AuthTime, c.Iat) {
		return nil, errNotAuthorized("Access Token has been revoked")
	}
	if !strings.Contains(" "+c.Scope+" ", " "+DefaultScope+" ") {
		return nil, errNotAuthorized("Access Token does not have required scopes")
	}
	return u, nil
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

// checkSecretHash checks InitiateAuth's SECRET_HASH for username when the
// client has a secret, with Cognito's messages.
func (p *Pool) checkSecretHash(in initiateAuthInput, username string) *apiError {
	secret, ok := p.secrets[in.ClientId]
	if !ok {
		return nil
	}
	got := in.AuthParameters["SECRET_HASH"]
	if got == "" {
		return errNotAuthorized("Client " + in.ClientId + " is configured for secret but secret was not received")
	}
	if !hmac.Equal([]byte(got), []byte(SecretHash(secret, username, in.ClientId))) {
		return errNotAuthorized("Unable to verify secret hash for client " + in.ClientId)
	}
	return nil
}

// checkRefreshSecretHash checks a refresh's SECRET_HASH, which may be
// computed with the username or the sub.
func (p *Pool) checkRefreshSecretHash(in initiateAuthInput, u *userRecord) *apiError {
	e := p.checkSecretHash(in, u.Username)
	if e != nil && p.checkSecretHash(in, u.Sub) == nil {
		return nil
	}
	return e
}

// SecretHash is the SECRET_HASH that Cognito expects from a client with a
// secret: Base64(HMAC-SHA256(secret, username + clientID)).
func SecretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

package cognitotest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Explicit authentication flows of app clients ([AppClient.ExplicitAuthFlows]),
// Cognito's ALLOW_* values. The fake serves the first three; the others
// are accepted in a client's configuration and allow no flow of the fake.
const (
	AllowUserPasswordAuth      = "ALLOW_USER_PASSWORD_AUTH"
	AllowAdminUserPasswordAuth = "ALLOW_ADMIN_USER_PASSWORD_AUTH"
	AllowRefreshTokenAuth      = "ALLOW_REFRESH_TOKEN_AUTH"
	AllowUserSRPAuth           = "ALLOW_USER_SRP_AUTH"
	AllowCustomAuth            = "ALLOW_CUSTOM_AUTH"
	AllowUserAuth              = "ALLOW_USER_AUTH"
)

// Values of [AppClient.PreventUserExistenceErrors], Cognito's.
const (
	PreventUserExistenceEnabled = "ENABLED"
	PreventUserExistenceLegacy  = "LEGACY"
)

// AppClient is an app client of a [Pool], configured as Cognito's
// CreateUserPoolClient configures one.
type AppClient struct {
	// ID is the client ID (client_id of access tokens, aud of ID
	// tokens). Required.
	ID string

	// Secret, if not empty, makes it a confidential client. The API then
	// requires it as Cognito does: RevokeToken's ClientSecret (else
	// UnauthorizedException "Invalid client or secret"), and
	// InitiateAuth's SECRET_HASH ([SecretHash]) over the username (else
	// NotAuthorizedException).
	Secret string

	// ExplicitAuthFlows are the flows the client allows, among the Allow*
	// constants. A flow it does not allow gets InvalidParameterException.
	// If nil, a client of [Config] allows the password flows and refresh
	// (AllowUserPasswordAuth, AllowAdminUserPasswordAuth,
	// AllowRefreshTokenAuth), which is how a test pool's client is
	// usually configured; a client created through the API's
	// CreateUserPoolClient without them gets Cognito's default
	// (AllowUserSRPAuth, AllowCustomAuth, AllowRefreshTokenAuth), hence no
	// password flow. NewPool panics on another value.
	ExplicitAuthFlows []string

	// DisableTokenRevocation turns Cognito's EnableTokenRevocation off
	// (it is on by default for new clients): tokens of the client then
	// carry no origin_jti, its ID tokens no jti, and RevokeToken answers
	// UnsupportedOperationException. Global sign-outs still revoke.
	DisableTokenRevocation bool

	// RefreshTokenRotation turns on Cognito's refresh token rotation:
	// GetTokensFromRefreshToken then also returns a new refresh token,
	// valid until the original one would have expired, and retires the
	// one presented after RetryGracePeriod (0 to 60 seconds; NewPool
	// panics on another value). REFRESH_TOKEN_AUTH is refused. Tokens
	// carry origin_jti and jti even with DisableTokenRevocation, as
	// Cognito adds them for rotation. Revoking one refresh token of a
	// rotated session revokes them all.
	RefreshTokenRotation bool
	RetryGracePeriod     time.Duration

	// PreventUserExistenceErrors is how a sign-in of an unknown user
	// answers: PreventUserExistenceEnabled as a wrong password does
	// (NotAuthorizedException "Incorrect username or password."),
	// PreventUserExistenceLegacy with UserNotFoundException "User does
	// not exist.". If empty, a client of [Config] gets
	// PreventUserExistenceEnabled (the console's default), one created
	// through the API's CreateUserPoolClient without it
	// PreventUserExistenceLegacy (the API's default). NewPool panics on
	// another value.
	PreventUserExistenceErrors string

	// CallbackURLs are the redirect URIs that /oauth2/authorize accepts
	// (exact matches), and LogoutURLs the logout_uri values that /logout
	// accepts. Cognito's CallbackURLs and LogoutURLs.
	CallbackURLs, LogoutURLs []string

	// OAuthFlows are the OAuth 2.0 grants the client allows:
	// OAuthFlowCode (authorization code, with or without PKCE) and
	// OAuthFlowClientCredentials, which needs a Secret and cannot be
	// combined with OAuthFlowCode, as in Cognito. If nil, a client with
	// CallbackURLs allows OAuthFlowCode, others none. NewPool panics on
	// another value or combination.
	OAuthFlows []string

	// OAuthScopes are the scopes the OAuth endpoints grant the client
	// (Cognito's AllowedOAuthScopes): standard ones ("openid", "email",
	// "phone", "profile", "aws.cognito.signin.user.admin") and custom
	// ones of resource servers ("orders/read"), which are the only ones a
	// client-credentials token carries. If nil, a client allowing
	// OAuthFlowCode gets the five standard scopes; a client allowing
	// OAuthFlowClientCredentials MUST name its custom scopes (NewPool
	// panics otherwise).
	OAuthScopes []string
}

var (
	configAuthFlows = []string{AllowUserPasswordAuth, AllowAdminUserPasswordAuth, AllowRefreshTokenAuth}
	apiAuthFlows    = []string{AllowUserSRPAuth, AllowCustomAuth, AllowRefreshTokenAuth}
	knownAuthFlows  = []string{AllowUserPasswordAuth, AllowAdminUserPasswordAuth, AllowRefreshTokenAuth,
		AllowUserSRPAuth, AllowCustomAuth, AllowUserAuth}
)

func (c *AppClient) clone() *AppClient {
	d := *c
	d.ExplicitAuthFlows = slices.Clone(c.ExplicitAuthFlows)
	d.CallbackURLs, d.LogoutURLs = slices.Clone(c.CallbackURLs), slices.Clone(c.LogoutURLs)
	d.OAuthFlows, d.OAuthScopes = slices.Clone(c.OAuthFlows), slices.Clone(c.OAuthScopes)
	return &d
}

func (c *AppClient) allows(flow string) bool { return slices.Contains(c.ExplicitAuthFlows, flow) }

func (c *AppClient) allowsOAuth(flow string) bool { return slices.Contains(c.OAuthFlows, flow) }

// setOAuthDefaults fills in the OAuth defaults of c and checks its OAuth
// settings, returning what is wrong.
func (c *AppClient) setOAuthDefaults() string {
	if c.OAuthFlows == nil && len(c.CallbackURLs) > 0 {
		c.OAuthFlows = []string{OAuthFlowCode}
	}
	for _, f := range c.OAuthFlows {
		if f != OAuthFlowCode && f != OAuthFlowClientCredentials {
			return fmt.Sprintf("invalid OAuth flow %q (the implicit flow is not served)", f)
		}
	}
	cc := c.allowsOAuth(OAuthFlowClientCredentials)
	switch {
	case cc && c.allowsOAuth(OAuthFlowCode):
		return "client_credentials cannot be combined with code"
	case cc && c.Secret == "":
		return "client_credentials needs a client secret"
	case cc && !slices.ContainsFunc(c.OAuthScopes, func(s string) bool { return strings.Contains(s, "/") }):
		return "client_credentials needs custom OAuthScopes (resource/scope)"
	case c.OAuthScopes == nil && c.allowsOAuth(OAuthFlowCode):
		c.OAuthScopes = slices.Clone(defaultOAuthScopes)
	}
	return ""
}

// validAuthFlows reports whether every flow is a known ALLOW_* value.
func validAuthFlows(flows []string) bool {
	for _, f := range flows {
		if !slices.Contains(knownAuthFlows, f) {
			return false
		}
	}
	return true
}

// configClients builds the clients of cfg: ClientIDs, then Clients, with
// ClientSecrets applied. It panics on an invalid configuration.
func configClients(cfg Config) []*AppClient {
	var clients []*AppClient
	for _, id := range cfg.ClientIDs {
		clients = append(clients, &AppClient{ID: id})
	}
	for _, c := range cfg.Clients {
		clients = append(clients, c.clone())
	}
	if len(clients) == 0 {
		clients = []*AppClient{{ID: DefaultClientID}}
	}
	seen := make(map[string]*AppClient)
	for _, c := range clients {
		if c.ID == "" || seen[c.ID] != nil {
			panic(fmt.Sprintf("cognitotest: empty or duplicate client ID %q", c.ID))
		}
		seen[c.ID] = c
		if c.ExplicitAuthFlows == nil {
			c.ExplicitAuthFlows = slices.Clone(configAuthFlows)
		}
		if c.RetryGracePeriod < 0 || c.RetryGracePeriod > time.Minute {
			panic(fmt.Sprintf("cognitotest: client %q: RetryGracePeriod %v out of [0, 60s]", c.ID, c.RetryGracePeriod))
		}
		if !validAuthFlows(c.ExplicitAuthFlows) {
			panic(fmt.Sprintf("cognitotest: client %q: invalid ExplicitAuthFlows %q", c.ID, c.ExplicitAuthFlows))
		}
		switch c.PreventUserExistenceErrors {
		case "":
			c.PreventUserExistenceErrors = PreventUserExistenceEnabled
		case PreventUserExistenceEnabled, PreventUserExistenceLegacy:
		default:
			panic(fmt.Sprintf("cognitotest: client %q: invalid PreventUserExistenceErrors %q", c.ID, c.PreventUserExistenceErrors))
		}
	}
	for id, secret := range cfg.ClientSecrets {
		c := seen[id]
		if c == nil || secret == "" || c.Secret != "" {
			panic(fmt.Sprintf("cognitotest: client secret for unknown client %q, empty, or set twice", id))
		}
		c.Secret = secret
	}
	for _, c := range clients {
		if err := c.setOAuthDefaults(); err != "" {
			panic(fmt.Sprintf("cognitotest: client %q: %s", c.ID, err))
		}
	}
	return clients
}

// ClientID returns the default app client ID: the first of
// [Config.ClientIDs], else of [Config.Clients].
func (p *Pool) ClientID() string { return p.defaultClient }

// ClientIDs returns the IDs of all the app clients of the pool, those
// created through the API included.
func (p *Pool) ClientIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, len(p.clients))
	for i, c := range p.clients {
		ids[i] = c.ID
	}
	return ids
}

func (p *Pool) clientLocked(id string) *AppClient {
	for _, c := range p.clients {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// client returns a copy of the client with that ID.
func (p *Pool) client(id string) (*AppClient, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clientLocked(id)
	if c == nil {
		return nil, false
	}
	return c.clone(), true
}

type createClientInput struct {
	UserPoolId                      string
	ClientName                      string
	GenerateSecret                  bool
	ExplicitAuthFlows               []string
	EnableTokenRevocation           *bool
	PreventUserExistenceErrors      string
	AllowedOAuthFlows               []string
	AllowedOAuthScopes              []string
	AllowedOAuthFlowsUserPoolClient bool
	CallbackURLs, LogoutURLs        []string
	RefreshTokenRotation            *struct {
		Feature                 string
		RetryGracePeriodSeconds int
	}
}

type userPoolClient struct {
	UserPoolId                      string
	ClientName                      string
	ClientId                        string
	ClientSecret                    string `json:",omitempty"`
	ExplicitAuthFlows               []string
	EnableTokenRevocation           bool
	PreventUserExistenceErrors      string
	AllowedOAuthFlows               []string `json:",omitempty"`
	AllowedOAuthScopes              []string `json:",omitempty"`
	AllowedOAuthFlowsUserPoolClient bool
	CallbackURLs                    []string `json:",omitempty"`
	LogoutURLs                      []string `json:",omitempty"`
	RefreshTokenRotation            struct {
		Feature                 string
		RetryGracePeriodSeconds int
	}
	CreationDate     float64
	LastModifiedDate float64
}

// createUserPoolClient adds a client with Cognito's defaults.
func (p *Pool) createUserPoolClient(body []byte) (any, *apiError) {
	var in createClientInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	switch {
	case in.UserPoolId != p.poolID:
		return nil, errNoPool(in.UserPoolId)
	case in.ClientName == "":
		return nil, errInvalidParameter("ClientName is required.")
	case !validAuthFlows(in.ExplicitAuthFlows):
		return nil, errInvalidParameter("cognitotest: ExplicitAuthFlows takes ALLOW_* values only")
	}
	prevent, e := preventUserExistence(in.PreventUserExistenceErrors)
	if e != nil {
		return nil, e
	}
	c := &AppClient{ID: randomString(26), ExplicitAuthFlows: in.ExplicitAuthFlows, PreventUserExistenceErrors: prevent}
	if c.ExplicitAuthFlows == nil {
		c.ExplicitAuthFlows = slices.Clone(apiAuthFlows)
	}
	if in.GenerateSecret {
		c.Secret = randomString(51)
	}
	c.CallbackURLs, c.LogoutURLs, c.OAuthScopes = in.CallbackURLs, in.LogoutURLs, in.AllowedOAuthScopes
	c.OAuthFlows = []string{}
	if in.AllowedOAuthFlowsUserPoolClient {
		c.OAuthFlows = append(c.OAuthFlows, in.AllowedOAuthFlows...)
	}
	if msg := c.setOAuthDefaults(); msg != "" {
		return nil, &apiError{http.StatusBadRequest, "InvalidOAuthFlowException", "cognitotest: " + msg}
	}
	c.DisableTokenRevocation = in.EnableTokenRevocation != nil && !*in.EnableTokenRevocation
	if r := in.RefreshTokenRotation; r != nil {
		if r.RetryGracePeriodSeconds < 0 || r.RetryGracePeriodSeconds > 60 {
			return nil, errInvalidParameter("cognitotest: RetryGracePeriodSeconds out of [0, 60]")
		}
		c.RefreshTokenRotation = r.Feature == "ENABLED"
		c.RetryGracePeriod = time.Duration(r.RetryGracePeriodSeconds) * time.Second
	}
	p.mu.Lock()
	p.clients = append(p.clients, c)
	now := p.now()
	p.mu.Unlock()
	out := userPoolClient{
		UserPoolId:                      p.poolID,
		ClientName:                      in.ClientName,
		ClientId:                        c.ID,
		ClientSecret:                    c.Secret,
		ExplicitAuthFlows:               c.ExplicitAuthFlows,
		EnableTokenRevocation:           !c.DisableTokenRevocation,
		PreventUserExistenceErrors:      c.PreventUserExistenceErrors,
		AllowedOAuthFlows:               c.OAuthFlows,
		AllowedOAuthScopes:              c.OAuthScopes,
		AllowedOAuthFlowsUserPoolClient: len(c.OAuthFlows) > 0,
		CallbackURLs:                    c.CallbackURLs,
		LogoutURLs:                      c.LogoutURLs,
		CreationDate:                    epochSeconds(now),
		LastModifiedDate:                epochSeconds(now),
	}
	out.RefreshTokenRotation.Feature = "DISABLED"
	if c.RefreshTokenRotation {
		out.RefreshTokenRotation.Feature = "ENABLED"
	}
	out.RefreshTokenRotation.RetryGracePeriodSeconds = int(c.RetryGracePeriod / time.Second)
	return struct{ UserPoolClient userPoolClient }{out}, nil
}

// preventUserExistence validates a PreventUserExistenceErrors setting of
// CreateUserPoolClient; empty means LEGACY, the API's default.
func preventUserExistence(v string) (string, *apiError) {
	switch v {
	case "":
		return PreventUserExistenceLegacy, nil
	case PreventUserExistenceEnabled, PreventUserExistenceLegacy:
		return v, nil
	}
	return "", errInvalidParameter("1 validation error detected: Value '" + v +
		"' at 'preventUserExistenceErrors' failed to satisfy constraint: Member must satisfy enum value set: [LEGACY, ENABLED]")
}

// randomString returns n random lowercase letters and digits, the
// alphabet of Cognito's client IDs and secrets.
func randomString(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// epochSeconds is t as the AWS JSON protocol's timestamps: seconds since
// the epoch, with milliseconds.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

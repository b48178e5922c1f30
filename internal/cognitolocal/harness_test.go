//go:build unix

package cognitolocal

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/internal/nodeproc"
)

// version is the cognito-local release the suite is written against.
const version = "5.3.0"

// emulator is one running cognito-local.
type emulator struct {
	URL    string // http://127.0.0.1:PORT, the API endpoint and the issuers' prefix
	Client *cip.Client
}

// Issuer is the iss of the tokens of poolID.
func (e *emulator) Issuer(poolID string) string { return e.URL + "/" + poolID }

// spec is how cognito-local is run: in a temporary directory of its own,
// whose config lets usernames be other than email addresses.
var spec = nodeproc.Spec{
	Name: "cognito-local", Version: version, DirEnv: "COGNITO_LOCAL_DIR", Script: "lib/bin/start.js",
	Env: func(port int) []string { return []string{"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port), "DEBUG="} },
	Dir: func(t testing.TB) (string, error) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, ".cognito"), 0o755); err != nil {
			return "", err
		}
		// Without this every username must be an email address.
		cfg := []byte(`{"UserPoolDefaults":{"UsernameAttributes":[]}}`)
		return dir, os.WriteFile(filepath.Join(dir, ".cognito", "config.json"), cfg, 0o644)
	},
	Ready: func(body []byte) bool { return bytes.Equal(bytes.Join(bytes.Fields(body), nil), []byte(`{"ok":true}`)) },
}

// start runs a fresh cognito-local for t in a temporary directory and
// returns it once GET /health answers {"ok":true}. It is stopped, with its
// whole process group, when t ends.
func start(t *testing.T) *emulator {
	t.Helper()
	url := nodeproc.Start(t, spec).URL
	client := cip.New(cip.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("x", "x", ""),
		RetryMaxAttempts: 1, // it answers unsupported calls with 500, which the SDK would retry
		// One connection per call: a CI run once saw a response body cut
		// off on a reused connection (node closing it, the non-idempotent
		// POST not retried).
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	})
	return &emulator{URL: url, Client: client}
}

// pool is a user pool of the emulator with one app client.
type pool struct {
	ID       string
	ClientID string
}

// createPool creates a user pool and an app client through the SDK.
func (e *emulator) createPool(t *testing.T, name string) pool {
	t.Helper()
	ctx := t.Context()
	up, err := e.Client.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	id := aws.ToString(up.UserPool.Id)
	cl, err := e.Client.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:        aws.String(id),
		ClientName:        aws.String(name + "-client"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	return pool{ID: id, ClientID: aws.ToString(cl.UserPoolClient.ClientId)}
}

// createUser adds a confirmed user with a permanent password.
func (e *emulator) createUser(t *testing.T, p pool, username, password string) {
	t.Helper()
	ctx := t.Context()
	_, err := e.Client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:    aws.String(p.ID),
		Username:      aws.String(username),
		MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String(username + "@example.com")},
			{Name: aws.String("email_verified"), Value: aws.String("true")},
		},
	})
	if err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	_, err = e.Client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(p.ID),
		Username:   aws.String(username),
		Password:   aws.String(password),
		Permanent:  true,
	})
	if err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
}

// signIn runs USER_PASSWORD_AUTH and returns the tokens.
func (e *emulator) signIn(t *testing.T, p pool, username, password string) *types.AuthenticationResultType {
	t.Helper()
	out, err := e.Client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(p.ClientID),
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password},
	})
	if err != nil {
		t.Fatalf("InitiateAuth USER_PASSWORD_AUTH: %v", err)
	}
	r := out.AuthenticationResult
	if r == nil || aws.ToString(r.AccessToken) == "" || aws.ToString(r.IdToken) == "" || aws.ToString(r.RefreshToken) == "" {
		t.Fatalf("InitiateAuth: no tokens in %+v (challenge %q)", r, out.ChallengeName)
	}
	return r
}

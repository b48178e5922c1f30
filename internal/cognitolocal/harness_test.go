//go:build unix

package cognitolocal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// version is the cognito-local release the suite is written against.
const version = "5.3.0"

// readyTimeout bounds the wait for GET /health (about 1 s on an idle
// machine; CI machines are shared).
const readyTimeout = 30 * time.Second

// emulator is one running cognito-local.
type emulator struct {
	URL    string // http://127.0.0.1:PORT, the API endpoint and the issuers' prefix
	Client *cip.Client
}

// Issuer is the iss of the tokens of poolID.
func (e *emulator) Issuer(poolID string) string { return e.URL + "/" + poolID }

// unavailable skips the test, or fails it under COGNITOGUARD_INTEGRATION=1.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("COGNITOGUARD_INTEGRATION") == "1" {
		t.Fatalf("cognito-local unavailable with COGNITOGUARD_INTEGRATION=1: %s", msg)
	}
	t.Skipf("cognito-local unavailable: %s (install: see package doc; COGNITOGUARD_INTEGRATION=1 makes this a failure)", msg)
}

// startJS finds cognito-local's start script.
func startJS(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("COGNITO_LOCAL_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			unavailable(t, "no COGNITO_LOCAL_DIR and no home directory: %v", err)
		}
		dir = filepath.Join(home, ".cache", "cognitoguard", "cognito-local")
	}
	js := filepath.Join(dir, "node_modules", "cognito-local", "lib", "bin", "start.js")
	if _, err := os.Stat(js); err != nil {
		unavailable(t, "cognito-local@%s not installed in %s: %v", version, dir, err)
	}
	return js
}

// lockedBuffer collects the emulator's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{} // handed out by freePort in this process
)

// freePort returns a loopback port that was free a moment ago and that no
// other test of this process was given (the tests run in parallel, and an
// emulator that lost the race for its port must not be mistaken for the
// one that won it). cognito-local writes its PORT into every iss, so
// PORT=0 cannot be used.
func freePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !ports[port] {
			ports[port] = true
			return port
		}
	}
}

// start runs a fresh cognito-local for t in a temporary directory and
// returns it once GET /health answers {"ok":true}. It is stopped, with its
// whole process group, when t ends.
func start(t *testing.T) *emulator {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node not on PATH")
	}
	js := startJS(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken before node binds it
		e, err := launch(t, node, js)
		if err == nil {
			return e
		}
		lastErr = err
	}
	t.Fatalf("starting cognito-local: %v", lastErr)
	return nil
}

func launch(t *testing.T, node, js string) (*emulator, error) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".cognito"), 0o755); err != nil {
		return nil, err
	}
	// Without this every username must be an email address.
	cfg := []byte(`{"UserPoolDefaults":{"UsernameAttributes":[]}}`)
	if err := os.WriteFile(filepath.Join(dir, ".cognito", "config.json"), cfg, 0o644); err != nil {
		return nil, err
	}
	port := freePort(t)
	out := new(lockedBuffer)
	cmd := exec.Command(node, js)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+strconv.Itoa(port), "DEBUG=")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHealthy(t.Context(), url, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w\n--- cognito-local output ---\n%s", err, out.String())
	}
	select {
	case <-exited: // someone else answered on our port
		return nil, fmt.Errorf("cognito-local exited after %s answered\n--- cognito-local output ---\n%s", url, out.String())
	default:
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("--- cognito-local output ---\n%s", out.String())
		}
	})
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
	return &emulator{URL: url, Client: client}, nil
}

// waitHealthy polls url/health until it says {"ok":true}, the process
// exits, or readyTimeout passes.
func waitHealthy(ctx context.Context, url string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Equal(bytes.Join(bytes.Fields(body), nil), []byte(`{"ok":true}`)) {
				return nil
			}
			last = fmt.Errorf("GET /health: %d %q", resp.StatusCode, body)
		} else {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("cognito-local exited before it was ready (last: %v)", last)
		case <-ctx.Done():
			return fmt.Errorf("cognito-local not ready after %v: %v", readyTimeout, last)
		case <-tick.C:
		}
	}
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

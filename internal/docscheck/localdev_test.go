package docscheck

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/awstest"
	"github.com/cognitoguard/cognitoguard/internal/freeport"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

// startTimeout bounds each process's start, generous for a loaded machine.
const startTimeout = 60 * time.Second

// TestLocalDevelopment: the README's Install commands and its Local
// development program, word for word, make a module outside the checkout;
// two instances of that program, run against cmd/cognitotest (built from
// the checkout) and a real redis-server, accept a token of a sign-in
// through the SDK, and a POST /logout on instance A is followed by 401 on
// instance B.
func TestLocalDevelopment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the README's local-development program")
	}
	repo := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := parseMarkdown("README.md", string(readme))
	program := readmeBlock(t, md, "Local development", "go")
	install := readmeBlock(t, md, "Install", "sh")
	if !strings.HasPrefix(program.code, "package main\n") {
		t.Fatalf("README.md:%d: the Local development program must be a whole file, package main", program.line)
	}
	redisAddr, _ := redistest.Server(t)
	awstest.Isolate(t)

	bin := t.TempDir()
	if _, err := runGo(t, repo, nil, "build", "-o", filepath.Join(bin, "cognitotest"), "./cmd/cognitotest"); err != nil {
		t.Fatal(err)
	}
	app := userModule(t, repo, bin, program, install)

	const user, password = "alice", "Alice-pw-1"
	endpoint := startFakePool(t, filepath.Join(bin, "cognitotest"), user+":"+password)
	a := startApp(t, app, endpoint, redisAddr)
	b := startApp(t, app, endpoint, redisAddr)

	token := signIn(t, endpoint, user, password)
	waitStatus(t, "GET", a+"/me", token, http.StatusOK)
	waitStatus(t, "GET", b+"/me", token, http.StatusOK)
	if got := status(t, "POST", a+"/logout", token); got != http.StatusNoContent {
		t.Fatalf("POST /logout on instance A: %d, want 204", got)
	}
	waitStatus(t, "GET", b+"/me", token, http.StatusUnauthorized)
}

// readmeBlock is the first fenced block of lang under the heading that
// starts with heading.
func readmeBlock(t *testing.T, md markdown, heading, lang string) goBlock {
	t.Helper()
	for _, b := range md.blocks {
		if b.lang == lang && strings.HasPrefix(b.heading, heading) {
			return b
		}
	}
	t.Fatalf("README.md has no %s block under a heading %q", lang, heading)
	return goBlock{}
}

// userModule does what a user does: a new module holding the program, the
// Install commands run in it (the clone is the checkout, at the path they
// name under $HOME), and a build. It returns the program's binary.
func userModule(t *testing.T, repo, bin string, program, install goBlock) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := runGo(t, dir, []string{"GOWORK=off"}, "mod", "init", "localdev.example"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "main.go"), program.code)
	// The checkout's checksums, so that only modules it does not use need
	// the checksum database.
	sums, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "go.sum"), string(sums))

	home := t.TempDir()
	clone := regexp.MustCompile(`^git clone \S+ (\S+)$`)
	env := []string{"HOME=" + home, "GOWORK=off"}
	for _, v := range []string{"GOPATH", "GOMODCACHE", "GOCACHE", "GOENV"} { // as before $HOME moved
		out, err := runGo(t, dir, nil, "env", v)
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, v+"="+strings.TrimSpace(out))
	}
	for i, line := range strings.Split(strings.TrimSpace(install.code), "\n") {
		if m := clone.FindStringSubmatch(line); m != nil {
			path := filepath.Join(home, strings.TrimPrefix(m[1], "~/"))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(repo, path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		cmd := exec.CommandContext(t.Context(), "sh", "-ec", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			skipIfOffline(t, fmt.Errorf("%s: %w\n%s", line, err, out))
			t.Fatalf("README.md:%d: %s: %v\n%s", install.line+i, line, err, out)
		}
	}
	app := filepath.Join(bin, "app")
	if _, err := runGo(t, dir, []string{"GOWORK=off"}, "build", "-o", app, "."); err != nil {
		t.Fatal(err)
	}
	return app
}

// start runs a process until the test ends, its output in a buffer shown
// if the test fails.
func start(t *testing.T, name string, args ...string) *syncbuf.Buffer {
	t.Helper()
	var out syncbuf.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(name), out.String())
		}
	})
	return &out
}

// startFakePool runs cmd/cognitotest on a free port with one user and
// returns its Cognito endpoint.
func startFakePool(t *testing.T, bin, user string) string {
	t.Helper()
	out := start(t, bin, "-addr", "127.0.0.1:0", "-user", user)
	re := regexp.MustCompile(`(?m)^cognito endpoint\s+(http://\S+)$`)
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("cmd/cognitotest printed no endpoint within %s", startTimeout)
	return ""
}

// startApp runs an instance of the program on a free port and returns its
// base URL once it answers.
func startApp(t *testing.T, app, endpoint, redisAddr string) string {
	t.Helper()
	port, err := freeport.Loopback(false)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	start(t, app, "-addr", addr, "-cognito-endpoint", endpoint, "-redis-addr", redisAddr)
	url := "http://" + addr
	waitStatus(t, "GET", url+"/me", "", http.StatusUnauthorized)
	return url
}

// signIn signs user in through the AWS SDK (InitiateAuth
// USER_PASSWORD_AUTH) and returns the access token.
func signIn(t *testing.T, endpoint, user, password string) string {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	api := cognitoidentityprovider.NewFromConfig(cfg, func(o *cognitoidentityprovider.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	res, err := api.InitiateAuth(ctx, &cognitoidentityprovider.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(cognitotest.DefaultClientID),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password},
	})
	if err != nil {
		t.Fatalf("sign-in through the SDK: %v", err)
	}
	if res.AuthenticationResult == nil || aws.ToString(res.AuthenticationResult.AccessToken) == "" {
		t.Fatal("sign-in through the SDK: no access token")
	}
	return aws.ToString(res.AuthenticationResult.AccessToken)
}

// status sends a request with the bearer token (none if empty) and returns
// the status, or 0 when the request failed.
func status(t *testing.T, method, url, token string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// waitStatus polls until the request answers want (an instance starting,
// a sign-out reaching it through Redis pub/sub), or fails.
func waitStatus(t *testing.T, method, url, token string, want int) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	var got int
	for time.Now().Before(deadline) {
		if got = status(t, method, url, token); got == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s %s: last status %s, want %d", method, url, fmt.Sprint(got), want)
}

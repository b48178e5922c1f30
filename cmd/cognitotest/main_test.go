package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

// TestRun starts the command on a free port, parses what it prints and
// checks it works as advertised: a Verifier built from the printed
// examples/api flags accepts every printed token as its user's, and a user
// signs in with its password at the printed Cognito endpoint.
func TestRun(t *testing.T) {
	checkGoroutines(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncbuf.Buffer{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-api-addr", "127.0.0.1:9999",
			"-user", "carol:Carol-pw-1:admin,ops", "-user", "dave.x"}, out, io.Discard)
	}()
	got := waitFor(t, out, errc, "Users:")

	line := regexp.MustCompile(`(?m)^AWS_ACCESS_KEY_ID=fake AWS_SECRET_ACCESS_KEY=fake go run ./examples/api (.*)$`).FindStringSubmatch(got)
	if line == nil {
		t.Fatalf("no examples/api command line in:\n%s", got)
	}
	api := parseAPIFlags(t, strings.Fields(line[1]))
	if api.addr != "127.0.0.1:9999" || !strings.HasPrefix(api.endpoint, "http://127.0.0.1:") ||
		api.issuer != api.endpoint+"/"+api.poolID || !strings.Contains(got, "issuer            "+api.issuer+"\n") {
		t.Fatalf("examples/api flags %+v do not match the printed pool:\n%s", api, got)
	}

	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: api.poolID, Issuers: []string{api.issuer}, ClientIDs: []string{api.clientID}}}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tokens := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(TOKEN_\w+)='([A-Za-z0-9_.-]+)'$`).FindAllStringSubmatch(got, -1) {
		tokens[m[1]] = m[2]
	}
	for name, want := range map[string]struct {
		user   string
		groups []string
	}{"TOKEN_CAROL": {"carol", []string{"admin", "ops"}}, "TOKEN_DAVE_X": {"dave.x", nil}} {
		c, err := v.Verify(ctx, tokens[name])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.Username != want.user || !slices.Equal(c.Groups, want.groups) || c.UserPoolID != api.poolID {
			t.Errorf("%s: user %q groups %q pool %q, want %q %q %q", name, c.Username, c.Groups, c.UserPoolID, want.user, want.groups, api.poolID)
		}
	}
	if len(tokens) != 2 {
		t.Errorf("tokens printed: %d, want 2", len(tokens))
	}

	signIn(t, api, "carol", "Carol-pw-1")

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if !strings.HasSuffix(out.String(), "Stopped.\n") {
		t.Errorf("output does not end with Stopped.")
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(api.endpoint, "http://"), time.Second); err == nil {
		c.Close()
		t.Errorf("the pool still listens on %s after the run", api.endpoint)
	}
}

// TestDefaultUsers: without -user, alice (admin) and bob.
func TestDefaultUsers(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncbuf.Buffer{}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"-addr", "127.0.0.1:0"}, out, io.Discard) }()
	got := waitFor(t, out, errc, "Users:")
	for _, want := range []string{"\nTOKEN_ALICE='", "\nTOKEN_BOB='", `alice            password "Alice-Passw0rd!"  groups admin`, "http://127.0.0.1:8080/me"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	cancel()
	<-errc
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"not loopback", []string{"-addr", ":0"}, "not a loopback address"},
		{"bad address", []string{"-addr", "127.0.0.1:x"}, "x"},
		{"empty user", []string{"-user", ":pw"}, "non-empty NAME"},
		{"user twice", []string{"-user", "a", "-user", "a"}, "given twice"},
		{"variables clash", []string{"-user", "a-b", "-user", "a.b"}, "clash"},
		{"bad pool id", []string{"-pool-id", "pool"}, "-pool-id"},
		{"bad client id", []string{"-client-id", "a,b"}, "-client-id"},
		{"bad ttl", []string{"-token-ttl", "0s"}, "-token-ttl"},
		{"bad callback", []string{"-callback-url", "/cb"}, "absolute http"},
		{"bad logout", []string{"-logout-url", "javascript:alert(1)"}, "absolute http"},
		{"argument", []string{"alice"}, "unexpected"},
		{"unknown flag", []string{"-nope"}, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(t.Context(), tc.args, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
				t.Errorf("run(%q) = %v (stderr %q), want an error about %q", tc.args, err, stderr.String(), tc.want)
			}
		})
	}
}

// apiFlags are the flags of the printed examples/api command line.
type apiFlags struct{ addr, poolID, clientID, issuer, endpoint string }

// parseAPIFlags parses args as examples/api would (its flags of those
// names), failing on any other.
func parseAPIFlags(t *testing.T, args []string) apiFlags {
	t.Helper()
	var f apiFlags
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.addr, "addr", "", "")
	fs.StringVar(&f.poolID, "user-pool-id", "", "")
	fs.StringVar(&f.clientID, "client-id", "", "")
	fs.StringVar(&f.issuer, "issuer", "", "")
	fs.StringVar(&f.endpoint, "cognito-endpoint", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		t.Fatalf("examples/api flags %q: %v", args, err)
	}
	return f
}

// signIn signs user in with the real SDK at the printed endpoint.
func signIn(t *testing.T, api apiFlags, user, password string) {
	t.Helper()
	client := cognitoidentityprovider.New(cognitoidentityprovider.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(api.endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("fake", "fake", ""),
		RetryMaxAttempts: 1,
	})
	res, err := client.InitiateAuth(t.Context(), &cognitoidentityprovider.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(api.clientID),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password},
	})
	if err != nil || res.AuthenticationResult == nil || res.AuthenticationResult.AccessToken == nil {
		t.Fatalf("%s signs in at %s: %v", user, api.endpoint, err)
	}
}

// waitFor waits until out contains marker and returns the output.
func waitFor(t *testing.T, out *syncbuf.Buffer, errc <-chan error, marker string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), marker) {
		select {
		case err := <-errc:
			t.Fatalf("run returned early: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q after 30s:\n%s", marker, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Everything up to "Stopped." is printed in one Write.
	return out.String()
}

// checkGoroutines fails the test if goroutines it started outlive it.
func checkGoroutines(t *testing.T) { leaktest.Check(t) }

// TestLoopbackHostsOnly: the pool answers only requests addressed to a
// loopback name and, when they carry an Origin, sent by a loopback page,
// so that a web page of another site cannot reach it through DNS
// rebinding or a cross-site form, while a single-page app under test on
// localhost still can.
func TestLoopbackHostsOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncbuf.Buffer{}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"-addr", "127.0.0.1:0"}, out, io.Discard) }()
	got := waitFor(t, out, errc, "Users:")
	m := regexp.MustCompile(`(?m)^jwks +(http://(127\.0\.0\.1:\d+)\S*)$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no jwks line in:\n%s", got)
	}
	jwks, port := m[1], strings.Split(m[2], ":")[1]
	for _, tc := range []struct {
		name, host, origin string
		want               int
	}{
		{"loopback IP", "", "", http.StatusOK},
		{"localhost", "localhost:" + port, "", http.StatusOK},
		{"sub.localhost", "auth.localhost:" + port, "", http.StatusOK},
		{"other loopback IP", "127.0.0.2:" + port, "", http.StatusOK},
		{"IPv6 loopback", "[::1]:" + port, "", http.StatusOK},
		{"SPA on localhost", "", "http://localhost:3000", http.StatusOK},
		{"SPA on 127.0.0.1", "", "http://127.0.0.1:5173", http.StatusOK},
		{"rebound name", "evil.example:" + port, "", http.StatusForbidden},
		{"rebound name without port", "evil.example", "", http.StatusForbidden},
		{"localhost look-alike", "localhost.evil.example:" + port, "", http.StatusForbidden},
		{"public IP", "203.0.113.7:" + port, "", http.StatusForbidden},
		{"foreign origin", "", "https://evil.example", http.StatusForbidden},
		{"opaque origin", "", "null", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, jwks, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("Host %q Origin %q: %s, want %d", tc.host, tc.origin, res.Status, tc.want)
			}
		})
	}
	cancel()
	<-errc
}

// TestManagedLogin: with -callback-url, the printed endpoints sign a user
// in through the managed login (PKCE) and the token verifies.
func TestManagedLogin(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncbuf.Buffer{}
	errc := make(chan error, 1)
	const cb = "http://localhost:3000/cb"
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-user", "carol:Carol-pw-1", "-callback-url", cb, "-logout-url", "http://localhost:3000/"}, out, io.Discard)
	}()
	got := waitFor(t, out, errc, "Users:")
	m := regexp.MustCompile(`(?m)^authorize +(\S+) \(callback ` + regexp.QuoteMeta(cb) + `\)\ntoken +(\S+)\nlogout +(\S+)$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no OAuth endpoints in:\n%s", got)
	}
	authorize, tokenURL := m[1], m[2]
	sum := sha256.Sum256([]byte(strings.Repeat("v", 43)))
	q := url.Values{"response_type": {"code"}, "client_id": {"cognitotest-client"}, "redirect_uri": {cb},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), cb) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := c.Get(authorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("login page %s: %s", res.Status, page)
	}
	res, err = c.PostForm(res.Request.URL.String(), url.Values{"username": {"carol"}, "password": {"Carol-pw-1"}, "_csrf": {string(csrf[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	res, err = http.PostForm(tokenURL, url.Values{"grant_type": {"authorization_code"}, "client_id": {"cognitotest-client"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {cb}, "code_verifier": {strings.Repeat("v", 43)}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("token: %s %v", res.Status, err)
	}
	issuer := regexp.MustCompile(`(?m)^issuer +(\S+)$`).FindStringSubmatch(got)[1]
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: cognitotest.DefaultPoolID, Issuers: []string{issuer}, ClientIDs: []string{"cognitotest-client"}}}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if cl, err := v.Verify(ctx, tok.AccessToken); err != nil || cl.Username != "carol" {
		t.Fatalf("managed-login token: %+v, %v", cl, err)
	}
	cancel()
	<-errc
}

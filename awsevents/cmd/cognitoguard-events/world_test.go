//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/awsevents/internal/fauxqs"
	"github.com/cognitoguard/cognitoguard/awsevents/internal/pattern"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/freeport"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// The binaries the end-to-end tests run, built once by buildOnce.
var (
	buildOnce        sync.Once
	buildErr         error
	consumerBin, api string
)

// binaries builds cognitoguard-events and examples/api into a temporary
// directory (removed by TestMain).
func binaries(t *testing.T) (consumer, apiBin string) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cognitoguard-events-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the end-to-end tests build the commands: %w", err)
			return
		}
		consumerBin, api = filepath.Join(dir, "cognitoguard-events"), filepath.Join(dir, "api")
		for out, pkg := range map[string]string{consumerBin: ".", api: "github.com/cognitoguard/cognitoguard/examples/api"} {
			cmd := exec.Command(gobin, "build", "-o", out, pkg)
			if b, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return consumerBin, api
}

var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// proc is a process the test started, in its own process group.
type proc struct {
	cmd    *exec.Cmd
	out    *syncbuf.Buffer
	exited chan struct{}
}

func startProc(t *testing.T, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: &syncbuf.Buffer{}, exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- %s %s ---\n%s", filepath.Base(bin), strings.Join(args, " "), lastLines(p.out.String(), 60))
		}
	})
	return p
}

// kill sends SIGKILL to p's group and waits for it.
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit status %d after SIGTERM\n%s", code, lastLines(p.out.String(), 40))
		}
	case <-time.After(30 * time.Second):
		t.Errorf("no exit 30 s after SIGTERM")
		p.kill()
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// world is everything the end-to-end tests run: a redis-server, fauxqs
// with the queue (visibility 1 s, maxReceiveCount 3), fake pools whose
// CloudTrail records are filtered by the template's rule and sent to the
// queue, two examples/api instances of pool A, and the consumer.
type world struct {
	t             *testing.T
	redisAddr     string
	sqs           *fauxqs.Server
	q             fauxqs.Queue
	rule          pattern.Pattern
	sent          atomic.Int64 // messages sent to the queue
	reader        *redisstore.Store
	apis          []string // base URLs
	consumerProxy *redistest.Proxy
	consumer      *proc
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t}
	w.redisAddr, _ = redistest.Server(t)
	w.sqs = fauxqs.Start(t)
	w.q = w.sqs.CreateQueue(t, "signouts", fauxqs.QueueConfig{Visibility: time.Second, MaxReceive: 3})
	w.rule = templatePattern(t)
	client := redis.NewClient(&redis.Options{Addr: w.redisAddr})
	t.Cleanup(func() { client.Close() })
	var err error
	if w.reader, err = redisstore.New(client, redisstore.Config{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.reader.Close() })
	w.consumerProxy = redistest.NewProxy(t, w.redisAddr)
	return w
}

// templatePattern is the rule's event pattern from the template.
func templatePattern(t *testing.T) pattern.Pattern {
	t.Helper()
	i := bytes.Index(awsevents.Template, []byte(`"EventPattern": `))
	if i < 0 {
		t.Fatal("template has no EventPattern")
	}
	rest := awsevents.Template[i+len(`"EventPattern": `):]
	depth := 0
	for j, c := range rest {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				p, err := pattern.Parse(rest[:j+1])
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
		}
	}
	t.Fatal("unterminated EventPattern")
	return nil
}

// forward is the EventBridge rule and target: a CloudTrail record the
// rule's pattern matches is wrapped and sent to the queue.
func (w *world) forward(record []byte) {
	body, err := events.Wrap(record, fmt.Sprintf("e2e-%d", time.Now().UnixNano()), "123456789012")
	if err != nil {
		w.t.Errorf("wrap: %v", err)
		return
	}
	if ok, err := w.rule.Match(body); err != nil || !ok {
		return
	}
	w.sendRaw(string(body))
}

// sendRaw sends body to the queue as is.
func (w *world) sendRaw(body string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.sqs.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.q.URL, MessageBody: aws.String(body)}); err != nil {
		w.t.Errorf("SendMessage: %v", err)
		return
	}
	w.sent.Add(1)
}

// sendBatch sends bodies to the queue, ten per request.
func (w *world) sendBatch(bodies []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(bodies) > 0 {
		n := min(10, len(bodies))
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i, b := range bodies[:n] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)})
		}
		out, err := w.sqs.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &w.q.URL, Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			w.t.Fatalf("SendMessageBatch: %v %+v", err, out)
		}
		w.sent.Add(int64(n))
		bodies = bodies[n:]
	}
}

// env is the consumer's environment: static AWS credentials, no IMDS.
var env = []string{"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_EC2_METADATA_DISABLED=true",
	"AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}

// startConsumer runs cognitoguard-events run as the README says, on the
// queue, through the consumer's Redis proxy, with extra flags.
func (w *world) startConsumer(pools []string, extra ...string) {
	w.t.Helper()
	bin, _ := binaries(w.t)
	args := append([]string{"run",
		"-user-pool-id", strings.Join(pools, ","),
		"-redis-addr", w.consumerProxy.Addr(),
		"-queue-url", w.q.URL, "-sqs-endpoint", w.sqs.URL,
		"-visibility", "1s", "-wait-time", "1s", "-reconcile-every", "0", "-stats-every", "200ms",
	}, extra...)
	w.consumer = startProc(w.t, env, bin, args...)
	waitFor(w.t, 30*time.Second, "consumer did not log consuming", func() bool {
		return strings.Contains(w.consumer.out.String(), `"msg":"consuming"`)
	})
}

// startAPI runs an examples/api instance of pool on redis.
func (w *world) startAPI(pool *cognitotest.Pool) string {
	w.t.Helper()
	_, bin := binaries(w.t)
	port, err := freeport.Loopback(false)
	if err != nil {
		w.t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	startProc(w.t, env, bin, "-addr", addr, "-user-pool-id", pool.PoolID(), "-client-id", pool.ClientID(),
		"-issuer", pool.Issuer(), "-cognito-endpoint", pool.URL(), "-redis-addr", w.redisAddr, "-token-use", "any")
	url := "http://" + addr
	waitFor(w.t, 30*time.Second, "api not healthy", func() bool { return status(url+"/healthz", "") == http.StatusOK })
	w.apis = append(w.apis, url)
	return url
}

var hc = &http.Client{Timeout: 10 * time.Second}

// status is the status of GET url with the bearer token.
func status(url, token string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// queued and dead are the messages in the queue and in its DLQ.
func (w *world) queued() int { return w.sqs.Counts(w.t, w.q.Name).Total() }
func (w *world) dead() int   { return w.sqs.Counts(w.t, w.q.DLQ.Name).Total() }

// signedOutAt reads the store.
func (w *world) signedOutAt(pool, sub string) (time.Time, bool) {
	w.t.Helper()
	at, ok, err := w.reader.SignedOutAt(w.t.Context(), pool, sub)
	if err != nil {
		w.t.Fatal(err)
	}
	return at, ok
}

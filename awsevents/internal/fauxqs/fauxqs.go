//go:build unix

// Package fauxqs starts fauxqs (npm, pinned 1.9.2), an SQS emulator written
// by other people, for tests: a real SQS JSON-protocol server that the real
// aws-sdk-go-v2 client talks to, with long polling, visibility timeouts,
// ChangeMessageVisibility, GetQueueAttributes and redrive policies
// (maxReceiveCount, dead-letter queue).
//
// # Running
//
// Tests look for the package in $FAUXQS_DIR (a directory holding
// node_modules/fauxqs), else in $HOME/.cache/cognitoguard/fauxqs. To install
// it there (node 20; fauxqs 2.x needs node ≥ 22.5):
//
//	mkdir -p ~/.cache/cognitoguard/fauxqs
//	cd ~/.cache/cognitoguard/fauxqs
//	npm init -y >/dev/null && npm install fauxqs@1.9.2
//
// Each [Start] runs its own server on a free port, in its own process group,
// stopped when the test ends. Without node or the package the test is
// skipped, unless COGNITOGUARD_INTEGRATION=1, which makes that a failure.
//
// # What fauxqs does (read in its source, dist/sqs/)
//
//   - A redrive policy moves a message to the dead-letter queue when a
//     ReceiveMessage finds it with a receive count above maxReceiveCount,
//     as SQS does: only a receive moves it.
//   - Expired visibility timeouts are processed on every receive and every
//     20 ms while a long poll waits.
//   - ChangeMessageVisibility of a handle that is not in flight answers
//     MessageNotInflight; DeleteMessage of an unknown handle succeeds.
//   - It listens on every interface (0.0.0.0), whatever the URL says.
//
// It is a non-test package so that the tests of every package of the
// module can use it.
package fauxqs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitoguard/cognitoguard/internal/freeport"
)

// Version is the fauxqs release the tests are written against.
const Version = "1.9.2"

// Region is the region the clients sign for; fauxqs builds queue ARNs
// with it.
const Region = "us-east-1"

// readyTimeout bounds the wait for GET /health (under a second on an idle
// machine; CI machines are shared).
const readyTimeout = 30 * time.Second

// Server is one running fauxqs.
type Server struct {
	URL    string      // http://127.0.0.1:PORT
	Client *sqs.Client // the test's own client (not the consumer's)
	out    *headBuffer
}

// unavailable skips t, or fails it under COGNITOGUARD_INTEGRATION=1.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("COGNITOGUARD_INTEGRATION") == "1" {
		t.Fatalf("fauxqs unavailable with COGNITOGUARD_INTEGRATION=1: %s", msg)
	}
	t.Skipf("fauxqs unavailable: %s (install: see package doc; COGNITOGUARD_INTEGRATION=1 makes this a failure)", msg)
}

// cliJS finds fauxqs's command-line entry point.
func cliJS(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FAUXQS_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			unavailable(t, "no FAUXQS_DIR and no home directory: %v", err)
		}
		dir = filepath.Join(home, ".cache", "cognitoguard", "fauxqs")
	}
	js := filepath.Join(dir, "node_modules", "fauxqs", "dist", "cli.js")
	if _, err := os.Stat(js); err != nil {
		unavailable(t, "fauxqs@%s not installed in %s: %v", Version, dir, err)
	}
	return js
}

// Start runs a fresh fauxqs for t on a free loopback port and returns it
// once GET /health answers. It is stopped, with its process group, when t
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node not on PATH")
	}
	js := cliJS(t)
	var last error
	for range 3 { // a free port can be taken before node binds it
		s, err := launch(t, node, js)
		if err == nil {
			return s
		}
		last = err
	}
	t.Fatalf("starting fauxqs: %v", last)
	return nil
}

func launch(t testing.TB, node, js string) (*Server, error) {
	port, err := freeport.Loopback(false)
	if err != nil {
		return nil, err
	}
	out := &headBuffer{}
	cmd := exec.Command(node, js)
	cmd.Env = append(os.Environ(), "FAUXQS_PORT="+strconv.Itoa(port), "FAUXQS_LOGGER=false",
		"FAUXQS_HOST=localhost", "FAUXQS_DEFAULT_REGION="+Region)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHealthy(t, url, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w\n--- fauxqs output ---\n%s", err, out)
	}
	select {
	case <-exited: // someone else answered on our port
		return nil, fmt.Errorf("fauxqs exited after %s answered\n--- fauxqs output ---\n%s", url, out)
	default:
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("--- fauxqs output (requests left out) ---\n%s", out.notable())
		}
	})
	return &Server{URL: url, Client: NewClient(url), out: out}, nil
}

// NewClient returns an SQS client for the fauxqs at url, with static
// credentials, the SDK's retries, an HTTP client with a 30 s timeout
// (above the longest long poll), and optFns applied.
func NewClient(url string, optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("x", "x", ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
	}, optFns...)
}

// waitHealthy polls url/health until it answers 200, the process exits,
// or readyTimeout passes.
func waitHealthy(t testing.TB, url string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
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
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"ok"`)) {
				return nil
			}
			last = fmt.Errorf("GET /health: %d %q", resp.StatusCode, body)
		} else {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("fauxqs exited before it was ready (last: %v)", last)
		case <-ctx.Done():
			return fmt.Errorf("fauxqs not ready after %v: %v", readyTimeout, last)
		case <-tick.C:
		}
	}
}

// Queue is a queue with its dead-letter queue.
type Queue struct {
	Name, URL, ARN string
	DLQ            struct{ Name, URL, ARN string }
}

// QueueConfig shapes [Server.CreateQueue].
type QueueConfig struct {
	Visibility time.Duration // default 30 s; whole seconds
	MaxReceive int           // redrive maxReceiveCount; default 3
}

// CreateQueue creates name and name-dlq, the first redriving to the
// second after cfg.MaxReceive receives.
func (s *Server) CreateQueue(t testing.TB, name string, cfg QueueConfig) Queue {
	t.Helper()
	if cfg.Visibility == 0 {
		cfg.Visibility = 30 * time.Second
	}
	if cfg.MaxReceive == 0 {
		cfg.MaxReceive = 3
	}
	var q Queue
	q.Name, q.DLQ.Name = name, name+"-dlq"
	q.DLQ.URL, q.DLQ.ARN = s.create(t, q.DLQ.Name, nil)
	policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": q.DLQ.ARN, "maxReceiveCount": cfg.MaxReceive})
	q.URL, q.ARN = s.create(t, name, map[string]string{
		"VisibilityTimeout": strconv.Itoa(int(cfg.Visibility / time.Second)),
		"RedrivePolicy":     string(policy),
	})
	return q
}

func (s *Server) create(t testing.TB, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := s.Client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	a, err := s.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
}

// Counts are the messages of one queue, by state, read from fauxqs's
// inspection endpoint (which is not an SQS call: it neither moves
// visibility timeouts nor the redrive).
type Counts struct {
	Visible, InFlight, Delayed int
}

// Total is every message the queue holds.
func (c Counts) Total() int { return c.Visible + c.InFlight + c.Delayed }

// Counts returns the counts of the queue called name.
func (s *Server) Counts(t testing.TB, name string) Counts {
	t.Helper()
	resp, err := http.Get(s.URL + "/_fauxqs/queues")
	if err != nil {
		t.Fatalf("fauxqs queues: %v", err)
	}
	defer resp.Body.Close()
	var qs []struct {
		Name                     string
		ApproximateMessageCount  int
		ApproximateInflightCount int
		ApproximateDelayedCount  int
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&qs); err != nil {
		t.Fatalf("fauxqs queues: %v", err)
	}
	for _, q := range qs {
		if q.Name == name {
			return Counts{q.ApproximateMessageCount, q.ApproximateInflightCount, q.ApproximateDelayedCount}
		}
	}
	t.Fatalf("fauxqs has no queue %q", name)
	return Counts{}
}

// headBuffer keeps the first 64 KiB of the server's output.
type headBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *headBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

// notable is the output without the per-request lines.
func (l *headBuffer) notable() string {
	var b strings.Builder
	for line := range strings.Lines(l.String()) {
		if !strings.Contains(line, `"msg":"incoming request"`) && !strings.Contains(line, `"msg":"request completed"`) {
			b.WriteString(line)
		}
	}
	return b.String()
}

func (l *headBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

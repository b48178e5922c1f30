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
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitoguard/cognitoguard/internal/nodeproc"
)

// Version is the fauxqs release the tests are written against.
const Version = "1.9.2"

// Region is the region the clients sign for; fauxqs builds queue ARNs
// with it.
const Region = "us-east-1"

// Server is one running fauxqs.
type Server struct {
	URL    string      // http://127.0.0.1:PORT
	Client *sqs.Client // the test's own client (not the consumer's)
}

// spec is how fauxqs is run.
var spec = nodeproc.Spec{
	Name: "fauxqs", Version: Version, DirEnv: "FAUXQS_DIR", Script: "dist/cli.js",
	Env: func(port int) []string {
		return []string{"FAUXQS_PORT=" + strconv.Itoa(port), "FAUXQS_LOGGER=false",
			"FAUXQS_HOST=localhost", "FAUXQS_DEFAULT_REGION=" + Region}
	},
	Ready:   func(body []byte) bool { return bytes.Contains(body, []byte(`"ok"`)) },
	Notable: notable,
}

// Start runs a fresh fauxqs for t on a free loopback port and returns it
// once GET /health answers. It is stopped, with its process group, when t
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	p := nodeproc.Start(t, spec)
	return &Server{URL: p.URL, Client: NewClient(p.URL)}
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

// notable is fauxqs's output without the per-request lines.
func notable(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if !strings.Contains(line, `"msg":"incoming request"`) && !strings.Contains(line, `"msg":"request completed"`) {
			b.WriteString(line)
		}
	}
	return b.String()
}

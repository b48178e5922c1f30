//go:build unix

package awsevents_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/awsevents/internal/fauxqs"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// benchEvents is the number of messages each throughput round drains.
const benchEvents = 2000

// sendBatch fills q with bodies, ten per request.
func sendBatch(b testing.TB, s *fauxqs.Server, q fauxqs.Queue, bodies []string) {
	b.Helper()
	for len(bodies) > 0 {
		n := min(10, len(bodies))
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i, body := range bodies[:n] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(body)})
		}
		if out, err := s.Client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: &q.URL, Entries: entries}); err != nil || len(out.Failed) > 0 {
			b.Fatalf("SendMessageBatch: %v", err)
		}
		bodies = bodies[n:]
	}
}

// redisStore is a revocation store on a fresh redis-server.
func redisStore(b testing.TB, addr string) *redisstore.Store {
	b.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr})
	rs, err := redisstore.New(client, redisstore.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rs.Close(); client.Close() })
	if err := rs.Ready(context.Background()); err != nil {
		b.Fatal(err)
	}
	return rs
}

// countingRecorder counts the writes of a store.
type countingRecorder struct {
	*redisstore.Store
	n atomic.Int64
}

func (c *countingRecorder) RevokeUser(ctx context.Context, pool, sub string, at time.Time) error {
	err := c.Store.RevokeUser(ctx, pool, sub, at)
	if err == nil {
		c.n.Add(1)
	}
	return err
}

// BenchmarkConsumerThroughput reports the sign-outs per second one
// consumer (Run over SQS, a Redis store on redis-server) applies from
// fauxqs, with one DeleteMessageBatch per received batch (what Run does)
// and with one DeleteMessage per message, and, in the same run, fauxqs's
// own ceiling: bare loops of ReceiveMessage (10) and the same deletes with
// no work between them.
func BenchmarkConsumerThroughput(b *testing.B) {
	s := fauxqs.Start(b)
	addr, _ := redistest.Server(b)
	rates := map[string][]float64{}
	for round := 0; b.Loop(); round++ {
		for _, batch := range []bool{true, false} {
			suffix := "-single"
			if batch {
				suffix = ""
			}
			rates["fauxqs-ceiling"+suffix] = append(rates["fauxqs-ceiling"+suffix], drainRate(b, s, fmt.Sprintf("ceil%s-%d", suffix, round), batch))
			rates["events"+suffix] = append(rates["events"+suffix], consumerRate(b, s, addr, fmt.Sprintf("cons%s-%d", suffix, round), batch))
		}
	}
	for name, v := range rates {
		b.ReportMetric(median(v), name+"/s")
	}
	b.ReportMetric(0, "ns/op")
}

// fill creates a queue holding benchEvents sign-outs of distinct subs.
func fill(b *testing.B, s *fauxqs.Server, name string) fauxqs.Queue {
	q := s.CreateQueue(b, name, fauxqs.QueueConfig{})
	bodies := make([]string, benchEvents)
	now := time.Now()
	for i := range bodies {
		bodies[i] = body(b, "AdminUserGlobalSignOut", fmt.Sprintf("%s-%d", name, i), now)
	}
	sendBatch(b, s, q, bodies)
	return q
}

// drainRate is the rate of a bare receive-and-delete loop.
func drainRate(b *testing.B, s *fauxqs.Server, name string, batch bool) float64 {
	q := fill(b, s, name)
	sq := consumerQueue(b, s, q, awsevents.SQSConfig{WaitTime: time.Second})
	start := time.Now()
	for got := 0; got < benchEvents; {
		msgs, err := sq.Receive(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if batch {
			err = sq.DeleteBatch(context.Background(), msgs)
		}
		for _, m := range msgs {
			if !batch && err == nil {
				err = sq.Delete(context.Background(), m)
			}
		}
		if err != nil {
			b.Fatal(err)
		}
		got += len(msgs)
	}
	return benchEvents / time.Since(start).Seconds()
}

// oneByOne hides the queue's DeleteBatch: Run then deletes each message
// with its own request.
type oneByOne struct{ events.Queue }

// consumerRate is the rate at which one consumer applies the queue's
// sign-outs, deleted with or without batches.
func consumerRate(b *testing.B, s *fauxqs.Server, addr, name string, batch bool) float64 {
	q := fill(b, s, name)
	rec := &countingRecorder{Store: redisStore(b, addr)}
	c, err := events.New(rec, []events.Pool{{ID: tdPool}}, events.Config{})
	if err != nil {
		b.Fatal(err)
	}
	var sq events.Queue = consumerQueue(b, s, q, awsevents.SQSConfig{WaitTime: time.Second})
	if !batch {
		sq = oneByOne{sq}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- c.Run(ctx, sq) }()
	for rec.n.Load() < benchEvents {
		time.Sleep(time.Millisecond)
	}
	rate := benchEvents / time.Since(start).Seconds()
	cancel()
	<-done
	if left := s.Counts(b, q.Name).Total(); left != 0 {
		b.Fatalf("%d messages left after the consumer stopped", left)
	}
	return rate
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// BenchmarkVisibleToRejected reports, per sign-out, the time from its
// message being visible in the queue (SendMessage returned) to its user's
// token being rejected by two service instances (two Redis stores with
// their views, as two examples/api processes hold them), through one
// consumer long-polling fauxqs: p50 and p99 over b.N sign-outs sent one
// at a time.
func BenchmarkVisibleToRejected(b *testing.B) {
	s := fauxqs.Start(b)
	addr, _ := redistest.Server(b)
	q := s.CreateQueue(b, "latency", fauxqs.QueueConfig{})
	instances := []*redisstore.Store{redisStore(b, addr), redisStore(b, addr)}
	c, err := events.New(redisStore(b, addr), []events.Pool{{ID: tdPool}}, events.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, consumerQueue(b, s, q, awsevents.SQSConfig{})) }()
	defer func() { cancel(); <-done }()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		sub := fmt.Sprintf("latency-%d", i)
		claims := &cognitoguard.Claims{UserPoolID: tdPool, Subject: sub, AuthTime: time.Now().Add(-time.Minute).Truncate(time.Second)}
		msg := body(b, "AdminUserGlobalSignOut", sub, time.Now())
		if _, err := s.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.URL, MessageBody: aws.String(msg)}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for _, in := range instances {
			for {
				revoked, err := in.Revoked(ctx, claims)
				if err != nil {
					b.Fatal(err)
				}
				if revoked {
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

package redisstore_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// forge publishes a raw sign-out message for sub on its channel, as any
// client with PUBLISH rights could.
func forge(t *testing.T, c *redis.Client, sub string, fields ...string) {
	t.Helper()
	msg := strings.Join(fields, "\x00")
	if err := c.Publish(t.Context(), redisstore.ChannelForTest(redisstore.DefaultPrefix, testPool, sub), msg).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestRedisMessagesBounded: a client that can only PUBLISH cannot lock a
// user out beyond the times a sign-out may carry, nor pin large messages
// in every instance: a time past now + revocation.MaxAhead and oversized
// fields are ignored (and counted), never applied to the view or the
// journal (issue 19 item 4).
func TestRedisMessagesBounded(t *testing.T) {
	s, c, _ := miniStore(t, redisstore.Config{})
	ctx := t.Context()
	now := time.Now()
	later := now.Add(time.Hour)                                  // a sign-in after the forged "sign-out"
	mustRevoked(t, ctx, s, claims(testPool, "alice", later, "")) // known user: cached "no record"
	mustRevoked(t, ctx, s, claims(testPool, "bob", later, ""))
	century := strconv.FormatInt(now.AddDate(100, 0, 0).UnixMilli(), 10)
	forge(t, c, "alice", "2", "u", century, testPool, "alice")
	forge(t, c, "bob", "2", "u", strconv.FormatInt(now.UnixMilli(), 10), testPool, "bob"+strings.Repeat("x", 1<<20))
	eventually(t, 2*time.Second, "both messages received", func() bool { return s.Stats().Messages >= 2 })
	if mustRevoked(t, ctx, s, claims(testPool, "alice", later, "")) {
		t.Error("a forged sign-out a century ahead locks alice out")
	}
	if st := s.Stats(); st.Ignored != 2 {
		t.Errorf("Stats.Ignored = %d, want 2 (the century and the 1 MiB sub)", st.Ignored)
	}
	if err := s.RevokeUser(ctx, testPool, "carol", now.Add(time.Hour)); err == nil || errors.Is(err, revocation.ErrUnavailable) {
		t.Errorf("RevokeUser an hour ahead = %v, want an argument error", err)
	}
	if err := s.RevokeUser(ctx, testPool, strings.Repeat("x", 2000), now); err == nil {
		t.Error("RevokeUser with a 2000-byte sub: no error")
	}
}

// TestRedisAcksOnlyOwnChannelDistinctResponders: with WaitInstances, an
// acknowledgement counts only on the requester's own channel and once per
// responder: a subscriber that read the nonce cannot confirm a sign-out
// by acknowledging on the sign-out channel, nor twice (issue 19 item 4).
func TestRedisAcksOnlyOwnChannelDistinctResponders(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { client.Close() })
	ctx := t.Context()
	channel := redisstore.ChannelForTest(redisstore.DefaultPrefix, testPool, "sub-1")
	silent := client.Subscribe(ctx, channel) // receives, never acknowledges honestly
	t.Cleanup(func() { silent.Close() })
	if _, err := silent.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	a := newRedisStore(t, client, redisstore.Config{WaitInstances: true, Timeout: 300 * time.Millisecond})
	go func() { // the forger: acknowledges every request it reads, wherever it can
		for {
			m, err := silent.ReceiveMessage(ctx)
			if err != nil {
				return
			}
			f := strings.Split(m.Payload, "\x00")
			if len(f) != 7 {
				continue
			}
			id, nonce := f[5], f[6]
			ownChannel := redisstore.AckChannelForTest(redisstore.DefaultPrefix, testPool, "sub-1", id)
			_ = client.Publish(ctx, channel, "2\x00a\x00forger\x00"+nonce).Err() // on the sign-out channel
			for range 2 {                                                        // twice as the requester itself
				_ = client.Publish(ctx, ownChannel, "2\x00a\x00"+id+"\x00"+nonce).Err()
			}
		}
	}()
	err := a.RevokeUser(ctx, testPool, "sub-1", time.Now())
	if !errors.Is(err, revocation.ErrUnconfirmed) {
		t.Fatalf("RevokeUser = %v, want ErrUnconfirmed: the silent subscriber never applied it", err)
	}
}

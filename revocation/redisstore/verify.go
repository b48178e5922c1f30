package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// verifyQueue bounds the sign-out messages waiting to be checked against
// Redis, and verifyBatch those checked in one pipeline.
const (
	verifyQueue = 1024
	verifyBatch = 64
)

// verifier keeps the journal to what Redis held: a sign-out message is a
// hint (anyone with PUBLISH rights can send one), so before the journal
// keeps it, the verifier re-reads the user's field from Redis, on a
// goroutine of its own, and journals the time Redis returned. A message
// whose time Redis does not hold (forged, or Redis lost it) is not
// journaled; it, a queue overflow and a failed read each mark a gap, so a
// data loss soon after is healed with a floor rather than trusted to the
// journal. Messages waiting here make the journal incomplete too.
type verifier struct {
	client  redis.UniversalClient
	wire    wire
	run     *runner
	journal *journal
	now     func() time.Time
	log     *slog.Logger

	q      chan journalEntry
	unheld atomic.Uint64 // messages whose time Redis did not hold
}

func newVerifier(client redis.UniversalClient, w wire, run *runner, j *journal, now func() time.Time, log *slog.Logger) *verifier {
	return &verifier{client: client, wire: w, run: run, journal: j, now: now, log: log, q: make(chan journalEntry, verifyQueue)}
}

// heard queues a received sign-out for checking; when the queue is full
// it is dropped from the journal, which is then complete only from now on.
func (v *verifier) heard(k userKey, jti string, t int64) {
	e := journalEntry{userKey{Pool: strings.Clone(k.Pool), Sub: strings.Clone(k.Sub)}, strings.Clone(jti), t}
	v.journal.hear(1)
	select {
	case v.q <- e:
	default:
		v.journal.hear(-1)
		v.journal.gap(v.now().UnixMilli())
	}
}

// loop checks the queued messages in batches until Close.
func (v *verifier) loop() {
	for {
		var first journalEntry
		select {
		case <-v.run.ctx.Done():
			return
		case first = <-v.q:
		}
		batch := []journalEntry{first}
		for more := true; more && len(batch) < verifyBatch; {
			select {
			case e := <-v.q:
				batch = append(batch, e)
			default:
				more = false
			}
		}
		v.verify(batch)
	}
}

// verify reads the fields of batch from Redis in one pipeline and
// journals what Redis held.
func (v *verifier) verify(batch []journalEntry) {
	ctx, cancel := context.WithTimeout(v.run.ctx, v.run.timeout)
	defer cancel()
	cmds := make([]*redis.StringCmd, len(batch))
	_, _ = v.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range batch {
			key, _ := v.wire.key(e.k.Pool, e.k.Sub)
			cmds[i] = p.HGet(ctx, key, field(e.k, e.jti))
		}
		return nil
	})
	nowMs := v.now().UnixMilli()
	var failed, unheld int
	for i, e := range batch {
		s, err := cmds[i].Result()
		if errors.Is(err, redis.Nil) {
			s, err = "0", nil
		}
		held, perr := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil || perr != nil:
			failed++
		case held < e.t:
			unheld++
		}
		if err == nil && perr == nil && held > 0 {
			v.journal.add(e.k, e.jti, held, nowMs)
		}
	}
	if failed+unheld > 0 {
		v.journal.gap(nowMs)
	}
	v.journal.hear(-len(batch))
	v.report(failed, unheld)
}

// report logs and counts the messages that could not be checked or whose
// time Redis did not hold.
func (v *verifier) report(failed, unheld int) {
	v.unheld.Add(uint64(unheld))
	if unheld > 0 {
		v.log.LogAttrs(v.run.ctx, slog.LevelWarn, "redisstore: sign-out messages with a time Redis does not hold (forged by a client with PUBLISH rights, or Redis lost them); not journaled",
			slog.Int("messages", unheld))
	}
	if failed > 0 && v.run.ctx.Err() == nil {
		v.log.LogAttrs(v.run.ctx, slog.LevelWarn, "redisstore: could not re-read sign-outs for the journal; a data loss now is healed with a floor",
			slog.Int("messages", failed))
	}
}

// hear counts messages waiting to be checked (n < 0: checked): while any
// wait, the journal is not complete.
func (j *journal) hear(n int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.waiting += n
}

// len is the number of entries held.
func (j *journal) len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// presence is this instance's entry in the set of live instances
// (wire.live): a sorted set whose members are instance ids scored by the
// Unix ms, by the Redis server's clock, at which they lapse. The health
// check refreshes the entry before it first lifts its refusal and on every
// check; Close removes it. A [Config.WaitInstances] writer waits for as
// many acknowledgements as there are live entries, so an instance whose
// subscription died silently (Redis dropped it, the instance has not
// noticed yet and answers from its view until Staleness passes) is a
// shortfall, not a success. An entry lives ttl = 2×healthEvery +
// 4×Timeout + Staleness, and the instance answers from its view only
// until Staleness before that, counted from the start of its last
// successful check ([trust.checked]): the entry lapses only once that
// instance no longer answers from memory.
type presence struct {
	client redis.UniversalClient
	key    string
	id     string
	ttl    time.Duration
}

func newPresence(client redis.UniversalClient, w wire, id string, timeout, staleness time.Duration) *presence {
	return &presence{client: client, key: w.live(), id: id, ttl: 2*healthEvery + 4*timeout + staleness}
}

// presenceScript drops the lapsed entries, (re)writes ARGV[1] to lapse
// ARGV[2] ms from Redis's clock, and keeps the key as long as its latest
// entry.
var presenceScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], tonumber(last[2]) - now)
return 1
`)

// liveScript counts the entries not lapsed by Redis's clock.
var liveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`)

// refreshIn queues the refresh of this instance's entry in pipeline pl
// (the health check's probe of the master holding the key); settle reads
// its answer, loading the script on NOSCRIPT.
func (p *presence) refreshIn(ctx context.Context, pl redis.Pipeliner) *redis.Cmd {
	return presenceScript.EvalSha(ctx, pl, []string{p.key}, p.id, p.ttl.Milliseconds())
}

func (p *presence) settle(ctx context.Context, cmd *redis.Cmd) error {
	err := cmd.Err()
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		err = presenceScript.Eval(ctx, p.client, []string{p.key}, p.id, p.ttl.Milliseconds()).Err()
	}
	return err
}

// refresh writes this instance's entry.
func (p *presence) refresh(ctx context.Context) error {
	return presenceScript.Run(ctx, p.client, []string{p.key}, p.id, p.ttl.Milliseconds()).Err()
}

// live counts the live instances.
func (p *presence) live(ctx context.Context) (int64, error) {
	return liveScript.Run(ctx, p.client, []string{p.key}).Int64()
}

// leave removes this instance's entry, within timeout, at Close (ctx is
// done by then: only its values are kept).
func (p *presence) leave(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	return p.client.ZRem(ctx, p.key, p.id).Err()
}

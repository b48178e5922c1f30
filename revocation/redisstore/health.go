package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// healthEvery is how often every master's eviction policy and data-loss
// marker are read (also at start and whenever a subscription is
// confirmed). A loss is noticed within about this period.
var healthEvery = 2 * time.Second // a variable for tests

// Reasons for [trust.refuse].
const (
	refuseClosed    = "closed"
	refuseUnchecked = "unchecked" // policy and markers not read since the last (re)subscription
	refuseEviction  = "eviction"
	refuseLoss      = "loss"
)

var errUnchecked = errors.New("not checked yet: Redis maxmemory-policy and data-loss markers")

// master is one Redis master: its address, a client for its INFO, and the
// key of its data-loss marker (a key in one of its slots).
type master struct {
	addr   string
	info   redis.Cmdable
	marker string
}

// mastersEvery is how many periodic checks reuse a Cluster's list of
// masters before reading the slot map again; a failed check, a check
// asked for (a subscription came back) or moved slots read it at once.
const mastersEvery = 5

// health checks every master's eviction policy and data-loss marker at
// start, every healthEvery and when asked (recheck), on a goroutine of its
// own; it hands the markers to loss. The trust it withholds until a check
// is done is refuseUnchecked.
type health struct {
	client        redis.UniversalClient
	wire          wire
	run           *runner
	trust         *trust
	loss          *loss
	presence      *presence
	allowEviction bool
	// trustUnverified: TrustUnverifiedEviction
	trustUnverified bool
	log             *slog.Logger
	about           []slog.Attr // logged when trusted: channels, sharded

	kick       chan struct{} // asks the health goroutine for a check
	checks     atomic.Uint64 // rechecks asked
	slotsMoved atomic.Bool   // the subscriptions regrouped: read the masters again

	// Owned by the health goroutine.
	unknownWarned bool
	ms            []master // the masters last read; nil: read them
	msUses        int      // checks since they were read

	mu      sync.Mutex // guards summary
	summary string     // for Stats: the eviction policy, or "unknown"
}

// runHealth checks Redis at start, every healthEvery and when asked (kick)
// until Close.
func (h *health) loop() {
	for {
		h.checkHealth()
		t := time.NewTimer(healthEvery)
		select {
		case <-h.run.ctx.Done():
			t.Stop()
			if h.ms != nil { // Redis answered the last check: a lapse would otherwise confirm nothing for a while
				h.leave()
			}
			return
		case <-t.C:
		case <-h.kick:
			t.Stop()
			h.ms = nil
		}
	}
}

// leave removes this instance from the live instances at Close.
func (h *health) leave() {
	if err := h.presence.leave(h.run.ctx, h.run.timeout); err != nil {
		h.log.LogAttrs(h.run.ctx, slog.LevelWarn, "redisstore: could not leave the live instances; WaitInstances sign-outs will be unconfirmed until the entry lapses",
			slog.String("error", err.Error()), slog.Duration("lapses_in", h.presence.ttl))
	}
}

// recheck asks the health goroutine for a check and withholds trust
// until it is done.
func (h *health) recheck() {
	h.checks.Add(1)
	h.trust.refuse(refuseUnchecked, errUnchecked)
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// checkHealth reads every master's eviction policy and marker once.
func (h *health) checkHealth() {
	seq := h.checks.Load() // a recheck asked during this check needs another
	began := h.trust.now()
	ctx, cancel := context.WithTimeout(h.run.ctx, 4*h.run.timeout)
	defer cancel()
	if h.slotsMoved.Swap(false) || h.msUses >= mastersEvery {
		h.ms = nil
	}
	var err error
	if h.ms == nil {
		h.msUses = 0
		h.ms, err = h.masters(ctx)
	}
	h.msUses++
	ms := h.ms
	var ps []probe
	if err == nil {
		ps, err = h.probeMasters(ctx, ms)
	}
	if err == nil {
		h.checkEviction(ms, ps)
		err = h.loss.checkMarkers(ctx, ms, ps)
	}
	if err == nil && !slices.ContainsFunc(ps, func(p probe) bool { return p.live }) {
		err = h.presence.refresh(ctx) // live before trusted: see presence
	}
	if err != nil {
		h.ms = nil
		if h.run.ctx.Err() == nil {
			h.log.LogAttrs(h.run.ctx, slog.LevelWarn, "redisstore: Redis health check failed", slog.String("error", err.Error()))
		}
		return
	}
	h.trust.checked(began, h.presence.ttl)
	if h.checks.Load() == seq && h.trust.refuse(refuseUnchecked, nil) {
		h.log.LogAttrs(h.run.ctx, slog.LevelInfo, "redisstore: subscribed to sign-outs and Redis checked; view trusted", h.about...)
	}
}

// masters lists the masters: every master of a Cluster (a marker key in a
// slot of each), or the client itself.
func (h *health) masters(ctx context.Context) ([]master, error) {
	cc, ok := h.client.(*redis.ClusterClient)
	if !ok {
		return []master{{addr: "", info: h.client, marker: h.wire.marker("0")}}, nil
	}
	//lint:ignore SA1019 CLUSTER SLOTS answers on Redis 6 too; CLUSTER SHARDS needs 7.
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	var ms []master
	for _, s := range slots {
		if len(s.Nodes) == 0 || seen[s.Nodes[0].Addr] {
			continue
		}
		addr := s.Nodes[0].Addr
		seen[addr] = true
		n, err := cc.MasterForKey(ctx, h.wire.marker(tagInSlots(s.Start, s.End)))
		if err != nil {
			return nil, err
		}
		ms = append(ms, master{addr: addr, info: n, marker: h.wire.marker(tagInSlots(s.Start, s.End))})
	}
	return ms, nil
}

// tagInSlots is the smallest decimal hash tag whose slot is in [lo, hi].
func tagInSlots(lo, hi int) string {
	for n := 0; ; n++ {
		tag := strconv.Itoa(n)
		if s := int(slot(tag)); s >= lo && s <= hi {
			return tag
		}
	}
}

// probe is what one round trip read of a master: its INFO memory and its
// data-loss marker.
type probe struct {
	info    string
	infoErr error // a refusal (redis.Error): the policy is unknown
	gen     string
	floor   int64
	live    bool // this instance's live entry was refreshed too
}

// probeMasters reads each master's INFO memory and marker in one
// pipeline: the health check of every instance costs each master one
// round trip.
func (h *health) probeMasters(ctx context.Context, ms []master) ([]probe, error) {
	out := make([]probe, len(ms))
	for i, m := range ms {
		var info *redis.StringCmd
		var marker, live *redis.Cmd
		_, _ = m.info.Pipelined(ctx, func(p redis.Pipeliner) error {
			info = p.Info(ctx, "memory")
			marker = markerScript.EvalSha(ctx, p, []string{m.marker}, rand.Text(), 0)
			if m.marker == h.wire.marker(liveTag) { // the live-instance set's master
				live = h.presence.refreshIn(ctx, p)
			}
			return nil
		})
		p := &out[i]
		if live != nil {
			if err := h.presence.settle(ctx, live); err != nil {
				return nil, fmt.Errorf("live-instance entry on %s: %w", cmpOrAddr(m.addr), err)
			}
			p.live = true
		}
		var re redis.Error
		if p.info, p.infoErr = info.Result(); p.infoErr != nil && !errors.As(p.infoErr, &re) {
			return nil, fmt.Errorf("INFO memory on %s: %w", cmpOrAddr(m.addr), p.infoErr)
		}
		if p.infoErr != nil { // refused (an ACL): CONFIG GET may be allowed
			if p.info, p.infoErr = configPolicy(ctx, m.info); p.infoErr != nil && !errors.As(p.infoErr, &re) {
				return nil, fmt.Errorf("CONFIG GET maxmemory on %s: %w", cmpOrAddr(m.addr), p.infoErr)
			}
		}
		v, err := marker.Slice()
		if redis.HasErrorPrefix(err, "NOSCRIPT") {
			v, err = markerScript.Eval(ctx, h.client, []string{m.marker}, rand.Text(), 0).Slice() // and caches it
		}
		if p.gen, p.floor, err = parseMarker(v, err); err != nil {
			return nil, fmt.Errorf("data-loss marker on %s: %w", cmpOrAddr(m.addr), err)
		}
	}
	return out, nil
}

// configPolicy reads maxmemory and maxmemory-policy with CONFIG GET (one
// round trip), as the INFO lines that checkEviction reads.
func configPolicy(ctx context.Context, c redis.Cmdable) (string, error) {
	var mem, policy *redis.MapStringStringCmd
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		mem = p.ConfigGet(ctx, "maxmemory")
		policy = p.ConfigGet(ctx, "maxmemory-policy")
		return nil
	})
	m, err := mem.Result()
	if err != nil {
		return "", err
	}
	pm, err := policy.Result()
	if err != nil {
		return "", err
	}
	return "maxmemory:" + m["maxmemory"] + "\nmaxmemory_policy:" + pm["maxmemory-policy"] + "\n", nil
}

// checkEviction refuses Redis when a master may evict keys, unless
// AllowEviction, or when its policy cannot be read, unless
// TrustUnverifiedEviction.
func (h *health) checkEviction(ms []master, ps []probe) {
	var evicting []string
	unknown := false
	for i, m := range ms {
		maxmemory, policy := infoField(ps[i].info, "maxmemory"), infoField(ps[i].info, "maxmemory_policy")
		switch {
		case ps[i].infoErr != nil || maxmemory == "" || policy == "":
			unknown = true
		case maxmemory != "0" && policy != "noeviction":
			evicting = append(evicting, fmt.Sprintf("%s maxmemory-policy %s (maxmemory %s)", cmpOrAddr(m.addr), policy, maxmemory))
		}
	}
	h.reportEviction(evicting, unknown)
}

func cmpOrAddr(addr string) string {
	if addr == "" {
		return "Redis"
	}
	return addr
}

// reportEviction applies and logs the outcome of checkEviction.
func (h *health) reportEviction(evicting []string, unknown bool) {
	summary := "noeviction"
	switch {
	case len(evicting) > 0:
		summary = strings.Join(evicting, "; ")
	case unknown:
		summary = "unknown"
	}
	h.mu.Lock()
	changed := h.summary != summary
	h.summary = summary
	h.mu.Unlock()
	if len(evicting) == 0 && unknown && !h.trustUnverified {
		err := errors.New("eviction policy of Redis unverifiable (INFO memory and CONFIG GET maxmemory refused or incomplete); allow one of them, or set Config.TrustUnverifiedEviction")
		h.trust.refuse(refuseEviction, err)
		if changed {
			h.log.LogAttrs(h.run.ctx, slog.LevelError, "redisstore: "+err.Error()+"; failing closed")
		}
		return
	}
	if len(evicting) > 0 && !h.allowEviction {
		err := fmt.Errorf("eviction by Redis may drop sign-outs: %s; set maxmemory-policy noeviction (or Config.AllowEviction)", summary)
		h.trust.refuse(refuseEviction, err)
		if changed {
			h.log.LogAttrs(h.run.ctx, slog.LevelError, "redisstore: "+err.Error()+"; failing closed")
		}
		return
	}
	h.trust.refuse(refuseEviction, nil)
	switch {
	case len(evicting) > 0 && changed:
		h.log.LogAttrs(h.run.ctx, slog.LevelWarn, "redisstore: Redis may evict sign-outs (AllowEviction set)", slog.String("maxmemory-policy", summary))
	case unknown && !h.unknownWarned:
		h.unknownWarned = true
		h.log.LogAttrs(h.run.ctx, slog.LevelWarn, "redisstore: Redis maxmemory-policy unreadable (INFO memory and CONFIG GET refused or incomplete); trusting that it does not evict (TrustUnverifiedEviction)")
	}
}

// infoField returns the value of name in an INFO reply.
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (h *health) policySummary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.summary
}

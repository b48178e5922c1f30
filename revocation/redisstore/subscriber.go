package redisstore

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

// subscriber runs the store's subscriptions: one per group of sign-out
// channels (see groups), each a goroutine driving one connection. It
// applies the sign-outs to the view and the journal, queues the
// acknowledgements asked for, and feeds proofs of freshness to trust.
type subscriber struct {
	client    redis.UniversalClient
	wire      wire
	sharded   bool
	staleness time.Duration
	run       *runner
	trust     *trust
	view      *view
	journal   *journal
	acks      *acks // acknowledgements owed and, if requester, awaited
	requester bool  // WaitInstances: subscribe to this instance's acknowledgement channels
	health    *health
	now       func() time.Time
	log       *slog.Logger

	channelIndex   map[string]int  // sign-out channel name → index
	ownAcks        map[string]bool // this instance's acknowledgement channels (requester)
	everSubscribed []atomic.Bool   // per channel: subscribed once (a new subscription is a rebuild)

	psMu sync.Mutex      // guards subs and every subscription's ps
	subs []*subscription // the current generation

	messages, rebuilds, ignored atomic.Uint64
}

func newSubscriber(sb *subscriber) *subscriber {
	k := len(sb.wire.tags)
	sb.channelIndex = make(map[string]int, k)
	for i := range k {
		sb.channelIndex[sb.wire.channel(i)] = i
	}
	sb.everSubscribed = make([]atomic.Bool, k)
	sb.ownAcks = make(map[string]bool)
	if sb.requester {
		for i := range k {
			sb.ownAcks[sb.wire.ackChannel(i, sb.acks.id)] = true
		}
	}
	return sb
}

// warnIfStale logs, once per lapse, that the proof of freshness expired
// while nothing else withdrew trust (pub/sub silent, a subscription
// blocked). Other causes log where they happen.
func (sb *subscriber) warnIfStale() { warnIfStale(sb.run.ctx, sb.log, sb.trust, sb.staleness) }

// warnIfStale logs, once per lapse of tr's deadline, that the proof of
// freshness expired.
func warnIfStale(ctx context.Context, log *slog.Logger, tr *trust, staleness time.Duration) {
	if tr.lapsed(tr.now()) {
		log.LogAttrs(ctx, slog.LevelWarn, "redisstore: no proof of freshness within the staleness bound; failing closed",
			slog.Duration("staleness", staleness))
	}
}

// loop runs one subscription per group of channels (see
// groups) until Close. When one reports that the Cluster's slots moved,
// it stops them all and forms the groups again.
func (sb *subscriber) loop() {
	backoff := 50 * time.Millisecond
	for sb.run.ctx.Err() == nil {
		if groups, err := sb.groups(); err != nil {
			sb.log.LogAttrs(sb.run.ctx, slog.LevelWarn, "redisstore: cannot read the Cluster's slots to subscribe; retrying",
				slog.String("error", err.Error()))
		} else {
			sb.runGroups(groups)
		}
		if !sb.run.sleep(backoff) {
			return
		}
		backoff = min(2*backoff, time.Second)
	}
}

// runGroups runs one subscription per group until Close or until one asks
// for new groups; it returns once they have all stopped.
func (sb *subscriber) runGroups(groups [][]int) {
	ctx, cancel := context.WithCancel(sb.run.ctx)
	regroup := make(chan string, 1)
	subs := make([]*subscription, len(groups))
	for n, g := range groups {
		subs[n] = sb.newSubscription(ctx, g, func(why string) {
			select {
			case regroup <- why:
			default:
			}
		})
	}
	var wg sync.WaitGroup
	sb.psMu.Lock()
	if sb.run.ctx.Err() == nil {
		sb.subs = subs
		for _, s := range subs {
			wg.Go(s.run)
		}
	}
	sb.psMu.Unlock()
	select {
	case <-sb.run.ctx.Done():
	case why := <-regroup:
		sb.log.LogAttrs(sb.run.ctx, slog.LevelInfo, "redisstore: the Cluster's slots moved; subscribing again by master",
			slog.String("reason", why))
		if cc, ok := sb.client.(*redis.ClusterClient); ok {
			cc.ReloadState(sb.run.ctx)
		}
		sb.health.slotsMoved.Store(true)
	}
	cancel()
	sb.closeConnections(subs)
	wg.Wait()
}

// newSubscription returns the subscription of sign-out channels idx (with
// WaitInstances, each with this instance's acknowledgement channel).
func (sb *subscriber) newSubscription(ctx context.Context, idx []int, regroup func(why string)) *subscription {
	s := &subscription{sub: sb, ctx: ctx, idx: idx, regroup: regroup}
	var signouts []string
	for _, i := range idx {
		signouts = append(signouts, sb.wire.channel(i))
		chans := []string{sb.wire.channel(i)}
		if sb.requester { // only a requester needs its acknowledgement channels
			chans = append(chans, sb.wire.ackChannel(i, sb.acks.id))
		}
		s.channels = append(s.channels, chans)
	}
	s.state = newSubState(signouts, sb.staleness, sb.run.timeout)
	return s
}

// closeAll closes the connections of the current subscriptions.
func (sb *subscriber) closeAll() {
	sb.psMu.Lock()
	subs := sb.subs
	sb.psMu.Unlock()
	sb.closeConnections(subs)
}

// closeConnections closes the current connection of each of subs (sb.subs
// may already be the next generation's), interrupting their network calls.
func (sb *subscriber) closeConnections(subs []*subscription) {
	sb.psMu.Lock()
	defer sb.psMu.Unlock()
	for _, s := range subs {
		if s.ps != nil {
			_ = s.ps.Close()
			s.ps = nil
		}
	}
}

// groups splits the channels between subscriptions: one for all of them,
// or on a Cluster (sharded) one per master, its channels subscribed one
// slot per command (go-redis resubscribes a connection's channels in one
// command, which Redis refuses across slots: the subscription reconnects
// itself instead). Other sharded clients get one per channel.
func (sb *subscriber) groups() ([][]int, error) {
	k := len(sb.wire.tags)
	if !sb.sharded {
		return [][]int{indices(k)}, nil
	}
	cc, ok := sb.client.(*redis.ClusterClient)
	if !ok {
		groups := make([][]int, k)
		for i := range k {
			groups[i] = []int{i}
		}
		return groups, nil
	}
	ctx, cancel := context.WithTimeout(sb.run.ctx, 4*sb.run.timeout)
	defer cancel()
	var groups [][]int
	byMaster := make(map[string]int)
	for i := range k {
		m, err := cc.MasterForKey(ctx, sb.wire.channel(i))
		if err != nil {
			return nil, err
		}
		addr := m.Options().Addr
		n, ok := byMaster[addr]
		if !ok {
			n = len(groups)
			byMaster[addr] = n
			groups = append(groups, nil)
		}
		groups[n] = append(groups[n], i)
	}
	return groups, nil
}

func indices(k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = i
	}
	return out
}

// handleMessage applies a message of a sign-out or acknowledgement channel.
func (sb *subscriber) handleMessage(channel, payload string) {
	m, err := decodeMessage(payload)
	if err == nil && m.kind == kindAck {
		if sb.ownAcks[channel] { // acknowledgements elsewhere are not ours to count
			for _, n := range m.nonces {
				sb.acks.received(m.id, n)
			}
		}
		return
	}
	sb.messages.Add(1)
	if err == nil {
		err = record.CheckAhead(m.t, sb.now().UnixMilli())
	}
	if err != nil {
		sb.ignored.Add(1)
		sb.log.LogAttrs(sb.run.ctx, slog.LevelWarn, "redisstore: ignoring a message on the sign-out channel",
			slog.String("channel", channel), slog.Int("bytes", len(payload)), slog.String("error", err.Error()))
		return
	}
	// kindUser or kindSession: apply it, then acknowledge if asked (every
	// message of the channel before it is applied too).
	sb.view.apply(m.key, m.jti, m.t)
	sb.journal.add(m.key, m.jti, m.t, sb.now().UnixMilli())
	if i, ok := sb.channelIndex[channel]; ok && m.id != "" {
		sb.acks.queue(sb.wire.ackChannel(i, m.id), m.nonce)
	}
}

// journalEntryBytes is the bytes a journal entry costs besides its
// strings, and journalBytesPerEntry the average budget per entry: the
// journal holds at most max entries and max*journalBytesPerEntry bytes,
// whatever the messages carry (record.MaxField bounds each string).
const (
	journalEntryBytes    = 64
	journalBytesPerEntry = 256
)

// journal is a bounded record of the sign-out messages received, kept
// across view resets, to restore Redis after a data loss. It is bounded
// in entries (max) and bytes (max*journalBytesPerEntry).
type journal struct {
	mu            sync.Mutex
	max           int
	ttlMs         int64
	entries       []journalEntry // oldest first
	bytes         int            // of entries
	completeSince int64          // Unix ms since which no message can have been missed; 0: none
}

type journalEntry struct {
	k   userKey
	jti string
	t   int64
}

func (e journalEntry) size() int {
	return journalEntryBytes + len(e.k.Pool) + len(e.k.Sub) + len(e.jti)
}

// add records a received sign-out. When full it drops the oldest entries,
// expired ones first (which loses nothing); dropping a live one means the
// journal is complete only from now on.
func (j *journal) add(k userKey, jti string, t, nowMs int64) {
	e := journalEntry{userKey{Pool: strings.Clone(k.Pool), Sub: strings.Clone(k.Sub)}, strings.Clone(jti), t}
	j.mu.Lock()
	defer j.mu.Unlock()
	full := func() bool {
		return len(j.entries) >= j.max || j.bytes+e.size() > j.max*journalBytesPerEntry
	}
	for full() && len(j.entries) > 0 && j.entries[0].t+j.ttlMs < nowMs {
		j.drop()
	}
	for full() && len(j.entries) > 0 {
		j.drop()
		j.completeSince = max(j.completeSince, nowMs)
	}
	if full() { // max is 0
		j.completeSince = max(j.completeSince, nowMs)
		return
	}
	j.entries = append(j.entries, e)
	j.bytes += e.size()
}

// drop forgets the oldest entry.
func (j *journal) drop() {
	j.bytes -= j.entries[0].size()
	j.entries[0] = journalEntry{}
	j.entries = j.entries[1:]
}

// gap records that messages may have been missed until nowMs.
func (j *journal) gap(nowMs int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.completeSince = nowMs
}

// complete reports whether the journal holds every sign-out live at lossAt.
func (j *journal) complete(lossAt, ttlMs int64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.completeSince != 0 && j.completeSince <= lossAt-ttlMs
}

// live returns the entries not expired at nowMs, pruning the others.
func (j *journal) live(nowMs, ttlMs int64) []journalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	kept := j.entries[:0]
	j.bytes = 0
	for _, e := range j.entries {
		if e.t+ttlMs >= nowMs {
			kept = append(kept, e)
			j.bytes += e.size()
		}
	}
	clear(j.entries[len(kept):])
	j.entries = kept
	return append([]journalEntry(nil), kept...)
}

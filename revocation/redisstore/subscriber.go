package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// subState is the state machine of one subscription: it is fed events
// (opened, confirmed, pinged, pong, lost) with the monotonic time they
// happened, and tells the loop what to do next. It does no I/O and is
// owned by one goroutine.
type subState struct {
	signouts  []string // the sign-out channels this subscription carries
	pingEvery int64
	hung      int64 // a ping unanswered, or a subscription unconfirmed, this long: reconnect

	confirmed  map[string]bool
	subscribed bool  // every sign-out channel confirmed on this connection
	opened     int64 // when the connection was (re)opened
	lastPing   int64
	pingSent   int64 // the unanswered ping; 0: none
	failures   int   // consecutive receive failures, for backoff
}

// action is what the subscription loop must do next.
type action int

const (
	actWait      action = iota // receive, for at most the wait returned
	actPing                    // send a ping, then call pinged
	actReconnect               // drop the connection and open a new one
)

func newSubState(signouts []string, staleness, timeout time.Duration) *subState {
	return &subState{
		signouts:  signouts,
		pingEvery: int64(staleness / 4),
		hung:      int64(max(2*staleness, 4*timeout)),
		confirmed: make(map[string]bool, len(signouts)),
	}
}

// open starts a new connection at now.
func (s *subState) open(now int64) {
	clear(s.confirmed)
	s.subscribed, s.pingSent, s.opened = false, 0, now
}

// confirm records a subscription confirmation of channel. reset reports
// that the channel is a sign-out channel: messages published before now
// may have been missed, so the view must start over. subscribed reports
// that every sign-out channel is now confirmed.
func (s *subState) confirm(now int64, channel string) (reset, subscribed bool) {
	if !slices.Contains(s.signouts, channel) {
		return false, false // an acknowledgement channel
	}
	s.confirmed[channel] = true
	if s.subscribed || len(s.confirmed) < len(s.signouts) {
		return true, false
	}
	s.subscribed, s.pingSent = true, 0
	s.lastPing = now - s.pingEvery // ping at once
	return true, true
}

// pinged records a ping sent at now.
func (s *subState) pinged(now int64) { s.pingSent, s.lastPing = now, now }

// pong records a pong and returns the proof it carries: the time of its
// ping (everything published before it has been received), or 0.
func (s *subState) pong() int64 {
	p := s.pingSent
	s.pingSent = 0
	s.failures = 0
	return p
}

// lost records a failure of the connection at now; the client reconnects
// by itself on the next receive. It returns the backoff to wait first.
func (s *subState) lost(now int64, maxBackoff time.Duration) time.Duration {
	s.open(now)
	s.failures++
	return min(time.Duration(5<<min(s.failures, 10))*time.Millisecond, maxBackoff)
}

// received records a successful receive.
func (s *subState) received() { s.failures = 0 }

// next returns what to do at now, and for actWait how long to wait.
func (s *subState) next(now int64) (action, time.Duration) {
	switch {
	case s.subscribed && s.pingSent == 0 && now-s.lastPing >= s.pingEvery:
		return actPing, 0
	case s.subscribed && s.pingSent != 0 && now-s.pingSent > s.hung:
		return actReconnect, 0
	case !s.subscribed && now-s.opened > s.hung:
		return actReconnect, 0
	}
	deadline := s.opened + s.hung
	if s.subscribed && s.pingSent == 0 {
		deadline = s.lastPing + s.pingEvery
	} else if s.subscribed {
		deadline = s.pingSent + s.hung
	}
	return actWait, max(time.Duration(deadline-now), time.Millisecond)
}

// subscription is one pub/sub connection of a store and the goroutine that
// drives it: it applies sign-outs to the view, answers acknowledgement
// requests and feeds proofs of freshness to the store's trust for each of
// its channels.
type subscription struct {
	r        *Store
	ctx      context.Context // cancelled by Close, or to regroup
	idx      []int           // its sign-out channels' indices (and trust's)
	channels [][]string      // per channel: the sign-out channel and, with WaitInstances, this instance's acknowledgement channel
	state    *subState
	ps       *redis.PubSub    // the current connection, guarded by r.psMu
	regroup  func(why string) // asks for new groups: a channel's slot is served elsewhere
}

// runSubscriptions runs one subscription per group of channels (see
// groups) until Close. When one reports that the Cluster's slots moved,
// it stops them all and forms the groups again.
func (r *Store) runSubscriptions() {
	defer r.wg.Done()
	backoff := 50 * time.Millisecond
	for r.ctx.Err() == nil {
		if groups, err := r.groups(); err != nil {
			r.log.LogAttrs(r.ctx, slog.LevelWarn, "redisstore: cannot read the Cluster's slots to subscribe; retrying",
				slog.String("error", err.Error()))
		} else {
			r.runGroups(groups)
		}
		if !r.sleep(backoff) {
			return
		}
		backoff = min(2*backoff, time.Second)
	}
}

// runGroups runs one subscription per group until Close or until one asks
// for new groups; it returns once they have all stopped.
func (r *Store) runGroups(groups [][]int) {
	ctx, cancel := context.WithCancel(r.ctx)
	regroup := make(chan string, 1)
	subs := make([]*subscription, len(groups))
	for n, g := range groups {
		subs[n] = r.newSubscription(ctx, g, func(why string) {
			select {
			case regroup <- why:
			default:
			}
		})
	}
	var wg sync.WaitGroup
	r.psMu.Lock()
	if r.ctx.Err() == nil {
		r.subs = subs
		for _, s := range subs {
			wg.Go(s.run)
		}
	}
	r.psMu.Unlock()
	select {
	case <-r.ctx.Done():
	case why := <-regroup:
		r.log.LogAttrs(r.ctx, slog.LevelInfo, "redisstore: the Cluster's slots moved; subscribing again by master",
			slog.String("reason", why))
		if cc, ok := r.client.(*redis.ClusterClient); ok {
			cc.ReloadState(r.ctx)
		}
		r.slotsMoved.Store(true)
	}
	cancel()
	r.closeConnections(subs)
	wg.Wait()
}

// newSubscription returns the subscription of sign-out channels idx (with
// WaitInstances, each with this instance's acknowledgement channel).
func (r *Store) newSubscription(ctx context.Context, idx []int, regroup func(why string)) *subscription {
	s := &subscription{r: r, ctx: ctx, idx: idx, regroup: regroup}
	var signouts []string
	for _, i := range idx {
		signouts = append(signouts, r.wire.channel(i))
		chans := []string{r.wire.channel(i)}
		if r.instances { // only a requester needs its acknowledgement channels
			chans = append(chans, r.wire.ackChannel(i, r.id))
		}
		s.channels = append(s.channels, chans)
	}
	s.state = newSubState(signouts, r.staleness, r.timeout)
	return s
}

// closeConnections closes the current connection of each of subs (r.subs
// may already be the next generation's), interrupting their network calls.
func (r *Store) closeConnections(subs []*subscription) {
	r.psMu.Lock()
	defer r.psMu.Unlock()
	for _, s := range subs {
		if s.ps != nil {
			_ = s.ps.Close()
			s.ps = nil
		}
	}
}

// sleep waits d, or until Close; false means closed.
func (r *Store) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// groups splits the channels between subscriptions: one for all of them,
// or on a Cluster (sharded) one per master, its channels subscribed one
// slot per command (go-redis resubscribes a connection's channels in one
// command, which Redis refuses across slots: the subscription reconnects
// itself instead). Other sharded clients get one per channel.
func (r *Store) groups() ([][]int, error) {
	k := len(r.wire.tags)
	if !r.sharded {
		return [][]int{indices(k)}, nil
	}
	cc, ok := r.client.(*redis.ClusterClient)
	if !ok {
		groups := make([][]int, k)
		for i := range k {
			groups[i] = []int{i}
		}
		return groups, nil
	}
	ctx, cancel := context.WithTimeout(r.ctx, 4*r.timeout)
	defer cancel()
	var groups [][]int
	byMaster := make(map[string]int)
	for i := range k {
		m, err := cc.MasterForKey(ctx, r.wire.channel(i))
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

// run is the subscription's goroutine; it returns when its context ends
// or it asked for new groups.
func (s *subscription) run() {
	defer s.untrust("resubscribing")
	for {
		ps, err := s.open()
		if ps == nil {
			return
		}
		var re redis.Error
		if errors.As(err, &re) { // MOVED, CROSSSLOT, CLUSTERDOWN…: the slots moved
			s.untrust(err.Error())
			s.close(ps)
			s.regroup(err.Error())
			return
		}
		s.state.open(s.r.trust.now())
		again := s.receive(ps)
		s.close(ps)
		if s.ctx.Err() != nil {
			return
		}
		if !again {
			s.regroup("unsubscribed by the server")
			return
		}
		s.untrust("reconnecting")
	}
}

// open opens a new connection and asks for the channels, one slot per
// command, or returns nil once stopped. The network part runs outside
// psMu, so that Close can interrupt it. An error is Redis refusing a
// channel (its slot served elsewhere); a network failure is seen again by
// receive.
func (s *subscription) open() (*redis.PubSub, error) {
	r := s.r
	r.psMu.Lock()
	if s.ctx.Err() != nil {
		r.psMu.Unlock()
		return nil, nil
	}
	var ps *redis.PubSub
	if r.sharded {
		ps = r.client.SSubscribe(s.ctx) // no channel yet: no network
	} else {
		ps = r.client.Subscribe(s.ctx)
	}
	s.ps = ps
	r.psMu.Unlock()
	if !r.sharded {
		_ = ps.Subscribe(s.ctx, slices.Concat(s.channels...)...)
		return ps, nil
	}
	for _, chans := range s.channels {
		if err := ps.SSubscribe(s.ctx, chans...); err != nil {
			return ps, err
		}
	}
	return ps, nil
}

func (s *subscription) close(ps *redis.PubSub) {
	s.r.psMu.Lock()
	defer s.r.psMu.Unlock()
	if s.ps == ps {
		_ = ps.Close()
		s.ps = nil
	}
}

// receive drives one connection until it must be replaced (true) or the
// channels grouped again (false), or the subscription stops.
func (s *subscription) receive(ps *redis.PubSub) bool {
	r := s.r
	maxBackoff := min(max(time.Duration(s.state.pingEvery), 10*time.Millisecond), time.Second)
	for s.ctx.Err() == nil {
		act, wait := s.state.next(r.trust.now())
		switch act {
		case actReconnect:
			r.log.LogAttrs(r.ctx, slog.LevelWarn, "redisstore: Redis subscription unanswered; reconnecting",
				slog.Duration("after", time.Duration(s.state.hung)))
			return true
		case actPing:
			now := r.trust.now()
			ctx, cancel := context.WithTimeout(s.ctx, r.timeout)
			err := ps.Ping(ctx)
			cancel()
			if err != nil {
				s.lost(err, maxBackoff)
				return true
			}
			s.state.pinged(now)
			continue
		}
		r.warnIfStale()
		msg, err := ps.ReceiveTimeout(s.ctx, wait)
		switch {
		case err != nil && isTimeout(err):
		case err != nil && s.ctx.Err() == nil:
			s.lost(err, maxBackoff)
			return true
		case err == nil:
			s.state.received()
			if !s.handle(msg) {
				return false
			}
		}
	}
	return true
}

// lost handles a failed connection: untrusted until resubscribed on a new
// connection, after a backoff.
func (s *subscription) lost(err error, maxBackoff time.Duration) {
	s.untrust(err.Error())
	t := time.NewTimer(s.state.lost(s.r.trust.now(), maxBackoff))
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

// untrust withholds trust until resubscribed, and direct reads until
// Redis is checked again (it may be a new, empty server).
func (s *subscription) untrust(why string) {
	s.r.recheck()
	if s.r.trust.lost(s.idx...) && s.r.ctx.Err() == nil {
		s.r.log.LogAttrs(s.r.ctx, slog.LevelWarn, "redisstore: Redis subscription lost; reading Redis directly until resubscribed",
			slog.String("error", why))
	}
}

// handle applies one received message; false: the server unsubscribed a
// channel (its slot moved), so the channels must be grouped again.
func (s *subscription) handle(msg any) bool {
	r := s.r
	switch m := msg.(type) {
	case *redis.Subscription:
		switch m.Kind {
		case "subscribe", "ssubscribe":
			s.confirmed(m.Channel)
		default: // unsubscribed by the server (slot moved, …)
			s.untrust("server sent " + m.Kind + " " + m.Channel)
			return false
		}
	case *redis.Pong:
		if p := s.state.pong(); p != 0 && r.trust.proved(p, s.idx...) {
			r.log.LogAttrs(r.ctx, slog.LevelInfo, "redisstore: Redis pub/sub answering again; view trusted")
		}
	case *redis.Message:
		r.handleMessage(m.Channel, m.Payload)
	}
	return true
}

// confirmed handles a subscription confirmation.
func (s *subscription) confirmed(channel string) {
	r := s.r
	now := r.trust.now()
	reset, subscribed := s.state.confirm(now, channel)
	if reset {
		r.view.reset()
		r.journal.gap(r.now().UnixMilli())
	}
	if !subscribed {
		return
	}
	r.recheck() // eviction policy and markers, before trusting again
	again := false
	for _, i := range s.idx {
		again = r.everSubscribed[i].Swap(true) || again
	}
	if again {
		r.rebuilds.Add(1)
	}
	if r.trust.subscribed(now, s.idx...) {
		r.log.LogAttrs(r.ctx, slog.LevelInfo, "redisstore: subscribed to sign-outs; view trusted",
			slog.Int("channels", len(r.wire.tags)), slog.Bool("sharded", r.sharded))
	}
}

// handleMessage applies a message of a sign-out or acknowledgement channel.
func (r *Store) handleMessage(channel, payload string) {
	m, err := decodeMessage(payload)
	if err == nil && m.kind == kindAck {
		for _, n := range m.nonces {
			r.acks.received(n)
		}
		return
	}
	r.messages.Add(1)
	if err != nil {
		r.log.LogAttrs(r.ctx, slog.LevelWarn, "redisstore: ignoring a message on the sign-out channel",
			slog.String("channel", channel), slog.String("error", err.Error()))
		return
	}
	// kindUser or kindSession: apply it, then acknowledge if asked (every
	// message of the channel before it is applied too).
	r.view.apply(m.key, m.jti, m.t)
	r.journal.add(m.key, m.jti, m.t, r.now().UnixMilli())
	if i, ok := r.channelIndex[channel]; ok && m.id != "" {
		r.acks.queue(r.wire.ackChannel(i, m.id), m.nonce)
	}
}

// warnIfStale logs, once per lapse, that the proof of freshness expired
// while nothing else withdrew trust (pub/sub silent, a subscription
// blocked). Other causes log where they happen.
func (r *Store) warnIfStale() {
	until := r.trust.until.Load()
	if until > 0 && r.trust.now() >= until && r.trust.staleWarned.CompareAndSwap(false, true) {
		r.log.LogAttrs(r.ctx, slog.LevelWarn, "redisstore: no proof of freshness within the staleness bound; failing closed",
			slog.Duration("staleness", r.staleness))
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

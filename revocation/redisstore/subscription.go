package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscription is one pub/sub connection of a store and the goroutine that
// drives it: it applies sign-outs to the view, answers acknowledgement
// requests and feeds proofs of freshness to the store's trust for each of
// its channels.
type subscription struct {
	sub      *subscriber
	ctx      context.Context // cancelled by Close, or to regroup
	idx      []int           // its sign-out channels' indices (and trust's)
	channels [][]string      // per channel: the sign-out channel and, with WaitInstances, this instance's acknowledgement channel
	state    *subState
	ps       *redis.PubSub    // the current connection, guarded by r.psMu
	regroup  func(why string) // asks for new groups: a channel's slot is served elsewhere
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
		s.state.open(s.sub.trust.now())
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
	sb := s.sub
	sb.psMu.Lock()
	if s.ctx.Err() != nil {
		sb.psMu.Unlock()
		return nil, nil
	}
	var ps *redis.PubSub
	if sb.sharded {
		ps = sb.client.SSubscribe(s.ctx) // no channel yet: no network
	} else {
		ps = sb.client.Subscribe(s.ctx)
	}
	s.ps = ps
	sb.psMu.Unlock()
	if !sb.sharded {
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
	s.sub.psMu.Lock()
	defer s.sub.psMu.Unlock()
	if s.ps == ps {
		_ = ps.Close()
		s.ps = nil
	}
}

// receive drives one connection until it must be replaced (true) or the
// channels grouped again (false), or the subscription stops.
func (s *subscription) receive(ps *redis.PubSub) bool {
	sb := s.sub
	maxBackoff := min(max(time.Duration(s.state.pingEvery), 10*time.Millisecond), time.Second)
	for s.ctx.Err() == nil {
		act, wait := s.state.next(sb.trust.now())
		switch act {
		case actReconnect:
			sb.log.LogAttrs(sb.run.ctx, slog.LevelWarn, "redisstore: Redis subscription unanswered; reconnecting",
				slog.Duration("after", time.Duration(s.state.hung)))
			return true
		case actPing:
			now := sb.trust.now()
			ctx, cancel := context.WithTimeout(s.ctx, sb.run.timeout)
			err := ps.Ping(ctx)
			cancel()
			if err != nil {
				s.lost(err, maxBackoff)
				return true
			}
			s.state.pinged(now)
			continue
		}
		sb.warnIfStale()
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
	t := time.NewTimer(s.state.lost(s.sub.trust.now(), maxBackoff))
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

// untrust withholds trust until resubscribed, and direct reads until
// Redis is checked again (it may be a new, empty server).
func (s *subscription) untrust(why string) {
	s.sub.health.recheck()
	if s.sub.trust.lost(s.idx...) && s.sub.run.ctx.Err() == nil {
		s.sub.log.LogAttrs(s.sub.run.ctx, slog.LevelWarn, "redisstore: Redis subscription lost; reading Redis directly until resubscribed",
			slog.String("error", why))
	}
}

// handle applies one received message; false: the server unsubscribed a
// channel (its slot moved), so the channels must be grouped again.
func (s *subscription) handle(msg any) bool {
	sb := s.sub
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
		if p := s.state.pong(); p != 0 && sb.trust.proved(p, s.idx...) {
			sb.log.LogAttrs(sb.run.ctx, slog.LevelInfo, "redisstore: Redis pub/sub answering again; view trusted")
		}
	case *redis.Message:
		sb.handleMessage(m.Channel, m.Payload)
	}
	return true
}

// confirmed handles a subscription confirmation.
func (s *subscription) confirmed(channel string) {
	sb := s.sub
	now := sb.trust.now()
	reset, subscribed := s.state.confirm(now, channel)
	if reset {
		sb.view.reset()
		sb.journal.gap(sb.now().UnixMilli())
	}
	if !subscribed {
		return
	}
	sb.health.recheck() // eviction policy and markers, before trusting again
	again := false
	for _, i := range s.idx {
		again = sb.everSubscribed[i].Swap(true) || again
	}
	if again {
		sb.rebuilds.Add(1)
	}
	if sb.trust.subscribed(now, s.idx...) {
		sb.log.LogAttrs(sb.run.ctx, slog.LevelInfo, "redisstore: subscribed to sign-outs; view trusted",
			slog.Int("channels", len(sb.wire.tags)), slog.Bool("sharded", sb.sharded))
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

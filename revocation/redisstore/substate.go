package redisstore

import (
	"slices"
	"time"
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

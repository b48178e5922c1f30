package events

import (
	"errors"
	"time"
)

// Outcome is what the consumer did with one message.
type Outcome string

// Outcomes. Every one but [Malformed] and [StoreFailed] is final: the
// message may be deleted.
const (
	// Recorded: a sign-out was recorded (durably) under every pool it
	// belongs to.
	Recorded Outcome = "recorded"
	// NotSignOut: an event that signs nobody out (a sign-in, a hosted-UI
	// request, another operation or source). Acknowledged.
	NotSignOut Outcome = "not_signout"
	// PolicyOff: a password or session event the policy does not honour
	// ([Config.Passwords], [Config.Sessions]). Acknowledged.
	PolicyOff Outcome = "policy_off"
	// FailedCall: the call failed (errorCode not empty), so it signed
	// nobody out. Acknowledged.
	FailedCall Outcome = "failed_call"
	// Unconfigured: the event belongs to no configured pool. Acknowledged,
	// never recorded.
	Unconfigured Outcome = "unconfigured_pool"
	// Expired: the event is older than the record TTL: every token it
	// could revoke has expired. Acknowledged.
	Expired Outcome = "expired"
	// Malformed: unparsable, or an honoured event without a sub, a valid
	// eventTime (or one over [MaxFuture] ahead), or a pool and region.
	// Logged at Error and left in the queue for its redrive policy.
	Malformed Outcome = "malformed"
	// StoreFailed: the Recorder failed; the message is kept and retried.
	StoreFailed Outcome = "store_failed"
)

// Outcomes lists every Outcome, for metrics.
var Outcomes = []Outcome{Recorded, NotSignOut, PolicyOff, FailedCall, Unconfigured, Expired, Malformed, StoreFailed}

// Final reports whether the message may be deleted: everything but
// Malformed and StoreFailed.
func (o Outcome) Final() bool { return o != Malformed && o != StoreFailed }

// ErrStore is matched by the error of a message whose sign-out the
// Recorder failed to record (it wraps the Recorder's error too). The
// message MUST stay in the queue (retry it later); a retry is safe.
var ErrStore = errors.New("events: sign-out not recorded")

// Result describes one handled message, for the [Config.OnEvent] hook.
// It never carries a token (CloudTrail records hold none).
type Result struct {
	Outcome   Outcome
	EventName string    // the record's eventName, "" when unparsable; attacker-chosen text: bound it before using it as a metric attribute
	EventID   string    // the record's eventID
	PoolIDs   []string  // the configured pools the event was recorded under (Recorded, StoreFailed)
	EventTime time.Time // zero when missing or unparsable
	// Lag is now − eventTime, clamped at 0 (the clock of the consumer may
	// be behind CloudTrail's); 0 when EventTime is zero.
	Lag time.Duration
	Err error // nil for the final outcomes; matches ErrMalformed or ErrStore otherwise
}

package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxMessageBytes bounds a message body: an EventBridge event is at most
// 256 KiB, as is an SQS message.
const MaxMessageBytes = 256 << 10

// EventBridge and CloudTrail values of the events the consumer reads.
const (
	// Source is the EventBridge source of Cognito user-pool events.
	Source = "aws.cognito-idp"
	// DetailTypeAPICall is the detail-type of a CloudTrail-recorded API call.
	DetailTypeAPICall = "AWS API Call via CloudTrail"
	// DetailTypeServiceEvent is the detail-type of hosted-UI (managed
	// login) requests such as Token_POST.
	DetailTypeServiceEvent = "AWS Service Event via CloudTrail"
	// EventSource is the CloudTrail eventSource of Cognito user pools.
	EventSource = "cognito-idp.amazonaws.com"
)

// Envelope is an EventBridge event wrapping a CloudTrail record
// (testdata/cloudtrail/SOURCES.md gives the source of each field).
type Envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Record is the part of a CloudTrail record of a Cognito user-pool call
// that the consumer reads. Its nested members are read leniently: a
// member of an unexpected type (requestParameters as a string, say) reads
// as absent rather than making the whole message unparsable, so that
// only the events the consumer honours can be malformed.
type Record struct {
	EventTime           string              `json:"eventTime"`
	EventSource         string              `json:"eventSource"`
	EventName           string              `json:"eventName"`
	AWSRegion           string              `json:"awsRegion"`
	ErrorCode           string              `json:"errorCode"`
	EventID             string              `json:"eventID"`
	EventType           string              `json:"eventType"`
	RequestParameters   RequestParameters   `json:"requestParameters"`
	AdditionalEventData AdditionalEventData `json:"additionalEventData"`
	Resources           Resources           `json:"resources"`
}

// RequestParameters holds the request parameter the consumer reads:
// userPoolId, present in Admin* calls.
type RequestParameters struct {
	UserPoolID string
}

// UnmarshalJSON reads userPoolId when it is a string member of an object.
func (p *RequestParameters) UnmarshalJSON(b []byte) error {
	var o struct {
		V json.RawMessage `json:"userPoolId"`
	}
	*p = RequestParameters{}
	if json.Unmarshal(b, &o) == nil {
		p.UserPoolID = jsonString(o.V)
	}
	return nil
}

// AdditionalEventData holds the user's sub, which Cognito records for
// every call naming a user.
type AdditionalEventData struct {
	Sub string
}

// UnmarshalJSON reads sub when it is a string member of an object.
func (a *AdditionalEventData) UnmarshalJSON(b []byte) error {
	var o struct {
		V json.RawMessage `json:"sub"`
	}
	*a = AdditionalEventData{}
	if json.Unmarshal(b, &o) == nil {
		a.Sub = jsonString(o.V)
	}
	return nil
}

// Resources are the ARNs of a record's resources list.
type Resources []string

// UnmarshalJSON reads the string ARN member of each object of an array.
func (r *Resources) UnmarshalJSON(b []byte) error {
	*r = nil
	var items []json.RawMessage
	if json.Unmarshal(b, &items) != nil {
		return nil
	}
	for _, it := range items {
		var o struct {
			V json.RawMessage `json:"ARN"`
		}
		if json.Unmarshal(it, &o) == nil {
			if arn := jsonString(o.V); arn != "" {
				*r = append(*r, arn)
			}
		}
	}
	return nil
}

// jsonString returns the JSON string b, or "" when b is not one.
func jsonString(b json.RawMessage) string {
	var s string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		return ""
	}
	return s
}

// Event is a decoded message: the envelope's fields and the record.
type Event struct {
	Envelope Envelope
	Record   Record
}

// ErrMalformed is matched by the error of a message that cannot be
// parsed as an EventBridge event wrapping a CloudTrail record, and of an
// honoured event that lacks what a record needs (a sub, a valid
// eventTime, a pool or region). Such a message is left in the queue for
// its redrive policy.
var ErrMalformed = errors.New("events: malformed message")

// Decode parses body, an EventBridge event wrapping a CloudTrail record.
// It fails (matching [ErrMalformed]) on a body over [MaxMessageBytes],
// invalid JSON or JSON of the wrong types, and a missing or non-object
// detail. It does not judge the record (see [Consumer.Handle]). Requests'
// parameters other than userPoolId are not decoded: they hold nothing the
// consumer needs (Cognito hides tokens and usernames there).
func Decode(body []byte) (*Event, error) {
	if len(body) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrMalformed, len(body), MaxMessageBytes)
	}
	var ev Event
	if err := json.Unmarshal(body, &ev.Envelope); err != nil {
		return nil, fmt.Errorf("%w: envelope: %w", ErrMalformed, err)
	}
	d := bytes.TrimSpace(ev.Envelope.Detail)
	if len(d) == 0 || d[0] != '{' {
		return nil, fmt.Errorf("%w: no detail object", ErrMalformed)
	}
	if err := json.Unmarshal(d, &ev.Record); err != nil {
		return nil, fmt.Errorf("%w: detail: %w", ErrMalformed, err)
	}
	return &ev, nil
}

// Time parses the record's eventTime (RFC 3339, UTC, second resolution).
func (r *Record) Time() (time.Time, error) {
	if r.EventTime == "" {
		return time.Time{}, fmt.Errorf("%w: no eventTime", ErrMalformed)
	}
	t, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: eventTime: %w", ErrMalformed, err)
	}
	return t, nil
}

// PoolID returns the user pool the record names: requestParameters.userPoolId,
// else the first Cognito user pool ARN of the record's resources or of the
// envelope's. It is "" when the record names none (token-authorised calls
// such as GlobalSignOut).
func (ev *Event) PoolID() string {
	if id := ev.Record.RequestParameters.UserPoolID; id != "" {
		return id
	}
	for _, arn := range ev.Record.Resources {
		if id := poolOfARN(arn); id != "" {
			return id
		}
	}
	for _, arn := range ev.Envelope.Resources {
		if id := poolOfARN(arn); id != "" {
			return id
		}
	}
	return ""
}

// poolOfARN returns the pool ID of a Cognito user pool ARN,
// arn:{partition}:cognito-idp:{region}:{account}:userpool/{poolId}, or "".
func poolOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "cognito-idp" {
		return ""
	}
	id, ok := strings.CutPrefix(parts[5], "userpool/")
	if !ok || strings.Contains(id, "/") {
		return ""
	}
	return id
}

// Wrap returns record, a CloudTrail record of a Cognito call (as
// cognitotest's fake pool emits them), wrapped in an EventBridge event as
// an EventBridge rule delivers it to its target: source aws.cognito-idp,
// the detail-type of its eventType, time and region of the record, id the
// given one. The in-process queue of tests and demos carries such bodies.
func Wrap(record []byte, id, account string) ([]byte, error) {
	var r Record
	if err := json.Unmarshal(record, &r); err != nil {
		return nil, fmt.Errorf("events: Wrap: %w", err)
	}
	dt := DetailTypeAPICall
	if r.EventType == "AwsServiceEvent" {
		dt = DetailTypeServiceEvent
	}
	return json.Marshal(Envelope{
		Version: "0", ID: id, DetailType: dt, Source: Source, Account: account,
		Time: r.EventTime, Region: r.AWSRegion, Resources: []string{}, Detail: record,
	})
}

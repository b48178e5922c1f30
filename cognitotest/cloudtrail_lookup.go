package cognitotest

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// lookupEventsTarget is the X-Amz-Target of CloudTrail's LookupEvents, as
// aws-sdk-go-v2/service/cloudtrail sends it (the service shape's name
// without its namespace).
const lookupEventsTarget = "CloudTrail_20131101.LookupEvents"

// Limits of LookupEvents, as CloudTrail's.
const (
	lookupPageSize   = 50 // MaxResults at most, and its default
	lookupRatePerSec = 2  // requests per second per account and region
)

type lookupEventsInput struct {
	LookupAttributes []struct {
		AttributeKey   string
		AttributeValue string
	}
	StartTime  *float64
	EndTime    *float64
	MaxResults *int
	NextToken  string
}

type lookupResource struct {
	ResourceType string
	ResourceName string
}

type lookupEvent struct {
	EventId         string
	EventName       string
	ReadOnly        string
	AccessKeyId     string
	EventTime       float64
	EventSource     string
	Username        string `json:",omitempty"`
	Resources       []lookupResource
	CloudTrailEvent string
}

type lookupEventsOutput struct {
	Events    []lookupEvent
	NextToken string `json:",omitempty"`
}

// serveLookupEvents answers CloudTrail's LookupEvents over the records of
// the pool's calls (the last 100 000; CloudTrail keeps 90 days): newest
// first, filtered by one EventName (the only attribute served) and the
// time range, pages of at most 50 with NextToken, and ThrottlingException
// beyond 2 requests in any second, as CloudTrail limits an account and
// region.
func (p *Pool) serveLookupEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		writeError(w, &apiError{http.StatusBadRequest, "SerializationException", "Unreadable request body."})
		return
	}
	if !p.lookupAllowed(time.Now()) {
		writeError(w, &apiError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"})
		return
	}
	var in lookupEventsInput
	if e := decode(body, &in); e != nil {
		writeError(w, e)
		return
	}
	out, e := p.lookupEvents(in)
	if e != nil {
		writeError(w, e)
		return
	}
	b, _ := json.Marshal(out) // cannot fail: strings and numbers
	setHeaders(w)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// lookupAllowed counts a LookupEvents request at now (the wall clock: the
// limit is AWS's, whatever the pool's clock) and reports whether it is
// within the rate.
func (p *Pool) lookupAllowed(now time.Time) bool {
	p.trail.mu.Lock()
	defer p.trail.mu.Unlock()
	recent := p.trail.lookups[:0]
	for _, t := range p.trail.lookups {
		if now.Sub(t) < time.Second {
			recent = append(recent, t)
		}
	}
	p.trail.lookups = recent
	if len(recent) >= lookupRatePerSec {
		return false
	}
	p.trail.lookups = append(p.trail.lookups, now)
	return true
}

var errInvalidNextToken = &apiError{http.StatusBadRequest, "InvalidNextTokenException", "Invalid NextToken."}

func (p *Pool) lookupEvents(in lookupEventsInput) (*lookupEventsOutput, *apiError) {
	name, e := lookupEventName(in)
	if e != nil {
		return nil, e
	}
	size := lookupPageSize
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > lookupPageSize {
			return nil, &apiError{http.StatusBadRequest, "InvalidMaxResultsException", "MaxResults must be between 1 and 50."}
		}
		size = *in.MaxResults
	}
	start, end := time.Time{}, time.Unix(math.MaxInt32, 0)
	if in.StartTime != nil {
		start = fromEpoch(*in.StartTime)
	}
	if in.EndTime != nil {
		end = fromEpoch(*in.EndTime)
	}
	if start.After(end) {
		return nil, &apiError{http.StatusBadRequest, "InvalidTimeRangeException", "StartTime must be before EndTime."}
	}
	// NextToken is the sequence number of the next (older) event to
	// return: stable while older records are dropped.
	p.trail.mu.Lock()
	defer p.trail.mu.Unlock()
	h := p.trail.history
	from := len(h)
	if in.NextToken != "" {
		n, err := strconv.ParseInt(in.NextToken, 10, 64)
		if err != nil || n < 1 || n > p.trail.seq {
			return nil, errInvalidNextToken
		}
		from = sort.Search(len(h), func(i int) bool { return h[i].seq > n })
	}
	out := &lookupEventsOutput{Events: []lookupEvent{}}
	for i := from - 1; i >= 0; i-- {
		ev := h[i]
		if name != "" && ev.name != name || ev.at.Before(start) || ev.at.After(end) {
			continue
		}
		if len(out.Events) == size {
			out.NextToken = strconv.FormatInt(ev.seq, 10)
			break
		}
		out.Events = append(out.Events, p.lookupEventOf(ev))
	}
	return out, nil
}

// lookupEventName returns the EventName to filter by ("" for none).
func lookupEventName(in lookupEventsInput) (string, *apiError) {
	switch len(in.LookupAttributes) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", &apiError{http.StatusBadRequest, "InvalidLookupAttributesException", "You can only specify one lookup attribute."}
	}
	a := in.LookupAttributes[0]
	if a.AttributeKey != "EventName" {
		return "", &apiError{http.StatusBadRequest, "InvalidLookupAttributesException", "cognitotest: only the EventName attribute is served"}
	}
	if a.AttributeValue == "" {
		return "", &apiError{http.StatusBadRequest, "InvalidLookupAttributesException", "AttributeValue is required."}
	}
	return a.AttributeValue, nil
}

func (p *Pool) lookupEventOf(ev trailEvent) lookupEvent {
	le := lookupEvent{
		EventId: ev.id, EventName: ev.name, ReadOnly: "false", AccessKeyId: ev.accessKey,
		EventTime: float64(ev.at.Unix()), EventSource: "cognito-idp.amazonaws.com",
		Resources: []lookupResource{}, CloudTrailEvent: string(ev.record),
	}
	if isAdminOp(ev.name) {
		le.Resources = append(le.Resources, lookupResource{"AWS::Cognito::UserPool", p.poolID})
	}
	return le
}

func fromEpoch(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// lookupEventsTargetQualified is the X-Amz-Target of LookupEvents with the
// service's namespace, as other SDKs (botocore) send it.
const lookupEventsTargetQualified = "com.amazonaws.cloudtrail.v20131101." + lookupEventsTarget

// isLookupEvents reports whether an X-Amz-Target names LookupEvents.
func isLookupEvents(target string) bool {
	return target == lookupEventsTarget || target == lookupEventsTargetQualified
}

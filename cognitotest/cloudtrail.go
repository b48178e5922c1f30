package cognitotest

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// CloudTrailAccount is the AWS account of the pool's CloudTrail records.
const CloudTrailAccount = "123456789012"

// hidden is what CloudTrail shows for a Cognito secret or username.
const hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// maxTrail bounds the records kept for LookupEvents.
const maxTrail = 100_000

// trail is the pool's CloudTrail: the sink, the event history and the
// LookupEvents throttle, under its own lock. codes (password-reset codes
// by sub) is guarded by the Pool's lock.
type trail struct {
	mu      sync.Mutex
	sink    func(record []byte)
	history []trailEvent // oldest first
	seq     int64        // of the last record
	lookups []time.Time  // times of recent LookupEvents requests

	codes map[string]resetCode
}

// trailEvent is one record kept for LookupEvents.
type trailEvent struct {
	seq                 int64
	id, name, accessKey string
	at                  time.Time
	record              []byte
}

// SetCloudTrailSink makes the pool pass sink the CloudTrail record of every
// Cognito API call it serves from now on, failed ones included, as
// Cognito's CloudTrail logging writes it (testdata/cloudtrail of this
// module shows the shapes, each field with its source): eventTime from
// the pool's clock at second resolution, a fresh eventID, the user's sub
// in additionalEventData, tokens, passwords and usernames hidden. The
// record is the CloudTrail record alone, not wrapped in an EventBridge
// event. sink is called before the call is answered, on the server's
// goroutine, one call at a time; it MUST NOT call the Pool's methods. Nil
// stops the records. Records are also kept for LookupEvents whatever the
// sink.
func (p *Pool) SetCloudTrailSink(sink func(record []byte)) {
	p.trail.mu.Lock()
	p.trail.sink = sink
	p.trail.mu.Unlock()
}

// serveAPITraced serves a call of the API (serveAPI) and passes its
// CloudTrail record to the trail before the answer leaves: the answer is
// buffered, the record built from the request and the answer, then the
// answer sent. LookupEvents is CloudTrail's own API.
func (p *Pool) serveAPITraced(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if isLookupEvents(target) {
		p.serveLookupEvents(w, r)
		return
	}
	op, _ := strings.CutPrefix(target, targetPrefix)
	if _, known := apiHandlers[op]; !known {
		p.serveAPI(w, r) // an unknown operation: no record
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		// serveAPI answers the same error; nothing was called.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		p.serveAPI(w, r)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	call := p.trailBegin(r, op, body)
	buf := &responseBuffer{header: http.Header{}}
	p.serveAPI(buf, r)
	var e *apiError
	if buf.status != http.StatusOK {
		typ, _, _ := strings.Cut(buf.header.Get("X-Amzn-Errortype"), ":")
		e = &apiError{buf.status, typ, buf.header.Get("X-Amzn-Errormessage")}
	}
	p.trailEnd(call, buf.body.Bytes(), e)
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(buf.body.Bytes())
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// responseBuffer is an http.ResponseWriter that keeps the answer.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// trailCall is a call being served, its record to be.
type trailCall struct {
	op        string
	at        time.Time
	params    map[string]json.RawMessage
	ip, agent string
	host      string
	accessKey string
	sub       string
}

// adminOps are the IAM-authorised operations: their records carry the
// caller's IAM identity and the pool's ARN.
func isAdminOp(op string) bool {
	return strings.HasPrefix(op, "Admin") || op == "CreateUserPoolClient" || op == "ListUsers"
}

var credentialRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`Credential=([A-Za-z0-9]+)/`) })

// trailBegin starts the record of a call: it resolves the user's sub now,
// before the call may delete the user.
func (p *Pool) trailBegin(r *http.Request, op string, body []byte) *trailCall {
	c := &trailCall{op: op, agent: r.UserAgent(), host: r.Host, accessKey: "ASIAEXAMPLEKEYID"}
	if m := credentialRe().FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.accessKey = m[1]
	}
	c.ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	_ = json.Unmarshal(body, &c.params) // an unreadable body is answered with an error, and recorded without parameters
	p.mu.Lock()
	c.at = p.now().UTC().Truncate(time.Second)
	c.sub = p.subOfCallLocked(c)
	p.mu.Unlock()
	return c
}

// param returns a string parameter of the call.
func (c *trailCall) param(name string) string {
	var s string
	_ = json.Unmarshal(c.params[name], &s)
	return s
}

// subOfCallLocked returns the sub of the user a call names, "" if none
// is known: by its access token, refresh token, or username.
func (p *Pool) subOfCallLocked(c *trailCall) string {
	if tok := c.param("AccessToken"); tok != "" {
		if pb, ok := p.verifySignatureLocked(tok); ok {
			var claims accessClaims
			if json.Unmarshal(pb, &claims) == nil && p.userBySubLocked(claims.Sub) != nil {
				return claims.Sub
			}
		}
		return ""
	}
	if s := p.sessions[c.param("Token")]; s != nil {
		return s.sub
	}
	name := c.param("Username")
	if name == "" && (c.op == "InitiateAuth" || c.op == "AdminInitiateAuth") {
		var ap map[string]string
		_ = json.Unmarshal(c.params["AuthParameters"], &ap)
		if s := p.sessions[ap["REFRESH_TOKEN"]]; s != nil {
			return s.sub
		}
		name = ap["USERNAME"]
	}
	if id := c.param("UserPoolId"); id != "" && id != p.poolID {
		return ""
	}
	if u := p.lookupLocked(name); u != nil {
		return u.Sub
	}
	return ""
}

// trailEnd completes the record of a call with its outcome and emits it.
func (p *Pool) trailEnd(c *trailCall, out []byte, e *apiError) {
	if c.sub == "" && e == nil {
		p.mu.Lock()
		c.sub = p.subOfCallLocked(c) // a user the call created
		p.mu.Unlock()
	}
	rec := p.trailRecord(c, out, e)
	ev := trailEvent{id: rec.eventID, name: c.op, accessKey: c.accessKey, at: c.at, record: rec.body}
	p.trail.mu.Lock()
	defer p.trail.mu.Unlock()
	p.trail.seq++
	ev.seq = p.trail.seq
	p.trail.history = append(p.trail.history, ev)
	if len(p.trail.history) > maxTrail {
		p.trail.history = slices.Delete(p.trail.history, 0, len(p.trail.history)-maxTrail)
	}
	if p.trail.sink != nil {
		p.trail.sink(slices.Clone(rec.body))
	}
}

type builtRecord struct {
	eventID string
	body    []byte
}

// region is the AWS region of the pool: its ID's prefix when that is a
// region name, else us-east-1.
func (p *Pool) region() string {
	if r, _, ok := strings.Cut(p.poolID, "_"); ok && regionPattern().MatchString(r) {
		return r
	}
	return "us-east-1"
}

var regionPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`) })

// trailRecord builds the CloudTrail record of a call, in the field order
// of testdata/cloudtrail.
func (p *Pool) trailRecord(c *trailCall, out []byte, e *apiError) builtRecord {
	admin := isAdminOp(c.op)
	region := p.region()
	var o object
	o.set("eventVersion", "1.08")
	o.set("userIdentity", json.RawMessage(userIdentity(admin, c.accessKey)))
	o.set("eventTime", c.at.Format(time.RFC3339))
	o.set("eventSource", "cognito-idp.amazonaws.com")
	o.set("eventName", c.op)
	o.set("awsRegion", region)
	o.set("sourceIPAddress", c.ip)
	o.set("userAgent", c.agent)
	if e != nil {
		o.set("errorCode", e.errType)
		o.set("errorMessage", e.message)
	}
	o.set("requestParameters", json.RawMessage(trailParams(c.params)))
	o.set("responseElements", json.RawMessage(trailResponse(out, e)))
	if c.sub != "" {
		var a object
		a.set("sub", c.sub)
		o.set("additionalEventData", json.RawMessage(a.encode()))
	}
	o.set("requestID", newUUID())
	id := newUUID()
	o.set("eventID", id)
	o.set("readOnly", false)
	if pool := c.param("UserPoolId"); admin && pool != "" {
		var res object
		res.set("accountId", CloudTrailAccount)
		res.set("type", "AWS::Cognito::UserPool")
		res.set("ARN", "arn:aws:cognito-idp:"+region+":"+CloudTrailAccount+":userpool/"+pool)
		o.set("resources", []json.RawMessage{res.encode()})
	}
	o.set("eventType", "AwsApiCall")
	o.set("managementEvent", true)
	o.set("recipientAccountId", CloudTrailAccount)
	o.set("eventCategory", "Management")
	var tls object
	tls.set("tlsVersion", "TLSv1.3")
	tls.set("cipherSuite", "TLS_AES_128_GCM_SHA256")
	tls.set("clientProvidedHostHeader", c.host)
	o.set("tlsDetails", json.RawMessage(tls.encode()))
	return builtRecord{eventID: id, body: o.encode()}
}

func userIdentity(admin bool, accessKey string) []byte {
	var o object
	if !admin {
		o.set("type", "Unknown")
		o.set("principalId", "Anonymous")
		return o.encode()
	}
	o.set("type", "AssumedRole")
	o.set("principalId", "AROAEXAMPLEID:cognitotest")
	o.set("arn", "arn:aws:sts::"+CloudTrailAccount+":assumed-role/cognitotest/cognitotest")
	o.set("accountId", CloudTrailAccount)
	o.set("accessKeyId", accessKey)
	return o.encode()
}

// hiddenParams are the request and response members CloudTrail hides.
var hiddenParams = map[string]bool{
	"AccessToken": true, "IdToken": true, "RefreshToken": true, "Token": true,
	"Password": true, "PreviousPassword": true, "ProposedPassword": true, "TemporaryPassword": true,
	"ConfirmationCode": true, "Username": true, "AuthParameters": true, "SecretHash": true,
	"ClientSecret": true, "UserAttributes": true, "Session": true,
}

// trailParams converts request parameters to CloudTrail's form: member
// names in lowerCamelCase, sorted, secrets hidden.
func trailParams(params map[string]json.RawMessage) []byte {
	if params == nil {
		return []byte("null")
	}
	var o object
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if hiddenParams[k] {
			o.set(lowerFirst(k), hidden)
		} else {
			o.set(lowerFirst(k), params[k])
		}
	}
	return o.encode()
}

// trailResponse is the call's responseElements: null for a failure or an
// empty answer, else the answer with member names in lowerCamelCase, null
// members and empty objects left out, and tokens hidden.
func trailResponse(out []byte, e *apiError) []byte {
	if e != nil {
		return []byte("null")
	}
	var v any
	if json.Unmarshal(out, &v) != nil {
		return []byte("null")
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return []byte("null")
	}
	return responseObject(m).encode()
}

func responseObject(m map[string]any) object {
	var o object
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		sub, isObject := v.(map[string]any)
		switch {
		case v == nil, isObject && len(sub) == 0:
			continue
		case hiddenParams[k]:
			v = hidden
		case isObject:
			v = json.RawMessage(responseObject(sub).encode())
		}
		o.set(lowerFirst(k), v)
	}
	return o
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

package events_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/events"
)

var testPools = []events.Pool{{ID: testPool}, {ID: secondPool}, {ID: replica, Regions: []string{"us-east-1"}}}

// regionPools are the configured pools of us-east-1.
var regionPools = []string{testPool, secondPool, replica}

func TestHandleTestdata(t *testing.T) {
	adminPool := []string{testPool}
	tests := []struct {
		file                string
		passwords, sessions bool
		want                events.Outcome
		pools               []string
	}{
		{"GlobalSignOut", false, false, events.Recorded, regionPools},
		{"AdminUserGlobalSignOut", false, false, events.Recorded, adminPool},
		{"AdminDisableUser", false, false, events.Recorded, adminPool},
		{"AdminDeleteUser", false, false, events.Recorded, adminPool},
		{"DeleteUser", false, false, events.Recorded, regionPools},
		{"ChangePassword", false, false, events.PolicyOff, nil},
		{"ChangePassword", true, false, events.Recorded, regionPools},
		{"ConfirmForgotPassword", false, false, events.PolicyOff, nil},
		{"ConfirmForgotPassword", true, false, events.Recorded, regionPools},
		{"AdminSetUserPassword", false, false, events.PolicyOff, nil},
		{"AdminSetUserPassword", true, false, events.Recorded, adminPool},
		{"AdminResetUserPassword", false, true, events.PolicyOff, nil},
		{"AdminResetUserPassword", true, false, events.Recorded, adminPool},
		{"RevokeToken", true, false, events.PolicyOff, nil},
		{"RevokeToken", false, true, events.Recorded, regionPools},
		{"RevokeUserSession", false, false, events.PolicyOff, nil},
		{"RevokeUserSession", false, true, events.Recorded, regionPools},
		{"AdminRevokeUserSession", false, false, events.PolicyOff, nil},
		{"AdminRevokeUserSession", false, true, events.Recorded, adminPool},
		{"GlobalSignOut-failed", true, true, events.FailedCall, nil},
		{"InitiateAuth", true, true, events.NotSignOut, nil},
		{"Token_POST", true, true, events.NotSignOut, nil},
		{"AdminUserGlobalSignOut-otherpool", true, true, events.Unconfigured, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := &recorder{}
			var hooked []events.Result
			c, err := events.New(rec, testPools, events.Config{
				Passwords: tt.passwords, Sessions: tt.sessions,
				Now:     func() time.Time { return eventTime.Add(3 * time.Second) },
				OnEvent: func(_ context.Context, r events.Result) { hooked = append(hooked, r) },
			})
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Handle(t.Context(), testdata(t, tt.file))
			if err != nil || r.Outcome != tt.want {
				t.Fatalf("Handle = %v, %v; want %v, nil", r.Outcome, err, tt.want)
			}
			var pools []string
			for _, w := range rec.got() {
				if w.sub != testSub || !w.at.Equal(eventTime) {
					t.Errorf("recorded %+v, want sub %s at %v", w, testSub, eventTime)
				}
				pools = append(pools, w.pool)
			}
			slices.Sort(pools)
			want := slices.Sorted(slices.Values(tt.pools))
			if !slices.Equal(pools, want) {
				t.Errorf("recorded under %q, want %q", pools, want)
			}
			if len(hooked) != 1 || hooked[0].Outcome != tt.want || hooked[0].Lag != 3*time.Second {
				t.Errorf("OnEvent got %+v", hooked)
			}
		})
	}
}

func TestHandleEdited(t *testing.T) {
	gso := func(f func(env, d map[string]any)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return edit(t, testdata(t, "GlobalSignOut"), f) }
	}
	admin := func(f func(env, d map[string]any)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return edit(t, testdata(t, "AdminUserGlobalSignOut"), f) }
	}
	raw := func(s string) func(t *testing.T) []byte { return func(*testing.T) []byte { return []byte(s) } }
	tests := []struct {
		name  string
		body  func(t *testing.T) []byte
		want  events.Outcome
		pools []string
	}{
		{"empty errorCode is success", gso(func(_, d map[string]any) { d["errorCode"] = ""; d["errorMessage"] = "" }), events.Recorded, regionPools},
		{"errorCode without message", gso(func(_, d map[string]any) { d["errorCode"] = "InternalErrorException" }), events.FailedCall, nil},
		{"no sub", gso(func(_, d map[string]any) { delete(d, "additionalEventData") }), events.Malformed, nil},
		{"empty sub", gso(func(_, d map[string]any) { d["additionalEventData"] = map[string]any{"sub": ""} }), events.Malformed, nil},
		{"no sub of another pool", admin(func(_, d map[string]any) {
			delete(d, "additionalEventData")
			d["requestParameters"] = map[string]any{"userPoolId": "eu-west-1_Nobody1"}
		}), events.Unconfigured, nil},
		{"no sub, failed call", gso(func(_, d map[string]any) { delete(d, "additionalEventData"); d["errorCode"] = "NotAuthorizedException" }), events.FailedCall, nil},
		{"no sub, not a sign-out", gso(func(_, d map[string]any) { delete(d, "additionalEventData"); d["eventName"] = "GetUser" }), events.NotSignOut, nil},
		{"pool from the ARN", admin(func(_, d map[string]any) { delete(d, "requestParameters") }), events.Recorded, []string{testPool}},
		{"pool from the envelope's ARN", admin(func(env, d map[string]any) {
			delete(d, "requestParameters")
			delete(d, "resources")
			env["resources"] = []any{"arn:aws:cognito-idp:us-east-1:123456789012:userpool/" + secondPool}
		}), events.Recorded, []string{secondPool}},
		{"foreign ARN ignored", admin(func(_, d map[string]any) {
			delete(d, "requestParameters")
			d["resources"] = []any{map[string]any{"ARN": "arn:aws:s3:::bucket"}}
		}), events.Recorded, regionPools},
		{"region without pools", gso(func(_, d map[string]any) { d["awsRegion"] = "ap-south-1" }), events.Unconfigured, nil},
		{"replica region", gso(func(_, d map[string]any) { d["awsRegion"] = "eu-central-1" }), events.Recorded, []string{replica}},
		{"no pool, no region", gso(func(_, d map[string]any) { delete(d, "awsRegion") }), events.Malformed, nil},
		{"4 minutes ahead", gso(func(_, d map[string]any) { d["eventTime"] = "2026-06-01T12:04:00Z" }), events.Recorded, regionPools},
		{"6 minutes ahead", gso(func(_, d map[string]any) { d["eventTime"] = "2026-06-01T12:06:01Z" }), events.Malformed, nil},
		{"older than the TTL", gso(func(_, d map[string]any) { d["eventTime"] = "2026-05-31T11:00:00Z" }), events.Expired, nil},
		{"no eventTime", gso(func(_, d map[string]any) { delete(d, "eventTime") }), events.Malformed, nil},
		{"bad eventTime", gso(func(_, d map[string]any) { d["eventTime"] = "yesterday" }), events.Malformed, nil},
		{"another source", gso(func(env, _ map[string]any) { env["source"] = "aws.s3" }), events.NotSignOut, nil},
		{"another eventSource", gso(func(_, d map[string]any) { d["eventSource"] = "s3.amazonaws.com" }), events.NotSignOut, nil},
		{"sub with a newline", gso(func(_, d map[string]any) { d["additionalEventData"] = map[string]any{"sub": "a\nb"} }), events.Malformed, nil},
		{"sub of the wrong type", gso(func(_, d map[string]any) { d["additionalEventData"] = map[string]any{"sub": 7} }), events.Malformed, nil},
		{"requestParameters a string, not a sign-out", gso(func(_, d map[string]any) { d["requestParameters"] = "x"; d["eventName"] = "GetUser" }), events.NotSignOut, nil},
		{"requestParameters a string", gso(func(_, d map[string]any) { d["requestParameters"] = "x" }), events.Recorded, regionPools},
		{"resources not a list", admin(func(_, d map[string]any) { delete(d, "requestParameters"); d["resources"] = 7 }), events.Recorded, regionPools},
		{"eventName a number", gso(func(_, d map[string]any) { d["eventName"] = 7 }), events.Malformed, nil},
		{"detail not an object", gso(func(env, _ map[string]any) { env["detail"] = "x" }), events.Malformed, nil},
		{"not JSON", raw("{"), events.Malformed, nil},
		{"empty", raw(""), events.Malformed, nil},
		{"no detail", raw(`{"source":"aws.cognito-idp"}`), events.Malformed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			c, err := events.New(rec, testPools, events.Config{Now: func() time.Time { return eventTime }})
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Handle(t.Context(), tt.body(t))
			if r.Outcome != tt.want {
				t.Fatalf("Handle = %v (%v), want %v", r.Outcome, err, tt.want)
			}
			if (tt.want == events.Malformed) != errors.Is(err, events.ErrMalformed) || (err == nil) != tt.want.Final() {
				t.Errorf("err = %v for %v", err, tt.want)
			}
			var pools []string
			for _, w := range rec.got() {
				pools = append(pools, w.pool)
			}
			slices.Sort(pools)
			if want := slices.Sorted(slices.Values(tt.pools)); !slices.Equal(pools, want) {
				t.Errorf("recorded under %q, want %q", pools, want)
			}
		})
	}
}

func TestHandleStoreError(t *testing.T) {
	rec := &recorder{fail: true}
	c, err := events.New(rec, testPools, events.Config{Now: func() time.Time { return eventTime }})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Handle(t.Context(), testdata(t, "AdminDeleteUser"))
	if r.Outcome != events.StoreFailed || !errors.Is(err, events.ErrStore) || !errors.Is(err, errDown) {
		t.Fatalf("Handle = %v, %v; want StoreFailed, ErrStore wrapping the store's error", r.Outcome, err)
	}
}

func TestNewRefuses(t *testing.T) {
	rec := &recorder{}
	for name, tt := range map[string]struct {
		rec   events.Recorder
		pools []events.Pool
		cfg   events.Config
	}{
		"nil recorder":    {nil, testPools, events.Config{}},
		"no pools":        {rec, nil, events.Config{}},
		"empty pool ID":   {rec, []events.Pool{{}}, events.Config{}},
		"duplicate pool":  {rec, []events.Pool{{ID: testPool}, {ID: testPool}}, events.Config{}},
		"no region":       {rec, []events.Pool{{ID: "local_abc"}}, events.Config{}},
		"negative TTL":    {rec, testPools, events.Config{TTL: -1}},
		"tiny visibility": {rec, testPools, events.Config{Visibility: time.Millisecond}},
	} {
		if _, err := events.New(tt.rec, tt.pools, tt.cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := events.New(rec, []events.Pool{{ID: "local_abc", Regions: []string{"us-east-1"}}}, events.Config{}); err != nil {
		t.Errorf("emulator pool with its region: %v", err)
	}
}

func TestEventNames(t *testing.T) {
	if got := events.EventNames(events.KindSignOut); !slices.Equal(got, []string{"GlobalSignOut", "AdminUserGlobalSignOut", "AdminDisableUser", "AdminDeleteUser", "DeleteUser"}) {
		t.Errorf("sign-outs: %q", got)
	}
	if got := events.EventNames(events.KindOther); got != nil {
		t.Errorf("other: %q", got)
	}
}

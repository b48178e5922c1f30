package cognitotest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

const lookupTarget = "CloudTrail_20131101.LookupEvents"

type lookupPage struct {
	Events []struct {
		EventId, EventName, CloudTrailEvent string
		EventTime                           float64
		Resources                           []struct{ ResourceType, ResourceName string }
	}
	NextToken string
	Type      string `json:"__type"`
}

// lookup posts one LookupEvents request; the SDK's test is in the
// awsevents module (the root module does not import service/cloudtrail).
func lookup(t *testing.T, pool *cognitotest.Pool, in map[string]any) (int, lookupPage) {
	t.Helper()
	return lookupWith(t, pool, lookupTarget, in)
}

func lookupAs(t *testing.T, pool *cognitotest.Pool, target string) (int, lookupPage) {
	t.Helper()
	return lookupWith(t, pool, target, map[string]any{})
}

func lookupWith(t *testing.T, pool *cognitotest.Pool, target string, in map[string]any) (int, lookupPage) {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, pool.URL()+"/", bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page lookupPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, page
}

// lookupPaced calls lookup at most twice a second.
func lookupPaced(t *testing.T, pool *cognitotest.Pool, in map[string]any) lookupPage {
	t.Helper()
	for {
		code, page := lookup(t, pool, in)
		if code == http.StatusOK {
			return page
		}
		if page.Type != "ThrottlingException" {
			t.Fatalf("LookupEvents: %d %s", code, page.Type)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestLookupEventsPagesAndFilters(t *testing.T) {
	pool, clock := newPool(t, cognitotest.Config{})
	for i := range 120 {
		pool.AddUser(cognitotest.User{Username: fmt.Sprintf("u%d", i)})
	}
	api := pool.Client()
	for i := range 120 { // 90 AdminUserGlobalSignOut, 30 AdminDisableUser, one a second
		clock.Advance(time.Second)
		id, name := aws.String(pool.PoolID()), aws.String(fmt.Sprintf("u%d", i))
		var err error
		if i%4 == 0 {
			_, err = api.AdminDisableUser(t.Context(), &cip.AdminDisableUserInput{UserPoolId: id, Username: name})
		} else {
			_, err = api.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: id, Username: name})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	in := map[string]any{"LookupAttributes": []map[string]string{{"AttributeKey": "EventName", "AttributeValue": "AdminUserGlobalSignOut"}}}
	var got []string
	var last float64
	pages := 0
	for {
		page := lookupPaced(t, pool, in)
		pages++
		for _, e := range page.Events {
			if e.EventName != "AdminUserGlobalSignOut" {
				t.Fatalf("filtered by name, got %s", e.EventName)
			}
			if last != 0 && e.EventTime > last {
				t.Fatal("not newest first")
			}
			last = e.EventTime
			if len(e.Resources) != 1 || e.Resources[0].ResourceName != pool.PoolID() {
				t.Errorf("resources %+v", e.Resources)
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(e.CloudTrailEvent), &rec); err != nil || rec["eventID"] != e.EventId {
				t.Fatalf("CloudTrailEvent %q: %v", e.CloudTrailEvent, err)
			}
			got = append(got, e.EventId)
		}
		if page.NextToken == "" {
			break
		}
		in["NextToken"] = page.NextToken
	}
	if len(got) != 90 || pages != 2 {
		t.Errorf("%d events in %d pages, want 90 in 2 (50 per page)", len(got), pages)
	}
	// A time range: the last 10 seconds of the pool's clock.
	in = map[string]any{"StartTime": float64(clock.Now().Add(-9 * time.Second).Unix()), "EndTime": float64(clock.Now().Unix())}
	if page := lookupPaced(t, pool, in); len(page.Events) != 10 {
		t.Errorf("%d events in the last 10 s, want 10", len(page.Events))
	}
}

func TestLookupEventsThrottlesAndRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the rate limit (seconds)")
	}
	pool, _ := newPool(t, cognitotest.Config{})
	throttled := 0
	for range 5 {
		if code, page := lookup(t, pool, map[string]any{}); code != http.StatusOK {
			if page.Type != "ThrottlingException" {
				t.Fatalf("%d %s", code, page.Type)
			}
			throttled++
		}
	}
	time.Sleep(time.Second)
	if code, page := lookupAs(t, pool, "com.amazonaws.cloudtrail.v20131101."+lookupTarget); code != http.StatusOK {
		t.Errorf("the namespaced target: %d %s", code, page.Type)
	}
	if throttled < 3 {
		t.Errorf("%d of 5 immediate requests throttled, want >= 3 (2 per second)", throttled)
	}
	time.Sleep(time.Second)
	for _, tt := range []struct {
		in   map[string]any
		want string
	}{
		{map[string]any{"MaxResults": 51}, "InvalidMaxResultsException"},
		{map[string]any{"NextToken": "x"}, "InvalidNextTokenException"},
		{map[string]any{"StartTime": 20.0, "EndTime": 10.0}, "InvalidTimeRangeException"},
		{map[string]any{"LookupAttributes": []map[string]string{{"AttributeKey": "Username", "AttributeValue": "a"}}}, "InvalidLookupAttributesException"},
	} {
		time.Sleep(600 * time.Millisecond)
		if code, page := lookup(t, pool, tt.in); code != http.StatusBadRequest || page.Type != tt.want {
			t.Errorf("%v: %d %s, want 400 %s", tt.in, code, page.Type, tt.want)
		}
	}
}

package cognitotest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// trailSink collects the records a pool emits.
type trailSink struct {
	mu      sync.Mutex
	records []map[string]any
}

func (s *trailSink) add(b []byte) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("record is not JSON: %v: %s", err, b))
	}
	s.mu.Lock()
	s.records = append(s.records, m)
	s.mu.Unlock()
}

// take returns the records emitted since the last take.
func (s *trailSink) take() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records
	s.records = nil
	return r
}

// shape flattens v into its JSON paths and their types.
func shape(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		out[prefix] = "object"
		for k, e := range x {
			shape(prefix+"."+k, e, out)
		}
	case []any:
		out[prefix] = "array"
		for _, e := range x {
			shape(prefix+"[]", e, out)
		}
	case nil:
		out[prefix] = "null"
	case string:
		out[prefix] = "string"
	case float64:
		out[prefix] = "number"
	case bool:
		out[prefix] = "bool"
	}
}

func shapeOf(v any) map[string]string {
	m := map[string]string{}
	shape("", v, m)
	return m
}

// testdataDetail returns the CloudTrail record of testdata/cloudtrail/name.json.
func testdataDetail(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "cloudtrail", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env["detail"].(map[string]any)
}

// sameShape fails t unless the record has the paths and types of the
// testdata file, and the fixed values.
func sameShape(t *testing.T, file string, got map[string]any) {
	t.Helper()
	want := testdataDetail(t, file)
	gs, ws := shapeOf(got), shapeOf(want)
	var diffs []string
	for p, typ := range ws {
		if gs[p] != typ {
			diffs = append(diffs, fmt.Sprintf("%s: %q, want %q", p, gs[p], typ))
		}
	}
	for p, typ := range gs {
		if _, ok := ws[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %q not in testdata", p, typ))
		}
	}
	for _, k := range []string{"eventVersion", "eventSource", "eventName", "eventType", "managementEvent", "eventCategory", "readOnly", "recipientAccountId"} {
		if got[k] != want[k] {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", k, got[k], want[k]))
		}
	}
	if ui, wui := got["userIdentity"].(map[string]any), want["userIdentity"].(map[string]any); ui["type"] != wui["type"] {
		diffs = append(diffs, fmt.Sprintf("userIdentity.type = %v, want %v", ui["type"], wui["type"]))
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: the fake's record differs from testdata/cloudtrail:\n%s", file, strings.Join(diffs, "\n"))
	}
}

func TestCloudTrailRecordsMatchTestdata(t *testing.T) {
	const poolID = "us-east-1_AbCdEf123"
	pool, clock := newPool(t, cognitotest.Config{PoolID: poolID})
	sink := &trailSink{}
	pool.SetCloudTrailSink(sink.add)
	api := pool.Client()
	ctx := t.Context()
	alice := pool.AddUser(cognitotest.User{Username: "alice", Password: "Passw0rd!", Email: "alice@example.com",
		Attributes: map[string]string{"email_verified": "true"}})
	signIn := func(user, pw string) *types.AuthenticationResultType {
		t.Helper()
		out, err := api.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(pool.ClientID()),
			AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw}})
		if err != nil {
			t.Fatalf("InitiateAuth: %v", err)
		}
		return out.AuthenticationResult
	}
	admin := func(u string) (*string, *string) { return aws.String(poolID), aws.String(u) }
	p, u := admin("alice")

	steps := []struct {
		file string
		call func() error
	}{
		{"InitiateAuth", func() error { signIn("alice", "Passw0rd!"); return nil }},
		{"ChangePassword", func() error {
			a := signIn("alice", "Passw0rd!")
			sink.take()
			_, err := api.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: a.AccessToken, PreviousPassword: aws.String("Passw0rd!"), ProposedPassword: aws.String("N3w-Passw0rd")})
			return err
		}},
		{"GlobalSignOut", func() error {
			a := signIn("alice", "N3w-Passw0rd")
			sink.take()
			_, err := api.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: a.AccessToken})
			if err == nil {
				sameShape(t, "GlobalSignOut", sink.take()[0])
				clock.Advance(time.Second)
				_, err = api.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: a.AccessToken})
				if err == nil || !strings.Contains(err.Error(), "Access Token has been revoked") {
					return fmt.Errorf("second GlobalSignOut: %v", err)
				}
				return nil // its record, failed, is checked as GlobalSignOut-failed
			}
			return err
		}},
		{"AdminSetUserPassword", func() error {
			_, err := api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: p, Username: u, Password: aws.String("Th1rd-Passw0rd"), Permanent: true})
			return err
		}},
		{"AdminResetUserPassword", func() error {
			_, err := api.AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: p, Username: u})
			return err
		}},
		{"ConfirmForgotPassword", func() error {
			code, ok := pool.ConfirmationCode("alice")
			if !ok {
				return errors.New("no code")
			}
			_, err := api.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(pool.ClientID()), Username: aws.String("alice"), ConfirmationCode: aws.String(code), Password: aws.String("F0urth-Passw0rd")})
			return err
		}},
		{"RevokeToken", func() error {
			a := signIn("alice", "F0urth-Passw0rd")
			sink.take()
			_, err := api.RevokeToken(ctx, &cip.RevokeTokenInput{Token: a.RefreshToken, ClientId: aws.String(pool.ClientID())})
			return err
		}},
		{"AdminUserGlobalSignOut", func() error {
			_, err := api.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: p, Username: u})
			return err
		}},
		{"AdminDisableUser", func() error {
			_, err := api.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: p, Username: u})
			return err
		}},
		{"AdminDeleteUser", func() error {
			_, err := api.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: p, Username: u})
			return err
		}},
		{"DeleteUser", func() error {
			pool.AddUser(cognitotest.User{Username: "bob", Password: "B0b-Passw0rd", Sub: alice.Sub})
			a := signIn("bob", "B0b-Passw0rd")
			sink.take()
			_, err := api.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: a.AccessToken})
			return err
		}},
	}
	seen := map[string]bool{}
	for _, s := range steps {
		clock.Advance(1500 * time.Millisecond)
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.file, err)
		}
		recs := sink.take()
		if len(recs) != 1 {
			t.Fatalf("%s: %d records, want 1", s.file, len(recs))
		}
		rec := recs[0]
		file := s.file
		if rec["errorCode"] != nil {
			file += "-failed"
		}
		sameShape(t, file, rec)
		checkRecord(t, rec, alice.Sub, clock.Now(), seen)
	}
}

// checkRecord checks the values a record must carry: the sub, the time at
// second resolution, and a fresh eventID.
func checkRecord(t *testing.T, rec map[string]any, sub string, now time.Time, seen map[string]bool) {
	t.Helper()
	if got := rec["additionalEventData"].(map[string]any)["sub"]; got != sub {
		t.Errorf("%v: sub %v, want %v", rec["eventName"], got, sub)
	}
	if want := now.UTC().Truncate(time.Second).Format(time.RFC3339); rec["eventTime"] != want {
		t.Errorf("%v: eventTime %v, want %v", rec["eventName"], rec["eventTime"], want)
	}
	id, _ := rec["eventID"].(string)
	if id == "" || seen[id] {
		t.Errorf("%v: eventID %q not fresh", rec["eventName"], id)
	}
	seen[id] = true
}

func TestCloudTrailFailedCalls(t *testing.T) {
	pool, _ := newPool(t, cognitotest.Config{})
	sink := &trailSink{}
	pool.SetCloudTrailSink(sink.add)
	api := pool.Client()
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, err := api.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(pool.PoolID()), Username: aws.String("nobody")})
	var nf *types.UserNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v", err)
	}
	pool.FailNext("AdminDisableUser", "TooManyRequestsException", 0, 1)
	_, err = api.AdminDisableUser(t.Context(), &cip.AdminDisableUserInput{UserPoolId: aws.String(pool.PoolID()), Username: aws.String("alice")})
	if err == nil {
		t.Fatal("injected failure did not fail")
	}
	recs := sink.take()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	if recs[0]["errorCode"] != "UserNotFoundException" || recs[0]["additionalEventData"] != nil {
		t.Errorf("unknown user: %v", recs[0])
	}
	if recs[1]["errorCode"] != "TooManyRequestsException" || recs[1]["additionalEventData"] == nil {
		t.Errorf("injected failure: %v", recs[1])
	}
	pool.SetCloudTrailSink(nil)
	if _, err := api.AdminEnableUser(t.Context(), &cip.AdminEnableUserInput{UserPoolId: aws.String(pool.PoolID()), Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.take()); n != 0 {
		t.Errorf("%d records after the sink was removed", n)
	}
}

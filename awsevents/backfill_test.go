package awsevents_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go/middleware"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// cloudTrailClient is the real CloudTrail client against the fake pool's
// LookupEvents, its calls recorded in consumerOps. Each request has a
// connection of its own: in CI, under the race detector, all three of the
// SDK's attempts of one LookupEvents once failed reading a 200 response
// with "use of closed network connection" (the net/http race discussed
// in aws-sdk-go-v2 #2737); these tests are about the backfill, so no
// connection is reused from one request to the next.
func cloudTrailClient(p *cognitotest.Pool) *cloudtrail.Client {
	return cloudtrail.New(cloudtrail.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(p.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("x", "x", ""),
		APIOptions:   []func(*middleware.Stack) error{consumerOps.Option},
		HTTPClient:   &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	})
}

// backfillPool is a fake pool whose users u0…u(n-1) were signed out by
// AdminUserGlobalSignOut through the SDK (with a failed call and a
// sign-in among them), and the users' subs.
func backfillPool(t *testing.T, id string, n int) (*cognitotest.Pool, []string) {
	t.Helper()
	p := cognitotest.NewPool(cognitotest.Config{PoolID: id})
	t.Cleanup(p.Close)
	c := p.Client()
	subs := make([]string, n)
	for i := range n {
		u := p.AddUser(cognitotest.User{Username: fmt.Sprintf("u%d", i), Password: "Pass-word-1"})
		subs[i] = u.Sub
		if _, err := c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(id), Username: aws.String(u.Username)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(id), Username: aws.String("nobody")}); err == nil {
		t.Fatal("sign-out of nobody succeeded")
	}
	if _, err := c.InitiateAuth(t.Context(), &cip.InitiateAuthInput{AuthFlow: "USER_PASSWORD_AUTH", ClientId: aws.String(p.ClientID()),
		AuthParameters: map[string]string{"USERNAME": "u0", "PASSWORD": "Pass-word-1"}}); err != nil {
		t.Fatal(err)
	}
	return p, subs
}

// newBackfill is a backfill of pool id that reads the fake pool p's
// LookupEvents through the real CloudTrail client and records into store.
func newBackfill(t *testing.T, p *cognitotest.Pool, id string, store *revocation.Memory) *awsevents.Backfill {
	t.Helper()
	pools := []events.Pool{{ID: id}}
	c, err := events.New(store, pools, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := awsevents.NewBackfill(c, store, pools, map[string]awsevents.CloudTrailAPI{"us-east-1": cloudTrailClient(p)}, awsevents.BackfillConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBackfill: against the fake pool's throttled LookupEvents through
// the real CloudTrail client, a backfill re-records every sign-out of
// its window at its eventTime, pages through more than 50 events, stays
// within 2 requests/s, and counts the events the store did not hold as
// missed.
func TestBackfill(t *testing.T) {
	const id, n, delivered = "us-east-1_Backfill1", 60, 15
	p, subs := backfillPool(t, id, n)
	store := revocation.NewMemory(revocation.MemoryConfig{})
	ctx := t.Context()
	// The queue delivered some of them already (at or after their
	// eventTime).
	before := time.Now().Add(-time.Minute)
	for _, sub := range subs[:delivered] {
		if err := store.RevokeUser(ctx, id, sub, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	b := newBackfill(t, p, id, store)
	start := time.Now()
	st, err := b.Run(ctx, before, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatalf("Run: %v (stats %+v)", err, st)
	}
	elapsed := time.Since(start)
	names := len(awsevents.HonouredNames(false, false))
	// Two pages of AdminUserGlobalSignOut, one (empty) per other name.
	if want := names + 1; st.Requests != want {
		t.Errorf("Requests = %d, want %d", st.Requests, want)
	}
	if min := time.Duration(st.Requests-1) * time.Second / awsevents.LookupRate; elapsed < min {
		t.Errorf("%d requests in %v: over %d/s", st.Requests, elapsed, awsevents.LookupRate)
	}
	// The failed call is an event, not a sign-out.
	if st.Events != n+1 || st.Recorded != n || st.Missed != n-delivered || st.Malformed != 0 {
		t.Errorf("stats = %+v, want %d events, %d recorded, %d missed", st, n+1, n, n-delivered)
	}
	for i, sub := range subs {
		at, ok, err := store.SignedOutAt(ctx, id, sub)
		if err != nil || !ok || at.Before(before) || at.After(time.Now()) {
			t.Errorf("u%d: SignedOutAt = %v, %v, %v; want its eventTime", i, at, ok, err)
		}
	}
}

func TestNewBackfillChecks(t *testing.T) {
	store := revocation.NewMemory(revocation.MemoryConfig{})
	pools := []events.Pool{{ID: "eu-west-1_Abc", Regions: []string{"eu-central-1"}}}
	c, err := events.New(store, pools, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	one := map[string]awsevents.CloudTrailAPI{"eu-west-1": cloudtrail.New(cloudtrail.Options{})}
	if _, err := awsevents.NewBackfill(c, store, pools, one, awsevents.BackfillConfig{}); err == nil {
		t.Error("NewBackfill without a client for the replica region succeeded")
	}
	two := map[string]awsevents.CloudTrailAPI{"eu-west-1": one["eu-west-1"], "eu-central-1": one["eu-west-1"]}
	if _, err := awsevents.NewBackfill(c, store, pools, two, awsevents.BackfillConfig{Interval: 100 * time.Millisecond}); err == nil {
		t.Error("NewBackfill above 2 requests/s succeeded")
	}
	if _, err := awsevents.NewBackfill(c, store, pools, two, awsevents.BackfillConfig{}); err != nil {
		t.Errorf("NewBackfill: %v", err)
	}
}

// TestBackfillSharedQuota: another client taking the account's whole
// LookupEvents quota for 4 s (CloudTrail throttles the backfill's
// requests, beyond the SDK's retries) delays the backfill without failing
// it.
func TestBackfillSharedQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits out throttling")
	}
	const id = "us-east-1_Backfill2"
	p, subs := backfillPool(t, id, 5)
	store := revocation.NewMemory(revocation.MemoryConfig{})
	b := newBackfill(t, p, id, store)
	other := cloudtrail.New(cloudtrail.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", ""), RetryMaxAttempts: 1})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var throttled atomic.Int64
	burst, stop := context.WithTimeout(ctx, 4*time.Second)
	defer stop()
	for range 2 {
		wg.Go(func() {
			for burst.Err() == nil {
				_, err := other.LookupEvents(burst, &cloudtrail.LookupEventsInput{})
				if err != nil && strings.Contains(err.Error(), "ThrottlingException") {
					throttled.Add(1)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	st, err := b.Run(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	cancel()
	wg.Wait()
	if err != nil || st.Recorded != len(subs) {
		t.Fatalf("Run = %+v, %v; want %d recorded", st, err, len(subs))
	}
	t.Logf("the other client was throttled %d times", throttled.Load())
}

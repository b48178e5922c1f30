package awsevents_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/internal/acltest"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// emptyTrail is a CloudTrail event history without events.
type emptyTrail struct{}

func (emptyTrail) LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	return &cloudtrail.LookupEventsOutput{}, nil
}

// TestACLEventsUser: the events consumer's user of deploy/redis/users.acl
// may record sign-outs through a write-only store, run a reconciliation
// pass (its lock and the end of the last pass) and hold, extend and
// release the lock, without a denial; without any one of its rules
// something fails or is denied. The rules its store needs only on a
// Cluster, with sharded pub/sub, with WaitReplicas or when a session
// expires are checked by deploy/redis's TestACL and TestACLCluster.
func TestACLEventsUser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the consumer's Redis surface once per ACL rule: not with -short")
	}
	b, err := os.ReadFile("../deploy/redis/users.acl")
	if err != nil {
		t.Fatal(err)
	}
	acl := string(b)
	s := acltest.Start(t, "", acl)
	elsewhere := []string{"+cluster|slots", "+command", "+spublish", "+wait", "+hdel"}
	acltest.Check(t, s, acl, "cognitoguard-events", 10*time.Second, []acltest.Surface{eventsSurface(s.Addrs[0])}, elsewhere...)
}

func eventsSurface(addr string) acltest.Surface {
	return func(ctx context.Context, user string) error {
		client := redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: acltest.Password,
			ReadTimeout: time.Second, WriteTimeout: time.Second, ContextTimeoutEnabled: true})
		defer client.Close()
		store, err := redisstore.New(client, redisstore.Config{WriteOnly: true})
		if err != nil {
			return err
		}
		defer store.Close()
		if err := store.RevokeUser(ctx, tdPool, "alice", time.Now()); err != nil {
			return err
		}
		if _, ok, err := store.SignedOutAt(ctx, tdPool, "alice"); !ok || err != nil {
			return fmt.Errorf("SignedOutAt: %v, %w", ok, err)
		}

		c, err := events.New(store, []events.Pool{{ID: tdPool}}, events.Config{})
		if err != nil {
			return err
		}
		region, _ := cognitoguard.PoolRegion(tdPool)
		bf, err := awsevents.NewBackfill(c, store, []events.Pool{{ID: tdPool}},
			map[string]awsevents.CloudTrailAPI{region: emptyTrail{}}, awsevents.BackfillConfig{})
		if err != nil {
			return err
		}
		r, err := awsevents.NewReconciler(bf, client, awsevents.ReconcileConfig{})
		if err != nil {
			return err
		}
		if _, ran, err := r.Once(ctx); !ran || err != nil {
			return fmt.Errorf("reconcile pass: ran %v, %w", ran, err)
		}

		l, err := awsevents.NewLock(client, awsevents.DefaultReconcileKey+":lock", time.Minute)
		if err != nil {
			return err
		}
		held, err := l.Acquire(ctx)
		if err != nil {
			return err
		}
		return errors.Join(held.Extend(ctx), held.Release(ctx))
	}
}

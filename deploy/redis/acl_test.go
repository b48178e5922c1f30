package deploy_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/acltest"
	"github.com/cognitoguard/cognitoguard/internal/leaktest"
)

// The users of users.acl.
const (
	serviceUser = "cognitoguard-service"
	opsUser     = "cognitoguard-ops"
	eventsUser  = "cognitoguard-events"
)

// budget bounds one run of a surface; a surface that lacks a permission
// usually fails by waiting for Ready this long.
const budget = 10 * time.Second

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dropMarkers deletes every data-loss marker of the default prefix, as a
// restart without persistence would.
func dropMarkers(s *acltest.Server) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for _, c := range s.Admins() {
			keys, err := c.Keys(ctx, "cognitoguard:2:marker*").Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := c.Del(ctx, keys...).Err(); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

var classic, sharded = new(bool), func() *bool { b := true; return &b }()

// Rules of users.acl that only a Cluster or only the events consumer's
// lock (awsevents, tested in its module) needs.
var (
	clusterOnly = []string{"+cluster|slots", "+command"}
	lockOnly    = []string{"+set", "+get", "+del", "~cognitoguard:events:*"}
)

// sameAsService returns the ops user's rules after checking that they are
// the service's: the ops command opens the same store, so its rules are
// dropped one by one once, for the service (Check then runs the ops user
// with the whole file only).
func sameAsService(t *testing.T, acl string) []string {
	t.Helper()
	ops, svc := acltest.Permissions(acl, opsUser), acltest.Permissions(acl, serviceUser)
	if !slices.Equal(ops, svc) {
		t.Fatalf("%s's rules %q differ from %s's %q: check them one by one", opsUser, ops, serviceUser, svc)
	}
	return ops
}

// TestACL: users.acl lets the service, the ops command (the same store)
// and the events consumer's store do everything they do on a standalone
// Redis configured by cognitoguard.conf, without a denial, and each rule
// is needed: without any one of them the surface fails or Redis logs a
// denial.
func TestACL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the store about a hundred times: not with -short")
	}
	leaktest.Check(t)
	acl := readFile(t, "users.acl")
	s := acltest.Start(t, confFile(t), acl)
	store := []acltest.Surface{storeSurface(s.Addrs, classic, dropMarkers(s)), storeSurface(s.Addrs, sharded, dropMarkers(s))}
	t.Run(serviceUser, func(t *testing.T) { acltest.Check(t, s, acl, serviceUser, budget, store, clusterOnly...) })
	t.Run(opsUser, func(t *testing.T) { acltest.Check(t, s, acl, opsUser, budget, store, sameAsService(t, acl)...) })
	t.Run(eventsUser, func(t *testing.T) {
		events := []acltest.Surface{writeOnlySurface(s.Addrs, classic), writeOnlySurface(s.Addrs, sharded)}
		acltest.Check(t, s, acl, eventsUser, budget, events, append(clusterOnly, lockOnly...)...)
	})
}

// TestACLCluster: the same on a Redis Cluster, where the store uses
// sharded pub/sub and reads the slot map.
func TestACLCluster(t *testing.T) {
	leaktest.Check(t)
	acl := readFile(t, "users.acl")
	s := acltest.StartCluster(t, confFile(t), acl)
	notCluster := []string{"+publish", "+subscribe"} // classic pub/sub: standalone only
	store := []acltest.Surface{storeSurface(s.Addrs, nil, dropMarkers(s))}
	t.Run(serviceUser, func(t *testing.T) { acltest.Check(t, s, acl, serviceUser, budget, store, notCluster...) })
	t.Run(opsUser, func(t *testing.T) { acltest.Check(t, s, acl, opsUser, budget, store, sameAsService(t, acl)...) })
	t.Run(eventsUser, func(t *testing.T) {
		acltest.Check(t, s, acl, eventsUser, budget, []acltest.Surface{writeOnlySurface(s.Addrs, nil)}, append(notCluster, lockOnly...)...)
	})
}

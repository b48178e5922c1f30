package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// M2M client IDs of the clients contract's pools.
const (
	m2mClient   = "m2m-orders"
	otherClient = "m2m-billing"
)

// M2MPool returns a fake pool with a default web client, alice, and two
// machine clients (client credentials, secrets "<id>-secret"), on clock.
func M2MPool(t *testing.T, poolID string, now func() time.Time) *cognitotest.Pool {
	t.Helper()
	p := cognitotest.NewPool(cognitotest.Config{PoolID: poolID, Now: now, ClientIDs: []string{"web"},
		Clients: []cognitotest.AppClient{
			{ID: m2mClient, Secret: m2mClient + "-secret", OAuthFlows: []string{cognitotest.OAuthFlowClientCredentials}, OAuthScopes: []string{"orders/read"}},
			{ID: otherClient, Secret: otherClient + "-secret", OAuthFlows: []string{cognitotest.OAuthFlowClientCredentials}, OAuthScopes: []string{"billing/read"}},
		}})
	t.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Sub: "sub-alice"})
	return p
}

// clientsContract is one run of the clients contract: two pools with
// the same machine clients, a store and a Verifier reading it.
type clientsContract struct {
	*contract
	start time.Time
	p, q  *cognitotest.Pool
	store revocation.Store
	v     *cognitoguard.Verifier
}

// check verifies tok and compares its revocation with want. A revoked
// client-credentials token (no user: sub is the client ID) is said to be
// the app client's revocation, never a user's sign-out.
func (k *clientsContract) check(t *testing.T, name, tok string, want bool) {
	t.Helper()
	_, err := k.v.Verify(t.Context(), tok)
	if got := errors.Is(err, cognitoguard.ErrRevoked); got != want || (!want && err != nil) {
		t.Errorf("%s: Verify = %v, want revoked %v", name, err, want)
	}
	var e *cognitoguard.Error
	if want && errors.As(err, &e) && e.Subject == m2mClient && e.Reason != "app client revoked" {
		t.Errorf("%s: reason %q, want %q", name, e.Reason, "app client revoked")
	}
}

// clients checks RevokeClient: the client's tokens issued at or before T
// (M2M and user tokens, access and ID) are rejected; other clients,
// other pools and later tokens pass; latest T wins; records expire.
func (k *contract) clients(t *testing.T) {
	c := &clientsContract{contract: k, start: k.base.Add(time.Minute)}
	k.clock.Set(c.start)
	c.p = M2MPool(t, "us-east-1_poolM2M", k.clock.Now)
	c.q = M2MPool(t, "us-east-1_poolM2Q", k.clock.Now)
	c.store = k.env.NewStore(t, k.clock.Now)
	ids := []string{"web", m2mClient, otherClient}
	v, err := cognitoguard.New([]cognitoguard.Pool{
		{UserPoolID: c.p.PoolID(), Issuers: []string{c.p.Issuer()}, ClientIDs: ids},
		{UserPoolID: c.q.PoolID(), Issuers: []string{c.q.Issuer()}, ClientIDs: ids},
	}, cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny, Revocation: c.store, Now: k.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	c.v = v
	revokedAt, webAccess := c.revocations(t)
	c.records(t, revokedAt)
	d := revocation.DefaultTTL + time.Minute
	k.clock.Advance(d)
	if k.env.Advance != nil {
		k.env.Advance(t, d)
	}
	if _, ok, err := c.store.ClientRevokedAt(t.Context(), c.p.PoolID(), m2mClient); ok || err != nil {
		t.Errorf("after TTL: ClientRevokedAt = %v, %v; want none", ok, err)
	}
	c.check(t, "user token of the client after TTL", webAccess, false)
}

// revocations revokes the machine client and the web client of pool p
// and checks which tokens are rejected. It returns the revocation time
// and a long-lived user token of the web client issued before it.
func (c *clientsContract) revocations(t *testing.T) (time.Time, string) {
	ctx, p, q, clock := t.Context(), c.p, c.q, c.clock
	long := cognitotest.WithExpiry(c.start.Add(48 * time.Hour))
	m2m, other, qM2M := p.ClientToken(m2mClient), p.ClientToken(otherClient), q.ClientToken(m2mClient)
	webAccess := p.AccessToken("alice", cognitotest.WithAuthTime(c.start.Add(-time.Hour)), long)
	webID := p.IDToken("alice", cognitotest.WithAuthTime(c.start.Add(-time.Hour)))
	c.check(t, "before any record", m2m, false)

	clock.Advance(time.Second)
	revokedAt := clock.Now()
	for _, id := range []string{m2mClient, "web"} {
		if err := c.store.RevokeClient(ctx, p.PoolID(), id, revokedAt); err != nil {
			t.Fatal(err)
		}
	}
	c.check(t, "M2M token of the revoked client", m2m, true)
	c.check(t, "M2M token of another client", other, false)
	c.check(t, "same client ID in another pool", qM2M, false)
	c.check(t, "user access token of the revoked web client", webAccess, true)
	c.check(t, "user ID token of the revoked web client", webID, true)
	clock.Advance(time.Second)
	c.check(t, "M2M token issued after the revocation", p.ClientToken(m2mClient), false)
	c.check(t, "user token issued after it (refreshed, old auth_time)", p.AccessToken("alice", cognitotest.WithAuthTime(c.start.Add(-time.Hour))), false)
	return revokedAt, webAccess
}

// records checks ClientRevokedAt (latest wins, per pool and client), that
// a client revocation is no user sign-out, and the argument errors.
func (c *clientsContract) records(t *testing.T, revokedAt time.Time) {
	ctx, p, store := t.Context(), c.p, c.store
	if err := store.RevokeClient(ctx, p.PoolID(), m2mClient, c.start); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pool, client string
		ok           bool
	}{
		{p.PoolID(), m2mClient, true}, {p.PoolID(), otherClient, false}, {c.q.PoolID(), m2mClient, false},
	} {
		at, ok, err := store.ClientRevokedAt(ctx, tc.pool, tc.client)
		if err != nil || ok != tc.ok || (ok && !at.Equal(revokedAt)) {
			t.Errorf("ClientRevokedAt(%s, %s) = %v, %v, %v; want %v (latest wins), %v", tc.pool, tc.client, at, ok, err, revokedAt, tc.ok)
		}
	}
	if _, ok, err := store.SignedOutAt(ctx, p.PoolID(), m2mClient); ok || err != nil {
		t.Errorf("a client revocation is a user sign-out of its sub: %v, %v", ok, err)
	}
	for name, err := range map[string]error{
		"empty client_id": store.RevokeClient(ctx, p.PoolID(), "", revokedAt),
		"NUL in client":   store.RevokeClient(ctx, p.PoolID(), "a\x00b", revokedAt),
		"empty pool":      store.RevokeClient(ctx, "", m2mClient, revokedAt),
		"zero time":       store.RevokeClient(ctx, p.PoolID(), m2mClient, time.Time{}),
	} {
		if err == nil || errors.Is(err, revocation.ErrUnavailable) {
			t.Errorf("%s: %v, want an argument error", name, err)
		}
	}
}

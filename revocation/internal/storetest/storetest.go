// Package storetest is the contract test every revocation store passes:
// the revocation semantics through a real Verifier and tokens minted by
// cognitotest.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/clocktest"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// Env builds the store under test.
type Env struct {
	// NewStore returns a fresh, empty store using now as its clock.
	NewStore func(t *testing.T, now func() time.Time) revocation.Store
	// Advance, if set, moves the backend's own clock (miniredis
	// FastForward) along with the fake clock.
	Advance func(t *testing.T, d time.Duration)
}

// op is one write of a contract case, times relative to the case's base.
type op struct {
	user    string // username in pool 1 ("alice", "bob"); prefix "2:" for pool 2
	session string // origin_jti for RevokeSession; empty: RevokeUser
	at      time.Duration
}

// probe is one token checked after the writes.
type probe struct {
	name     string
	user     string // as in op
	id       bool   // ID token instead of access
	auth     time.Duration
	origin   string // origin_jti; "-" removes the claim; "" keeps the session's
	revoked  bool
	advance  time.Duration // clock move before minting (cumulative)
	longLife bool          // exp far ahead (for TTL probes)
}

// contract is one run of the contract: two pools sharing a clock.
type contract struct {
	env    Env
	base   time.Time
	clock  *clocktest.Clock
	p1, p2 *cognitotest.Pool
}

// Run checks the revocation semantics every Store must share, through a
// real Verifier and tokens minted by cognitotest.
func Run(t *testing.T, env Env) {
	base := time.Now().Truncate(time.Second).Add(-time.Hour)
	clock := clocktest.New(base.Add(time.Minute))
	k := &contract{env: env, base: base, clock: clock}
	k.p1 = cognitotest.NewPool(cognitotest.Config{PoolID: "us-east-1_poolOne", Now: clock.Now})
	t.Cleanup(k.p1.Close)
	k.p2 = cognitotest.NewPool(cognitotest.Config{PoolID: "us-east-1_poolTwo", Now: clock.Now})
	t.Cleanup(k.p2.Close)
	for _, p := range []*cognitotest.Pool{k.p1, k.p2} {
		p.AddUser(cognitotest.User{Username: "alice", Sub: "sub-alice"})
		p.AddUser(cognitotest.User{Username: "bob", Sub: "sub-bob"})
	}
	for _, tc := range contractCases {
		t.Run(tc.name, func(t *testing.T) { k.run(t, tc) })
	}
	t.Run("concurrent writers keep the maximum", k.concurrentWriters)
	t.Run("a sign-out covers every issuer of the pool", k.everyIssuer)
	t.Run("invalid arguments", k.invalidArguments)
	t.Run("a retried sign-out keeps the recorded time", k.retryKeeps)
	t.Run("app-client revocations", k.clients)
}

// retryKeeps checks RevokeUserSince: a sign-out at or after since is
// kept, an earlier one is replaced by at.
func (k *contract) retryKeeps(t *testing.T) {
	base, clock, p1, env := k.base, k.clock, k.p1, k.env
	clock.Set(base.Add(time.Minute))
	store := env.NewStore(t, clock.Now)
	ctx := t.Context()
	first := base.Add(10 * time.Second)
	if err := store.RevokeUser(ctx, p1.PoolID(), "sub-erin", first); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		since, at time.Time
		want      time.Time
		kept      bool
	}{
		{"token authenticated before the sign-out: a retry", base.Add(5 * time.Second), base.Add(20 * time.Second), first, true},
		{"token authenticated at the sign-out: a retry", first, base.Add(20 * time.Second), first, true},
		{"token authenticated after it: a new sign-out", base.Add(11 * time.Second), base.Add(30 * time.Second), base.Add(30 * time.Second), false},
		{"new user", base, base.Add(40 * time.Second), base.Add(40 * time.Second), false},
	} {
		sub := "sub-erin"
		if tc.name == "new user" {
			sub = "sub-frank"
		}
		got, kept, err := store.RevokeUserSince(ctx, p1.PoolID(), sub, tc.since, tc.at)
		if err != nil || kept != tc.kept || !got.Equal(tc.want) {
			t.Errorf("%s: RevokeUserSince = %v, %v, %v; want %v, %v", tc.name, got, kept, err, tc.want, tc.kept)
		}
		if at, ok, err := store.SignedOutAt(ctx, p1.PoolID(), sub); err != nil || !ok || !at.Equal(tc.want) {
			t.Errorf("%s: SignedOutAt = %v, %v, %v; want %v", tc.name, at, ok, err, tc.want)
		}
	}
	if _, _, err := store.RevokeUserSince(ctx, "", "s", base, base); err == nil {
		t.Error("RevokeUserSince with an empty pool ID: no error")
	}
}

// resolve is the pool and sub of a user named as in op.
func (k *contract) resolve(user string) (*cognitotest.Pool, string) {
	if name, ok := strings.CutPrefix(user, "2:"); ok {
		return k.p2, "sub-" + name
	}
	return k.p1, "sub-" + user
}

// run runs one case on a fresh store.
func (k *contract) run(t *testing.T, tc contractCase) {
	base, clock, p1, p2, env := k.base, k.clock, k.p1, k.p2, k.env
	clock.Set(base.Add(time.Minute))
	store := env.NewStore(t, clock.Now)
	v, err := cognitoguard.New([]cognitoguard.Pool{
		{UserPoolID: p1.PoolID(), Issuers: []string{p1.Issuer()}, ClientIDs: []string{p1.ClientID()}},
		{UserPoolID: p2.PoolID(), Issuers: []string{p2.Issuer()}, ClientIDs: []string{p2.ClientID()}},
	}, cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny, Revocation: store, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	ctx := t.Context()
	for _, o := range tc.ops {
		p, sub := k.resolve(o.user)
		var err error
		if o.session == "" {
			err = store.RevokeUser(ctx, p.PoolID(), sub, base.Add(o.at))
		} else {
			err = store.RevokeSession(ctx, p.PoolID(), sub, o.session, base.Add(o.at))
		}
		if err != nil {
			t.Fatalf("write %+v: %v", o, err)
		}
	}
	for _, pr := range tc.probes {
		k.probe(t, v, pr)
	}
	if tc.signed != nil {
		k.checkSigned(t, store, tc.signed)
	}
}

// probe mints the token pr describes and checks the Verifier's answer.
func (k *contract) probe(t *testing.T, v *cognitoguard.Verifier, pr probe) {
	base, clock, env, ctx := k.base, k.clock, k.env, t.Context()
	if pr.advance != 0 {
		clock.Advance(pr.advance)
		if env.Advance != nil {
			env.Advance(t, pr.advance)
		}
	}
	p, _ := k.resolve(pr.user)
	opts := []cognitotest.TokenOption{cognitotest.WithAuthTime(base.Add(pr.auth))}
	switch pr.origin {
	case "":
	case "-":
		opts = append(opts, cognitotest.WithClaims(map[string]any{"origin_jti": nil}))
	default:
		opts = append(opts, cognitotest.WithClaims(map[string]any{"origin_jti": pr.origin}))
	}
	if pr.longLife {
		opts = append(opts, cognitotest.WithExpiry(clock.Now().Add(48*time.Hour)))
	}
	name := strings.TrimPrefix(pr.user, "2:")
	var tok string
	if pr.id {
		tok = p.IDToken(name, opts...)
	} else {
		tok = p.AccessToken(name, opts...)
	}
	_, err := v.Verify(ctx, tok)
	switch {
	case pr.revoked && !errors.Is(err, cognitoguard.ErrRevoked):
		t.Errorf("%s: Verify = %v, want ErrRevoked", pr.name, err)
	case !pr.revoked && err != nil:
		t.Errorf("%s: Verify = %v, want success", pr.name, err)
	}
}

// checkSigned checks SignedOutAt against signed.
func (k *contract) checkSigned(t *testing.T, store revocation.Store, signed map[string]time.Duration) {
	ctx := t.Context()
	for _, user := range []string{"alice", "bob", "2:alice"} {
		p, sub := k.resolve(user)
		at, ok, err := store.SignedOutAt(ctx, p.PoolID(), sub)
		if err != nil {
			t.Fatalf("SignedOutAt(%s): %v", user, err)
		}
		want, wantOK := signed[user]
		if ok != wantOK || (ok && !at.Equal(k.base.Add(want))) {
			t.Errorf("SignedOutAt(%s) = %v, %v; want %v, %v", user, at, ok, k.base.Add(want), wantOK)
		}
	}
}

func (k *contract) concurrentWriters(t *testing.T) {
	base, clock, p1, env := k.base, k.clock, k.p1, k.env
	clock.Set(base.Add(time.Minute))
	store := env.NewStore(t, clock.Now)
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				at := base.Add(time.Duration((j*8+i)%160) * time.Second)
				if err := store.RevokeUser(ctx, p1.PoolID(), "sub-carol", at); err != nil {
					t.Error(err)
					return
				}
				c := &cognitoguard.Claims{UserPoolID: p1.PoolID(), Subject: "sub-carol", AuthTime: base}
				if _, err := store.Revoked(ctx, c); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	at, ok, err := store.SignedOutAt(ctx, p1.PoolID(), "sub-carol")
	if err != nil || !ok || !at.Equal(base.Add(159*time.Second)) {
		t.Errorf("SignedOutAt = %v, %v, %v; want %v", at, ok, err, base.Add(159*time.Second))
	}
}

func (k *contract) everyIssuer(t *testing.T) {
	base, clock, p1, p2, env := k.base, k.clock, k.p1, k.p2, k.env
	store := env.NewStore(t, clock.Now)
	ctx := t.Context()
	if err := store.RevokeUser(ctx, p1.PoolID(), "sub-dave", clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, iss := range []string{
		"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_poolOne",
		"https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_poolOne",
		"https://cognito-idp.us-west-2.amazonaws.com/us-east-1_poolOne",
	} {
		c := Claims(p1.PoolID(), "sub-dave", base, "")
		c.Issuer = iss
		if !MustRevoked(t, ctx, store, c) {
			t.Errorf("token of issuer %s accepted after the user's sign-out", iss)
		}
	}
	if c := Claims(p2.PoolID(), "sub-dave", base, ""); MustRevoked(t, ctx, store, c) {
		t.Error("the same sub in another pool is revoked")
	}
	if _, err := store.Revoked(ctx, &cognitoguard.Claims{Issuer: p1.Issuer(), Subject: "sub-dave", AuthTime: base}); err == nil {
		t.Error("Revoked of claims without a user pool ID: no error")
	}
}

func (k *contract) invalidArguments(t *testing.T) {
	clock, env := k.clock, k.env
	store := env.NewStore(t, clock.Now)
	ctx := t.Context()
	now := clock.Now()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"empty pool ID", store.RevokeUser(ctx, "", "s", now)},
		{"empty sub", store.RevokeUser(ctx, "us-east-1_x", "", now)},
		{"zero time", store.RevokeUser(ctx, "us-east-1_x", "s", time.Time{})},
		{"empty origin_jti", store.RevokeSession(ctx, "us-east-1_x", "s", "", now)},
		{"NUL in sub", store.RevokeUser(ctx, "us-east-1_x", "s\x00t", now)},
		{"NUL in origin_jti", store.RevokeSession(ctx, "us-east-1_x", "s", "o\x00", now)},
		{"before 1970", store.RevokeUser(ctx, "us-east-1_x", "s", time.Unix(-5, 0))},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if errors.Is(tc.err, revocation.ErrUnavailable) {
			t.Errorf("%s: %v matches ErrUnavailable; want an argument error", tc.name, tc.err)
		}
	}
	if _, err := store.Revoked(ctx, nil); err == nil {
		t.Error("Revoked(nil): no error")
	}
	// A warm store (the pool's records loaded) still refuses claims
	// without a sub: no cached record stands for "no user".
	if _, err := store.Revoked(ctx, Claims("us-east-1_x", "s", now, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Revoked(ctx, Claims("us-east-1_x", "", now, "")); err == nil {
		t.Error("Revoked of claims without a sub, in a pool already seen: no error")
	}
}

// contractCase is one case of the contract: writes, then the tokens
// checked and the sign-outs read back.
type contractCase struct {
	name   string
	ops    []op
	probes []probe
	signed map[string]time.Duration // SignedOutAt expectations (absent: no sign-out)
}

// contractCases is the contract's table.
var contractCases = []contractCase{
	{
		name: "sign-out rejects earlier tokens, later sign-in passes",
		ops:  []op{{user: "alice", at: 10 * time.Second}},
		probes: []probe{
			{name: "earlier access", user: "alice", auth: 5 * time.Second, revoked: true},
			{name: "earlier id", user: "alice", id: true, auth: 5 * time.Second, revoked: true},
			{name: "same second", user: "alice", auth: 10 * time.Second, revoked: true},
			{name: "later sign-in", user: "alice", auth: 11 * time.Second},
			{name: "later sign-in id", user: "alice", id: true, auth: 11 * time.Second},
			{name: "refreshed token keeps auth_time", user: "alice", auth: 5 * time.Second, advance: 20 * time.Minute, revoked: true},
			{name: "no origin_jti", user: "alice", auth: 5 * time.Second, origin: "-", revoked: true},
		},
		signed: map[string]time.Duration{"alice": 10 * time.Second},
	},
	{
		name: "millisecond precision",
		ops:  []op{{user: "alice", at: 10*time.Second + 500*time.Millisecond}},
		probes: []probe{
			{name: "auth in the sign-out second", user: "alice", auth: 10 * time.Second, revoked: true},
			{name: "auth the next second", user: "alice", auth: 11 * time.Second},
		},
		signed: map[string]time.Duration{"alice": 10*time.Second + 500*time.Millisecond},
	},
	{
		name: "users and issuers independent",
		ops:  []op{{user: "alice", at: 10 * time.Second}},
		probes: []probe{
			{name: "other user", user: "bob", auth: 5 * time.Second},
			{name: "same sub other issuer", user: "2:alice", auth: 5 * time.Second},
			{name: "same sub other issuer id", user: "2:alice", id: true, auth: 5 * time.Second},
			{name: "revoked user", user: "alice", auth: 5 * time.Second, revoked: true},
		},
		signed: map[string]time.Duration{"alice": 10 * time.Second},
	},
	{
		name: "session revocation rejects only its origin_jti",
		ops:  []op{{user: "alice", session: "origin-1", at: 10 * time.Second}},
		probes: []probe{
			{name: "revoked session access", user: "alice", origin: "origin-1", auth: 5 * time.Second, revoked: true},
			{name: "revoked session id", user: "alice", id: true, origin: "origin-1", auth: 5 * time.Second, revoked: true},
			{name: "revoked session refreshed", user: "alice", origin: "origin-1", auth: 5 * time.Second, advance: 20 * time.Minute, revoked: true},
			{name: "other session", user: "alice", origin: "origin-2", auth: 5 * time.Second},
			{name: "no origin_jti", user: "alice", origin: "-", auth: 5 * time.Second},
			{name: "same origin other user", user: "bob", origin: "origin-1", auth: 5 * time.Second},
			{name: "same origin other issuer", user: "2:alice", origin: "origin-1", auth: 5 * time.Second},
			{name: "authenticated after the revocation", user: "alice", origin: "origin-1", auth: 11 * time.Second},
		},
	},
	{
		name: "latest time wins, a stale writer never lowers it",
		ops: []op{
			{user: "alice", at: 20 * time.Second},
			{user: "alice", at: 10 * time.Second},
			{user: "alice", session: "origin-1", at: 30 * time.Second},
			{user: "alice", session: "origin-1", at: 12 * time.Second},
		},
		probes: []probe{
			{name: "between the two sign-outs", user: "alice", auth: 15 * time.Second, revoked: true},
			{name: "after both", user: "alice", auth: 21 * time.Second},
			{name: "session between", user: "alice", origin: "origin-1", auth: 25 * time.Second, revoked: true},
		},
		signed: map[string]time.Duration{"alice": 20 * time.Second},
	},
	{
		name: "user and session records combine",
		ops: []op{
			{user: "alice", at: 10 * time.Second},
			{user: "alice", session: "origin-1", at: 30 * time.Second},
		},
		probes: []probe{
			{name: "before both", user: "alice", origin: "origin-2", auth: 5 * time.Second, revoked: true},
			{name: "session after sign-out", user: "alice", origin: "origin-1", auth: 20 * time.Second, revoked: true},
			{name: "other session after sign-out", user: "alice", origin: "origin-2", auth: 20 * time.Second},
		},
		signed: map[string]time.Duration{"alice": 10 * time.Second},
	},
	{
		name: "records expire after TTL",
		ops: []op{
			{user: "alice", at: 10 * time.Second},
			{user: "bob", session: "origin-1", at: 10 * time.Second},
		},
		probes: []probe{
			{name: "live", user: "alice", auth: 5 * time.Second, revoked: true, longLife: true},
			{name: "expired", user: "alice", auth: 5 * time.Second, advance: revocation.DefaultTTL + time.Minute, longLife: true},
			{name: "expired session", user: "bob", origin: "origin-1", auth: 5 * time.Second, longLife: true},
		},
		// After the probes' advance, the sign-out is gone.
		signed: map[string]time.Duration{},
	},
}

// Claims builds the claims the Verifier would hand the store.
func Claims(pool, sub string, auth time.Time, origin string) *cognitoguard.Claims {
	return &cognitoguard.Claims{UserPoolID: pool, Subject: sub, AuthTime: auth, IssuedAt: auth, OriginJTI: origin}
}

// MustRevoked calls Revoked and fails the test on error.
func MustRevoked(t testing.TB, ctx context.Context, s revocation.Store, c *cognitoguard.Claims) bool {
	t.Helper()
	r, err := s.Revoked(ctx, c)
	if err != nil {
		t.Fatalf("Revoked(%s/%s): %v", c.Issuer, c.Subject, err)
	}
	return r
}

// OwnsKeys checks that a store copies the strings it keeps: claim
// strings alias the token buffer, which may be reused.
// after, if set, runs at the end of each case.
func OwnsKeys(t *testing.T, newStore func(t *testing.T) revocation.Store, after func(t *testing.T, s revocation.Store)) {
	const iss, sub, jti = "https://iss.example/pool", "sub-alice", "origin-1"
	alias := func(s string) (string, func()) {
		b := []byte(s)
		return unsafe.String(&b[0], len(b)), func() { copy(b, bytes.Repeat([]byte("X"), len(b))) }
	}
	at := time.Now()
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, s revocation.Store, iss, sub string) error
	}{
		{"user", func(ctx context.Context, s revocation.Store, iss, sub string) error {
			return s.RevokeUser(ctx, iss, sub, at)
		}},
		{"session", func(ctx context.Context, s revocation.Store, iss, sub string) error {
			j, spoil := alias(jti)
			defer spoil()
			return s.RevokeSession(ctx, iss, sub, j, at)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			ctx := t.Context()
			c := Claims(iss, sub, at.Add(-time.Second), jti)
			MustRevoked(t, ctx, s, Claims(iss, sub, at, "")) // known user (Redis view)
			// First write and an update of the same record, both from
			// aliasing strings that are then overwritten.
			for i := range 2 {
				a, spoilA := alias(iss)
				b, spoilB := alias(sub)
				if err := tc.write(ctx, s, a, b); err != nil {
					t.Fatal(err)
				}
				if i == 1 {
					_ = tc.write(ctx, s, a, b) // same time again: no change
				}
				at = at.Add(time.Millisecond)
				spoilA()
				spoilB()
			}
			if !MustRevoked(t, ctx, s, c) {
				t.Error("record lost after the caller's buffers changed")
			}
			if after != nil {
				after(t, s)
			}
		})
	}
}

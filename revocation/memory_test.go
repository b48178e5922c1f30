package revocation_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/clocktest"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/internal/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, storetest.Env{
		NewStore: func(t *testing.T, now func() time.Time) revocation.Store {
			return revocation.NewMemory(revocation.MemoryConfig{Now: now})
		},
	})
}

func TestMemoryFull(t *testing.T) {
	const iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	type write struct {
		sub     string
		session string
		at      time.Duration
		wantErr bool
	}
	cases := []struct {
		name    string
		max     int
		ttl     time.Duration
		advance time.Duration // before the last write
		writes  []write
		wantLen int
	}{
		{
			name: "full of live records refuses a new one",
			max:  2,
			writes: []write{
				{sub: "a"}, {sub: "b"}, {sub: "c", wantErr: true},
			},
			wantLen: 2,
		},
		{
			name: "sessions count as records",
			max:  2,
			writes: []write{
				{sub: "a"}, {sub: "a", session: "o1"}, {sub: "a", session: "o2", wantErr: true},
			},
			wantLen: 2,
		},
		{
			name: "updating an existing record needs no room",
			max:  2,
			writes: []write{
				{sub: "a"}, {sub: "b"}, {sub: "a", at: time.Second}, {sub: "b", at: -time.Second},
			},
			wantLen: 2,
		},
		{
			name:    "expired records are purged to make room",
			max:     2,
			ttl:     time.Hour,
			advance: time.Hour + time.Second,
			writes: []write{
				{sub: "a"}, {sub: "b", session: "o1"}, {sub: "c", at: time.Hour + time.Second},
			},
			wantLen: 1,
		},
		{
			name: "a record already expired is not stored",
			max:  1,
			ttl:  time.Hour,
			writes: []write{
				{sub: "a"}, {sub: "b", at: -2 * time.Hour},
			},
			wantLen: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := clocktest.New(t0)
			m := revocation.NewMemory(revocation.MemoryConfig{MaxEntries: tc.max, TTL: tc.ttl, Now: clock.Now})
			ctx := t.Context()
			for i, w := range tc.writes {
				if i == len(tc.writes)-1 {
					clock.Advance(tc.advance)
				}
				var err error
				if w.session == "" {
					err = m.RevokeUser(ctx, iss, w.sub, t0.Add(w.at))
				} else {
					err = m.RevokeSession(ctx, iss, w.sub, w.session, t0.Add(w.at))
				}
				switch {
				case w.wantErr && !errors.Is(err, revocation.ErrUnavailable):
					t.Errorf("write %d: err = %v, want ErrUnavailable", i, err)
				case !w.wantErr && err != nil:
					t.Errorf("write %d: %v", i, err)
				}
			}
			if got := m.Len(); got != tc.wantLen {
				t.Errorf("Len = %d, want %d", got, tc.wantLen)
			}
			// Live sign-outs are still honoured after a refused write.
			if w := tc.writes[0]; tc.advance == 0 && w.session == "" && w.at >= 0 {
				if !mustRevoked(t, ctx, m, claims(iss, w.sub, t0.Add(-time.Second), "")) {
					t.Errorf("sign-out of %s lost", w.sub)
				}
			}
		})
	}
}

func TestMemoryOwnsItsKeys(t *testing.T) {
	storetest.OwnsKeys(t, func(t *testing.T) revocation.Store { return revocation.NewMemory(revocation.MemoryConfig{}) }, nil)
}

func BenchmarkMemoryRevokedHit(b *testing.B) {
	m := revocation.NewMemory(revocation.MemoryConfig{})
	const iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"
	now := time.Now()
	if err := m.RevokeUser(b.Context(), iss, "sub-1", now); err != nil {
		b.Fatal(err)
	}
	c := claims(iss, "sub-1", now.Add(time.Second), "origin")
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if r, err := m.Revoked(ctx, c); r || err != nil {
			b.Fatal(r, err)
		}
	}
}

func ExampleNewMemory() {
	store := revocation.NewMemory(revocation.MemoryConfig{})
	// Pass store as cognitoguard.Config.Revocation; here we ask it directly,
	// with the claims the Verifier would pass.
	const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"
	ctx := context.Background()
	signOut := time.Now()

	if err := store.RevokeUser(ctx, iss, "sub-alice", signOut); err != nil {
		panic(err)
	}

	old, _ := store.Revoked(ctx, &cognitoguard.Claims{UserPoolID: iss, Subject: "sub-alice", AuthTime: signOut.Add(-time.Hour)})
	fresh, _ := store.Revoked(ctx, &cognitoguard.Claims{UserPoolID: iss, Subject: "sub-alice", AuthTime: signOut.Add(time.Minute)})
	bob, _ := store.Revoked(ctx, &cognitoguard.Claims{UserPoolID: iss, Subject: "sub-bob", AuthTime: signOut.Add(-time.Hour)})
	fmt.Println("alice's token from before the sign-out revoked:", old)
	fmt.Println("alice's token from a later sign-in revoked:", fresh)
	fmt.Println("bob's token revoked:", bob)
	// Output:
	// alice's token from before the sign-out revoked: true
	// alice's token from a later sign-in revoked: false
	// bob's token revoked: false
}

var (
	claims      = storetest.Claims
	mustRevoked = storetest.MustRevoked
)

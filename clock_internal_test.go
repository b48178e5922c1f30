package cognitoguard

import (
	"context"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// atChecker is a RevocationCheckerAt recording how it was asked.
type atChecker struct {
	at       []time.Time // RevokedAt's now, in order
	fallback int         // Revoked calls
}

func (r *atChecker) Revoked(context.Context, *Claims) (bool, error) { r.fallback++; return false, nil }

func (r *atChecker) RevokedAt(_ context.Context, _ *Claims, now time.Time) (bool, error) {
	r.at = append(r.at, now)
	return false, nil
}

// TestRepeatVerifyReadsClockOnce: a repeated Verify (cache hit, then the
// revocation check) reads the clock once, and the revocation checker
// judges the request at that same instant. A miss (which may have waited
// for a key fetch) lets the checker read its own clock, and a custom
// Config.Now is never handed to the checker.
func TestRepeatVerifyReadsClockOnce(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice"})
	tok := p.AccessToken("alice")
	pools := []Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{p.ClientID()}}}
	for _, tc := range []struct {
		name     string
		cfgNow   func() time.Time
		observed bool // Config.OnVerify set
		shared   bool // RevokedAt gets the request's instant
	}{
		{"real clock", nil, false, true},
		{"real clock, OnVerify", nil, true, true},
		{"custom clock", time.Now, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chk := &atChecker{}
			cfg := Config{Revocation: chk, Now: tc.cfgNow}
			if tc.observed {
				cfg.OnVerify = func(context.Context, VerifyEvent) {}
			}
			v, err := New(pools, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { v.Close() })
			var reads []time.Time
			v.now = func() time.Time { now := time.Now(); reads = append(reads, now); return now }
			if _, err := v.Verify(t.Context(), tok); err != nil { // miss
				t.Fatal(err)
			}
			if len(chk.at) != 0 || chk.fallback != 1 {
				t.Fatalf("miss: RevokedAt %d, Revoked %d calls; want 0, 1", len(chk.at), chk.fallback)
			}
			reads, chk.fallback = nil, 0
			if _, err := v.Verify(t.Context(), tok); err != nil { // repeat
				t.Fatal(err)
			}
			switch {
			case !tc.shared && (len(chk.at) != 0 || chk.fallback != 1 || len(reads) != 1):
				t.Errorf("repeat: RevokedAt %d, Revoked %d calls, %d reads of Config.Now; want 0, 1, 1", len(chk.at), chk.fallback, len(reads))
			case tc.shared && tc.observed && (len(chk.at) != 1 || chk.fallback != 0 || len(reads) != 0):
				// OnVerify's start time is the request's instant.
				t.Errorf("repeat: RevokedAt %d, Revoked %d calls, %d further clock reads; want 1, 0, 0", len(chk.at), chk.fallback, len(reads))
			case tc.shared && !tc.observed && (len(reads) != 1 || len(chk.at) != 1 || chk.at[0] != reads[0] || chk.fallback != 0):
				t.Errorf("repeat: %d clock reads, RevokedAt got %v (read %v), Revoked %d calls; want one read, shared", len(reads), chk.at, reads, chk.fallback)
			}
		})
	}
}

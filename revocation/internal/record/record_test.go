package record

import (
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
)

// TestRevoked is the revocation rule's table: user and session records,
// the data-loss floor, the equality edge (a sign-out within the second of
// the sign-in), and expired records.
func TestRevoked(t *testing.T) {
	const ttl = int64(time.Hour / time.Millisecond)
	auth := time.Unix(1_700_000_000, 0) // whole seconds, as claims are
	a := auth.UnixMilli()
	at := func(d time.Duration) int64 { return a + d.Milliseconds() }
	for _, tc := range []struct {
		name   string
		e      *Entry
		floor  int64
		origin string
		now    time.Duration // after auth
		want   bool
	}{
		{name: "no record", e: nil, want: false},
		{name: "empty entry", e: &Entry{}, want: false},
		{name: "user signed out after sign-in", e: &Entry{User: at(time.Minute)}, want: true},
		{name: "user signed out at sign-in", e: &Entry{User: a}, want: true},
		{name: "user signed out within the second after", e: &Entry{User: a + 999}, want: true},
		{name: "user signed out before sign-in", e: &Entry{User: a - 1}, want: false},
		{name: "user record expired", e: &Entry{User: a}, now: time.Hour + time.Millisecond, want: false},
		{name: "user record last live millisecond", e: &Entry{User: a}, now: time.Hour, want: true},
		{name: "session revoked", e: &Entry{Sessions: map[string]int64{"o1": at(time.Second)}}, origin: "o1", want: true},
		{name: "other session revoked", e: &Entry{Sessions: map[string]int64{"o2": at(time.Second)}}, origin: "o1", want: false},
		{name: "session revoked, token without origin_jti", e: &Entry{Sessions: map[string]int64{"o1": at(time.Second)}}, want: false},
		{name: "session revoked before sign-in", e: &Entry{Sessions: map[string]int64{"o1": a - 1}}, origin: "o1", want: false},
		{name: "session record expired", e: &Entry{Sessions: map[string]int64{"o1": a}}, origin: "o1", now: 2 * time.Hour, want: false},
		{name: "expired user record, live session", e: &Entry{User: a, Sessions: map[string]int64{"o1": at(30 * time.Minute)}}, origin: "o1", now: 90 * time.Minute, want: true},
		{name: "floor after sign-in, no record", floor: at(time.Second), want: true},
		{name: "floor at sign-in", e: &Entry{}, floor: a, want: true},
		{name: "floor before sign-in", floor: a - 1, want: false},
		{name: "floor expired", floor: a, now: 2 * time.Hour, want: false},
		{name: "expired floor, live user record", e: &Entry{User: at(30 * time.Minute)}, floor: a, now: 80 * time.Minute, want: true},
		{name: "live floor, user record before sign-in", e: &Entry{User: a - 1}, floor: at(time.Second), want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cognitoguard.Claims{UserPoolID: "eu-west-1_AbC", Subject: "sub", AuthTime: auth, IssuedAt: auth, OriginJTI: tc.origin}
			now := func() time.Time { return auth.Add(tc.now) }
			if got := Revoked(c, tc.e, nil, tc.floor, now, ttl); got != tc.want {
				t.Errorf("Revoked = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRevokedCallsNowOnlyOnMatch: the hot path reads no clock for a user
// with no matching record.
func TestRevokedCallsNowOnlyOnMatch(t *testing.T) {
	auth := time.Unix(1_700_000_000, 0)
	c := &cognitoguard.Claims{UserPoolID: "p", Subject: "s", AuthTime: auth, IssuedAt: auth}
	called := false
	now := func() time.Time { called = true; return auth }
	if Revoked(c, &Entry{User: auth.UnixMilli() - 1}, &Entry{Sessions: map[string]int64{"other": auth.UnixMilli()}}, 0, now, 1000) || called {
		t.Errorf("no match: clock read %v", called)
	}
	if a := testing.AllocsPerRun(100, func() { Revoked(c, &Entry{User: auth.UnixMilli()}, nil, 0, now, 1000) }); a != 0 {
		t.Errorf("%v allocations, want 0", a)
	}
}

// TestRevokedClient is the rule's table for app-client revocations: the
// client's tokens issued (iat) at or before T are revoked, M2M and user
// tokens alike, whatever their auth_time; other clients and later tokens
// pass.
func TestRevokedClient(t *testing.T) {
	const ttl = int64(time.Hour / time.Millisecond)
	iat := time.Unix(1_700_000_000, 0)
	i := iat.UnixMilli()
	clients := func(id string, t int64) *Entry { return &Entry{Sessions: map[string]int64{id: t}} }
	for _, tc := range []struct {
		name     string
		clients  *Entry
		client   string
		authTime time.Time // zero: none (client credentials)
		now      time.Duration
		want     bool
	}{
		{name: "no client record", clients: nil, client: "app", want: false},
		{name: "client revoked after iat", clients: clients("app", i+1000), client: "app", want: true},
		{name: "client revoked at iat", clients: clients("app", i), client: "app", want: true},
		{name: "client revoked within the second of iat", clients: clients("app", i+999), client: "app", want: true},
		{name: "client revoked before iat", clients: clients("app", i-1), client: "app", want: false},
		{name: "other client revoked", clients: clients("other", i+1000), client: "app", want: false},
		{name: "user token of the client, signed in before", clients: clients("app", i+1000), client: "app", authTime: iat.Add(-time.Hour), want: true},
		{name: "user token refreshed after the revocation", clients: clients("app", i-1), client: "app", authTime: iat.Add(-time.Hour), want: false},
		{name: "client record expired", clients: clients("app", i), client: "app", now: time.Hour + time.Millisecond, want: false},
		{name: "token without client", clients: clients("app", i), client: "", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cognitoguard.Claims{UserPoolID: "eu-west-1_AbC", Subject: "app", ClientID: tc.client, AuthTime: tc.authTime, IssuedAt: iat}
			now := func() time.Time { return iat.Add(tc.now) }
			if got := Revoked(c, nil, tc.clients, 0, now, ttl); got != tc.want {
				t.Errorf("Revoked = %v, want %v", got, tc.want)
			}
		})
	}
}

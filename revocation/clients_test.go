package revocation_test

import (
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/revocation"
)

// BenchmarkMemoryRevokedHitClientRecords is BenchmarkMemoryRevokedHit
// with app-client revocations (of another client) in the store: one more
// map lookup, no allocation.
func BenchmarkMemoryRevokedHitClientRecords(b *testing.B) {
	m := revocation.NewMemory(revocation.MemoryConfig{})
	const iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"
	now := time.Now()
	if err := m.RevokeUser(b.Context(), iss, "sub-1", now); err != nil {
		b.Fatal(err)
	}
	if err := m.RevokeClient(b.Context(), iss, "m2m-billing", now); err != nil {
		b.Fatal(err)
	}
	c := claims(iss, "sub-1", now.Add(time.Second), "origin")
	c.ClientID = "web"
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if r, err := m.Revoked(ctx, c); r || err != nil {
			b.Fatal(r, err)
		}
	}
}

package redisstore

import (
	"testing"

	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

// TestClientMessageRoundTrip: an app-client revocation travels as kind
// "c" with the client ID in place of a sub, and decodes to the pool's
// clients entry (record.ClientsKey) with the client ID as its field, so
// the view and the journal apply it like a session.
func TestClientMessageRoundTrip(t *testing.T) {
	k := record.ClientsKey("eu-west-1_AbC")
	for _, id := range []string{"", "inst-1"} {
		p := encodeSignOut(k, "m2m-orders", 42, id, "n1")
		if want := "2\x00c\x0042\x00eu-west-1_AbC\x00m2m-orders"; p[:len(want)] != want {
			t.Errorf("encoded %q, want prefix %q", p, want)
		}
		m, err := decodeMessage(p)
		if err != nil || m.kind != kindClient || m.key != k || m.jti != "m2m-orders" || m.t != 42 || m.id != id {
			t.Errorf("decoded %+v, %v", m, err)
		}
	}
	for _, bad := range []string{"2\x00c\x0042\x00pool", "2\x00c\x0042\x00pool\x00", "2\x00c\x0042\x00\x00client"} {
		if _, err := decodeMessage(bad); err == nil {
			t.Errorf("decodeMessage(%q): no error", bad)
		}
	}
	if f := field(k, "m2m-orders"); f != "c:m2m-orders" {
		t.Errorf("field = %q", f)
	}
	if e := parseRecord(map[string]string{"c:m2m-orders": "42"}); e.Sessions["m2m-orders"] != 42 || e.User != 0 {
		t.Errorf("parseRecord = %+v", e)
	}
	if uk, _ := newWire("p:", 4).key("pool", ""); uk[:5] != "p:2:c" {
		t.Errorf("clients key %q is not of its own kind", uk)
	}
}

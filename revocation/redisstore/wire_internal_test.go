package redisstore

import (
	"slices"
	"strings"
	"testing"
)

func TestWireMessages(t *testing.T) {
	k := userKey{Pool: "eu-west-1_AbC", Sub: "sub-1"}
	for _, tc := range []struct {
		payload string
		want    message
	}{
		{encodeSignOut(k, "", 42, "", ""), message{kind: kindUser, key: k, t: 42}},
		{encodeSignOut(k, "jti-1", 43, "", ""), message{kind: kindSession, key: k, jti: "jti-1", t: 43}},
		{encodeSignOut(k, "", 44, "ID", "N1"), message{kind: kindUser, key: k, t: 44, id: "ID", nonce: "N1"}},
		{encodeSignOut(k, "jti-1", 45, "ID", "N2"), message{kind: kindSession, key: k, jti: "jti-1", t: 45, id: "ID", nonce: "N2"}},
		{encodeAck("R", []string{"N1"}), message{kind: kindAck, id: "R", nonces: []string{"N1"}}},
		{encodeAck("R", []string{"N1", "N2", "N3"}), message{kind: kindAck, id: "R", nonces: []string{"N1", "N2", "N3"}}},
	} {
		m, err := decodeMessage(tc.payload)
		if err != nil || m.kind != tc.want.kind || m.key != tc.want.key || m.jti != tc.want.jti ||
			m.t != tc.want.t || m.id != tc.want.id || m.nonce != tc.want.nonce || !slices.Equal(m.nonces, tc.want.nonces) {
			t.Errorf("decode(%q) = %+v, %v; want %+v", tc.payload, m, err, tc.want)
		}
	}
	tooMany := make([]string, maxAcksPerMessage+1)
	for i := range tooMany {
		tooMany[i] = "n"
	}
	for _, bad := range []string{
		"", "2", "2\x00u", "1\x00u\x0042\x00p\x00s", "2\x00u\x00-1\x00p\x00s", "2\x00u\x0042\x00\x00s",
		"2\x00s\x0042\x00p\x00s\x00", "2\x00r\x00id\x00n", "2\x00a\x00", "2\x00a\x00R", "2\x00a\x00R\x00{x}", "2\x00a\x00{R}\x00n",
		"2\x00u\x0042\x00p\x00s\x00id",               // a request without its nonce
		"2\x00u\x0042\x00p\x00s\x00{id}\x00n",        // a request naming another slot
		"2\x00s\x0042\x00p\x00s\x00j\x00id\x00\x00",  // an empty nonce
		"2\x00u\x0042\x00p\x00s\x00id\x00n\x00extra", // a field too many
		encodeAck("R", tooMany), "2\x00a\x00R\x00" + strings.Repeat("n", maxAckField+1), "2\x00x\x00y",
		"2\x00u\x0042\x00p\x00" + strings.Repeat("s", 1025),                  // a field too long
		"2\x00u\x0042\x00p\x00s\x00id\x00" + strings.Repeat("n", maxMessage), // a message too long
	} {
		if m, err := decodeMessage(bad); err == nil {
			t.Errorf("decode(%q) = %+v, want an error", bad, m)
		}
	}
}

func TestWireChannelsSpreadOverSlots(t *testing.T) {
	for _, k := range []int{1, 2, 3, 6, 12} {
		w := newWire("app:", k)
		width := clusterSlots / k
		for i := range k {
			if s := int(slot(w.tags[i])); s < i*width || s >= (i+1)*width {
				t.Errorf("K=%d: channel %d in slot %d, want in [%d, %d)", k, i, s, i*width, (i+1)*width)
			}
			ch, ack := w.channel(i), w.ackChannel(i, "ID")
			if tag := ch[strings.IndexByte(ch, '{')+1 : len(ch)-1]; tag != w.tags[i] || !strings.HasSuffix(ack, "{"+tag+"}") {
				t.Errorf("K=%d: channel %q and ack channel %q do not share hash tag %q", k, ch, ack, w.tags[i])
			}
		}
	}
	if crc16("123456789") != 0x31c3 { // the CRC-16/XMODEM check value
		t.Errorf("crc16 check value %#x, want 0x31c3", crc16("123456789"))
	}
}

package redisstore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation/internal/record"
)

// The wire protocol of the Redis store, version 2. Every instance sharing a
// Prefix MUST speak the same version and use the same Channels.
//
// Records. One hash per user at
//
//	Prefix + "2:{" + hex(SHA-256(poolID NUL sub)[:16]) + "}"
//
// Field "u" holds the latest user sign-out, field "s:"+origin_jti each
// revoked session, as Unix milliseconds. The hash tag (the digest) puts
// every user in a slot of its own; no pool ID or sub can change the layout.
// The app-client revocations of a pool are one hash of their own kind at
//
//	Prefix + "2:c{" + hex(SHA-256("c" NUL poolID)[:16]) + "}"
//
// field "c:"+client_id each, as Unix milliseconds; the view holds it as
// the entry of record.ClientsKey(poolID) (empty sub), its Sessions by
// client_id.
// writeScript raises one field atomically and returns its resulting value.
//
// Channels. The sign-outs are spread over K channels (Config.Channels)
//
//	Prefix + "2:signouts:" + i + "{" + tag(i) + "}"   for i in [0, K)
//
// where tag(i) is the smallest decimal n whose Cluster slot lies in the
// middle half of the i-th of K equal slot ranges, so that on a Cluster
// whose masters own equal contiguous ranges the channels land on different
// masters. A user always uses channel SHA-256(poolID NUL sub)[16:20] mod K,
// which keeps each user's messages in order. Instance id answers
// acknowledgements of channel i on
//
//	Prefix + "2:ack:" + id + "{" + tag(i) + "}"
//
// in the same slot, so that one SSUBSCRIBE asks for both (a Cluster
// refuses one command across slots; a connection per master carries all
// the channels of its slots, one command each). Messages go out with
// SPUBLISH when sharded, PUBLISH otherwise.
//
// Markers. Each master holds a hash Prefix + "2:marker{" + tag + "}" (a
// tag in one of its slots): field "g" a random generation, created when
// absent; an instance that finds it absent or changed knows the master
// lost its data. Field "f" is the floor: Unix ms of a detected loss at or
// before which every token is rejected (see markerScript).
//
// Live instances. A sorted set Prefix + "2:live{0}" (one key, on one
// master) of the reading instances' ids, each scored by the Unix ms (Redis
// server time) at which it lapses unless refreshed (see presence).
//
// Messages. NUL-separated fields, the first the version "2", the second
// the kind:
//
//	2 u T poolID sub [id nonce]        a user sign-out, T Unix ms (the stored
//	                                   value); with WaitInstances, the
//	                                   requester's id and a nonce: every
//	                                   receiver acknowledges once applied
//	2 s T poolID sub jti [id nonce]    a session revocation, likewise
//	2 c T poolID client_id [id nonce]  an app-client revocation, likewise
//	2 a responder nonce [nonce…]       acknowledgements by instance responder
//	                                   (up to maxAcksPerMessage), on the
//	                                   requester's channel
//
// Readers ignore (log and count) anything else, and any message longer
// than maxMessage, with a field longer than record.MaxField, or a time
// more than record.MaxAhead past their clock. Messages can only raise
// times, and reach a reader's data-loss journal only as the field's value
// re-read from Redis (see verifier). A requester counts the acknowledgements received on its own
// channels only, once per responder.

// wireVersion starts every key, channel and message of this protocol.
const wireVersion = "2"

// Hash fields of a user's record.
const (
	fieldUser    = "u"  // latest user sign-out, Unix ms
	fieldSession = "s:" // + origin_jti: latest session revocation, Unix ms
	fieldClient  = "c:" // + client_id: latest app-client revocation, Unix ms (clients hash)
)

// Message kinds.
const (
	kindUser    = "u"
	kindSession = "s"
	kindClient  = "c"
	kindAck     = "a"
)

// maxAckField bounds the id and nonce of acknowledgement messages, and
// maxAcksPerMessage the nonces one acknowledgement message carries.
const (
	maxAckField       = 64
	maxAcksPerMessage = 64
)

// clusterSlots is the number of Redis Cluster hash slots.
const clusterSlots = 16384

// userDigest is SHA-256(poolID NUL sub).
func userDigest(pool, sub string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(pool))
	h.Write([]byte{0})
	h.Write([]byte(sub))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// wire names the keys and channels of one store.
type wire struct {
	prefix string
	tags   []string // tags[i]: the hash tag of channel i
}

func newWire(prefix string, channels int) wire {
	w := wire{prefix: prefix, tags: make([]string, channels)}
	width := clusterSlots / channels
	for i := range channels {
		lo, hi := i*width+width/4, i*width+3*width/4
		for n := 0; ; n++ {
			tag := strconv.Itoa(n)
			if s := int(slot(tag)); s >= lo && s < hi {
				w.tags[i] = tag
				break
			}
		}
	}
	return w
}

// key is the user's hash and channel its sign-out channel index; for an
// empty sub (record.ClientsKey), the pool's app-client hash and channel.
func (w wire) key(pool, sub string) (key string, channel int) {
	if sub == "" {
		sum := userDigest(kindClient, pool)
		key = w.prefix + wireVersion + ":c{" + hex.EncodeToString(sum[:16]) + "}"
		return key, int(binary.BigEndian.Uint32(sum[16:20]) % uint32(len(w.tags)))
	}
	sum := userDigest(pool, sub)
	key = w.prefix + wireVersion + ":{" + hex.EncodeToString(sum[:16]) + "}"
	return key, int(binary.BigEndian.Uint32(sum[16:20]) % uint32(len(w.tags)))
}

// field is the hash field of the record of user k (jti == ""), of its
// session jti, or, for record.ClientsKey, of the app client jti.
func field(k userKey, jti string) string {
	switch {
	case k.Sub == "":
		return fieldClient + jti
	case jti != "":
		return fieldSession + jti
	}
	return fieldUser
}

// channel is the name of sign-out channel i.
func (w wire) channel(i int) string {
	return w.prefix + wireVersion + ":signouts:" + strconv.Itoa(i) + "{" + w.tags[i] + "}"
}

// ackChannel is instance id's acknowledgement channel in channel i's slot.
func (w wire) ackChannel(i int, id string) string {
	return w.prefix + wireVersion + ":ack:" + id + "{" + w.tags[i] + "}"
}

// marker is the data-loss marker key with hash tag tag.
// liveTag is the hash tag of the live-instance set: that of the marker
// of the master owning its slot, so that the health check refreshes it in
// the same round trip.
const liveTag = "0"

// live is the key of the live-instance set (see presence).
func (w wire) live() string { return w.prefix + wireVersion + ":live{" + liveTag + "}" }

func (w wire) marker(tag string) string {
	return w.prefix + wireVersion + ":marker{" + tag + "}"
}

// slot is the Redis Cluster slot of a key whose hash tag is tag.
func slot(tag string) uint16 { return crc16(tag) % clusterSlots }

// crc16 is CRC-16/XMODEM, the checksum of Redis Cluster key slots.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// writeScript raises a field of the user's hash to T, keeping the maximum,
// drops fields expired relative to the newest one, refreshes the key's TTL
// on change, and returns the field's resulting value. With KEEP (ARGV[4],
// optional, 0: none), a recorded value at or after KEEP is kept as is: a
// retried sign-out of a token authenticated at KEEP keeps the time its
// first attempt recorded, decided here rather than by a read before the
// write.
//
// KEYS[1] user hash; ARGV[1] field; ARGV[2] T (Unix ms); ARGV[3] TTL (ms);
// ARGV[4] KEEP (Unix ms).
var writeScript = redis.NewScript(`
local t = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local keep = tonumber(ARGV[4] or '0') or 0
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') or 0
if keep > 0 and cur >= keep then
  return cur
end
if t > cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  cur = t
  local all = redis.call('HGETALL', KEYS[1])
  local newest = 0
  for i = 2, #all, 2 do
    local v = tonumber(all[i]) or 0
    if v > newest then newest = v end
  end
  for i = 1, #all, 2 do
    local v = tonumber(all[i + 1]) or 0
    if v + ttl < newest then redis.call('HDEL', KEYS[1], all[i]) end
  end
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return cur
`)

// parseRecord reads a user's hash as returned by HGETALL, ignoring fields
// that are not ours.
func parseRecord(m map[string]string) entry {
	var e entry
	for f, v := range m {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil || t <= 0 {
			continue
		}
		switch {
		case f == fieldUser:
			e.User = t
		case strings.HasPrefix(f, fieldSession), strings.HasPrefix(f, fieldClient):
			// Both prefixes are 2 bytes; a hash holds one kind or the other.
			if e.Sessions == nil {
				e.Sessions = make(map[string]int64, len(m))
			}
			e.Sessions[f[len(fieldSession):]] = t
		}
	}
	return e
}

// maxMessage bounds a message's bytes: a sign-out with the longest
// fields and an acknowledgement request, or a full acknowledgement.
const maxMessage = 3*record.MaxField + 2*maxAckField + 64

// message is a decoded message of the sign-out or acknowledgement channels.
type message struct {
	kind      string
	key       userKey  // sign-outs
	jti       string   // session revocations
	t         int64    // sign-outs
	id, nonce string   // acknowledgement requests; id is also an acknowledgement's responder
	nonces    []string // acknowledgements
}

// encodeSignOut encodes a sign-out of k (a session's when jti is not
// empty; the app client jti's when k is a record.ClientsKey) at t; a
// non-empty id asks for acknowledgements of nonce.
func encodeSignOut(k userKey, jti string, t int64, id, nonce string) string {
	var f []string
	switch {
	case k.Sub == "":
		f = []string{wireVersion, kindClient, strconv.FormatInt(t, 10), k.Pool, jti}
	case jti != "":
		f = []string{wireVersion, kindSession, strconv.FormatInt(t, 10), k.Pool, k.Sub, jti}
	default:
		f = []string{wireVersion, kindUser, strconv.FormatInt(t, 10), k.Pool, k.Sub}
	}
	if id != "" {
		f = append(f, id, nonce)
	}
	return strings.Join(f, "\x00")
}

// encodeAck encodes responder's acknowledgements of nonces (1 to
// maxAcksPerMessage).
func encodeAck(responder string, nonces []string) string {
	return wireVersion + "\x00" + kindAck + "\x00" + responder + "\x00" + strings.Join(nonces, "\x00")
}

var errMalformed = errors.New("malformed message")

func decodeMessage(p string) (message, error) {
	if len(p) > maxMessage {
		return message{}, errMalformed
	}
	f := strings.Split(p, "\x00")
	if len(f) < 3 || f[0] != wireVersion {
		return message{}, errMalformed
	}
	m := message{kind: f[1]}
	switch {
	case m.kind == kindUser || m.kind == kindSession || m.kind == kindClient:
		n := 5 // fields without the acknowledgement request
		if m.kind == kindSession {
			n = 6
		}
		if len(f) != n && len(f) != n+2 {
			return message{}, errMalformed
		}
		t, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || t <= 0 || f[3] == "" || f[4] == "" || len(f[3]) > record.MaxField || len(f[4]) > record.MaxField {
			return message{}, errMalformed
		}
		m.t, m.key = t, userKey{Pool: f[3], Sub: f[4]}
		if m.kind == kindSession {
			if m.jti = f[5]; m.jti == "" || len(m.jti) > record.MaxField {
				return message{}, errMalformed
			}
		}
		if m.kind == kindClient { // the client's record in the pool's entry
			m.key, m.jti = record.ClientsKey(f[3]), f[4]
		}
		if len(f) == n+2 {
			m.id, m.nonce = f[n], f[n+1]
			if !ackField(m.id) || !ackField(m.nonce) {
				return message{}, errMalformed
			}
		}
	case m.kind == kindAck && len(f) >= 4 && len(f) <= 3+maxAcksPerMessage:
		m.id, m.nonces = f[2], f[3:]
		if !ackField(m.id) {
			return message{}, errMalformed
		}
		for _, n := range m.nonces {
			if !ackField(n) {
				return message{}, errMalformed
			}
		}
	default:
		return message{}, errMalformed
	}
	return m, nil
}

// ackField reports whether s may be an id or nonce: it names a channel.
func ackField(s string) bool {
	return s != "" && len(s) <= maxAckField && !strings.ContainsAny(s, "{}")
}

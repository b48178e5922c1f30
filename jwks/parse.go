package jwks

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
)

// Limits of the key filter.
const (
	minModulusBits = 2048
	maxModulusBits = 8192
	minExponent    = 3
	maxExponent    = 1<<31 - 1
)

// privateMembers are the JWK members that carry RSA private key material
// (RFC 7518 §6.3.2). A published key with any of them is skipped: whoever
// published it has leaked the signing key.
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth"}

var errNoUsableKeys = errors.New("no usable RSA signing keys")

// Parse parses a JSON Web Key Set (RFC 7517 §5) and returns its usable RSA
// signature keys by key ID.
//
// Parse applies the same key filter as [Set]: a key is usable when kty is
// "RSA", use is "sig" or absent, key_ops (if present) contains "verify", alg
// is "RS256" or absent, kid is a non-empty string, it carries no private key
// members, the modulus is odd and has 2048 to 8192 bits, and the exponent is
// odd and in [3, 2^31-1]. Other keys are skipped. Member names are matched
// exactly (case-sensitively). A document that is not a JSON object with a
// "keys" array, that has two usable keys with the same kid, or that has no
// usable key is an error. Unlike [Set], Parse does not limit the number of
// keys; the caller already holds the whole document.
//
// The keys in the returned map are new and owned by the caller. Parse is safe
// for concurrent use and never panics on malformed input.
func Parse(body []byte) (map[string]*rsa.PublicKey, error) {
	keys, err := parseSet(context.Background(), body, 0, nil, discardLogger)
	if err != nil {
		return nil, fmt.Errorf("jwks: parse: %w", err)
	}
	return keys, nil
}

// parseSet is [Parse] with a key limit (maxKeys <= 0: none), the previous key
// map, whose *rsa.PublicKey values are reused for unchanged keys, and a logger
// for skipped keys. Its errors carry no "jwks:" prefix: callers wrap them.
func parseSet(ctx context.Context, body []byte, maxKeys int, prev map[string]*rsa.PublicKey, log *slog.Logger) (map[string]*rsa.PublicKey, error) {
	// Objects are decoded into maps rather than structs because
	// encoding/json matches struct fields case-insensitively ("KID", "Kty").
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	rawKeys, ok := doc["keys"]
	if !ok {
		return nil, errors.New(`invalid key set: no "keys" member`)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(rawKeys, &entries); err != nil {
		return nil, fmt.Errorf(`invalid key set: "keys" is not an array: %w`, err)
	}
	keys := make(map[string]*rsa.PublicKey, min(len(entries), 16))
	for i, raw := range entries {
		kid, pub, reason := parseKey(raw)
		if reason != "" {
			log.LogAttrs(ctx, slog.LevelDebug, "jwks: key skipped",
				slog.Int("index", i), slog.String("kid", kid), slog.String("reason", reason))
			continue
		}
		if _, dup := keys[kid]; dup {
			return nil, fmt.Errorf("invalid key set: duplicate kid %q", kid)
		}
		if maxKeys > 0 && len(keys) == maxKeys {
			return nil, fmt.Errorf("too many usable keys (limit %d)", maxKeys)
		}
		if old := prev[kid]; old != nil && old.E == pub.E && old.N.Cmp(pub.N) == 0 {
			pub = old // keep pointer identity for callers caching per key
		}
		keys[kid] = pub
	}
	if len(keys) == 0 {
		return nil, errNoUsableKeys
	}
	return keys, nil
}

// parseKey decodes one JWK. It returns a non-empty reason when the key does
// not pass the filter; kid is returned (possibly empty) for logging.
func parseKey(raw json.RawMessage) (kid string, pub *rsa.PublicKey, reason string) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return "", nil, "not a JSON object"
	}
	kid, present, ok := stringMember(m, "kid")
	switch {
	case !ok:
		return "", nil, "kid is not a string"
	case !present || kid == "":
		return "", nil, "missing kid"
	}
	kty, _, ok := stringMember(m, "kty")
	if !ok || kty != "RSA" {
		return kid, nil, "kty is not RSA"
	}
	if use, present, ok := stringMember(m, "use"); !ok || present && use != "sig" {
		return kid, nil, "use is not sig"
	}
	if raw, present := m["key_ops"]; present {
		var ops []string
		if err := json.Unmarshal(raw, &ops); err != nil || !slices.Contains(ops, "verify") {
			return kid, nil, "key_ops does not allow verify"
		}
	}
	if alg, present, ok := stringMember(m, "alg"); !ok || present && alg != "RS256" {
		return kid, nil, "alg is not RS256"
	}
	for _, name := range privateMembers {
		if _, present := m[name]; present {
			return kid, nil, "contains private key material"
		}
	}
	n, reason := intMember(m, "n")
	if reason != "" {
		return kid, nil, "modulus " + reason
	}
	if bits := n.BitLen(); bits < minModulusBits || bits > maxModulusBits {
		return kid, nil, "modulus size out of range"
	}
	if n.Bit(0) == 0 {
		return kid, nil, "modulus is even"
	}
	e, reason := intMember(m, "e")
	if reason != "" {
		return kid, nil, "exponent " + reason
	}
	if !e.IsInt64() || e.Int64() < minExponent || e.Int64() > maxExponent || e.Bit(0) == 0 {
		return kid, nil, "exponent out of range or even"
	}
	return kid, &rsa.PublicKey{N: n, E: int(e.Int64())}, ""
}

// stringMember reports the string value of member name, whether it is present
// and, if present, whether it is a JSON string.
func stringMember(m map[string]json.RawMessage, name string) (v string, present, ok bool) {
	raw, present := m[name]
	if !present {
		return "", false, true
	}
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return "", true, false
	}
	v, ok = x.(string)
	return v, true, ok
}

// intMember decodes a Base64urlUInt member (RFC 7518 §2): unpadded base64url,
// big-endian. Leading zero octets are tolerated.
func intMember(m map[string]json.RawMessage, name string) (*big.Int, string) {
	s, present, ok := stringMember(m, name)
	switch {
	case !present:
		return nil, "missing"
	case !ok:
		return nil, "is not a string"
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, "is not base64url"
	}
	return new(big.Int).SetBytes(b), ""
}

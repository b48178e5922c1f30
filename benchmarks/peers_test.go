package benchmarks

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestPeersVerify makes sure every benchmarked verifier really verifies:
// it accepts its token and rejects the same token with one signature bit
// flipped or with another issuer's bytes in the payload.
func TestPeersVerify(t *testing.T) {
	f := theFixture(t)
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			verify := p.setup(t, f)
			tok := p.token(f)
			if err := verify(t.Context(), tok); err != nil {
				t.Fatalf("rejects the fixture token: %v", err)
			}
			for name, bad := range map[string]string{
				"signature": flipSignatureBit(t, tok),
				"issuer":    replacePayload(t, tok, "eu-west-1_AbCdEf123", "eu-west-1_AbCdEf124"),
			} {
				if err := verify(t.Context(), bad); err == nil {
					t.Errorf("accepts a token with a tampered %s", name)
				}
			}
		})
	}
}

func flipSignatureBit(t *testing.T, tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 1
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func replacePayload(t *testing.T, tok, old, new string) string {
	parts := strings.Split(tok, ".")
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(p), old, new, 1)
	if s == string(p) {
		t.Fatalf("%q not in the payload", old)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(s))
	return strings.Join(parts, ".")
}

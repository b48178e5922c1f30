package jwks

import (
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// passes the key filter. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"keys":[]}`))
	f.Add(jwksDoc(f, jwk("a", fakePub(f, 2048), nil)))
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := Parse(body)
		if err != nil {
			if keys != nil {
				t.Fatal("keys returned with an error")
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		for kid, k := range keys {
			switch {
			case kid == "":
				t.Error("empty kid accepted")
			case k == nil || k.N == nil:
				t.Fatalf("kid %q: nil key", kid)
			case k.N.BitLen() < minModulusBits || k.N.BitLen() > maxModulusBits || k.N.Bit(0) == 0:
				t.Errorf("kid %q: modulus of %d bits accepted", kid, k.N.BitLen())
			case k.E < minExponent || k.E > maxExponent || k.E%2 == 0:
				t.Errorf("kid %q: exponent %d accepted", kid, k.E)
			}
		}
	})
}

package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func TestRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const input = "eyJhbGciOiJSUzI1NiJ9.e30"
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	flipped := append([]byte(nil), sig...)
	flipped[10] ^= 1
	for _, tc := range []struct {
		name, input, seg string
		want             error
	}{
		{"valid", input, enc(sig), nil},
		{"other input", input + "x", enc(sig), ErrVerify},
		{"flipped bit", input, enc(flipped), ErrVerify},
		{"padded", input, base64.URLEncoding.EncodeToString(sig), ErrEncoding},
		{"standard alphabet", input, strings.NewReplacer("-", "+", "_", "/").Replace(enc(sig)) + "+", ErrEncoding},
		{"leading zero byte", input, enc(append([]byte{0}, sig...)), ErrLength},
		{"one byte short", input, enc(sig[1:]), ErrLength},
		{"beyond 8192 bits", input, strings.Repeat("A", 1400), ErrTooLarge},
	} {
		if err := RS256(&key.PublicKey, tc.input, tc.seg); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestES256(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const input = "eyJhbGciOiJFUzI1NiJ9.e30"
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, ES256Size)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	for _, seg := range []string{base64.URLEncoding.EncodeToString(sig), base64.RawURLEncoding.EncodeToString(sig)} {
		got, err := DecodeES256(seg)
		if err != nil {
			t.Fatalf("DecodeES256(%q): %v", seg, err)
		}
		if err := ES256(&key.PublicKey, input, got); err != nil {
			t.Errorf("ES256: %v", err)
		}
	}
	if err := ES256(&key.PublicKey, input+"x", sig); err != ErrVerify {
		t.Errorf("other input: %v", err)
	}
	if err := ES256(&key.PublicKey, input, sig[1:]); err != ErrLength {
		t.Errorf("63 bytes: %v", err)
	}
	for seg, want := range map[string]error{
		strings.Repeat("A", 91):                             ErrTooLarge,
		base64.RawURLEncoding.EncodeToString(sig) + "=":     ErrEncoding,
		base64.RawURLEncoding.EncodeToString(sig[1:]):       ErrLength,
		"+" + base64.RawURLEncoding.EncodeToString(sig)[1:]: ErrEncoding,
	} {
		if _, err := DecodeES256(seg); err != want {
			t.Errorf("DecodeES256(%q): %v, want %v", seg, err, want)
		}
	}
}

func TestP256PEM(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pemOf := func(typ string, pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	if k, err := P256PEM(pemOf("PUBLIC KEY", &ec.PublicKey)); err != nil || !k.Equal(&ec.PublicKey) {
		t.Fatalf("P256PEM = %v, %v", k, err)
	}
	for name, b := range map[string][]byte{
		"not PEM":     []byte("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
		"wrong type":  pemOf("EC PUBLIC KEY", &ec.PublicKey),
		"P-384":       pemOf("PUBLIC KEY", &ec384.PublicKey),
		"not PKIX":    pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0}}),
		"empty input": nil,
	} {
		if _, err := P256PEM(b); err == nil || errors.Is(err, ErrVerify) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

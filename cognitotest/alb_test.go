package cognitotest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// albParts splits a data token and decodes its segments, which must carry
// their "=" padding whenever their length is not a multiple of 4 bytes.
func albParts(t *testing.T, tok string) (header, payload map[string]any, sig []byte) {
	t.Helper()
	segs := strings.Split(tok, ".")
	if len(segs) != 3 {
		t.Fatalf("%d segments", len(segs))
	}
	dec := make([][]byte, 3)
	for i, s := range segs {
		if len(s)%4 != 0 {
			t.Fatalf("segment %d is not padded: %q", i, s)
		}
		b, err := base64.URLEncoding.Strict().DecodeString(s)
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		dec[i] = b
	}
	if err := json.Unmarshal(dec[0], &header); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dec[1], &payload); err != nil {
		t.Fatal(err)
	}
	return header, payload, dec[2]
}

// albKey fetches the PEM key of kid from a's key server.
func albKey(t *testing.T, a *cognitotest.ALB, kid string) (*ecdsa.PublicKey, int) {
	t.Helper()
	res, err := http.Get(a.KeyURL() + "/" + kid)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return nil, res.StatusCode
	}
	blk, _ := pem.Decode(body)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		t.Fatalf("not a PEM public key: %q", body)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		t.Fatalf("key %T is not P-256", pub)
	}
	return k, res.StatusCode
}

func albVerifies(tok string, k *ecdsa.PublicKey, sig []byte) bool {
	i := strings.LastIndexByte(tok, '.')
	sum := sha256.Sum256([]byte(tok[:i]))
	return len(sig) == 64 && ecdsa.Verify(k, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

// TestALBDataToken: the data token has the ALB's shape and verifies with
// the served PEM key; options bend it; rotation keeps old keys served.
func TestALBDataToken(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	now := time.Unix(1_800_000_000, 0)
	a := cognitotest.NewALB(cognitotest.ALBConfig{Now: func() time.Time { return now }})
	t.Cleanup(a.Close)
	u := p.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Attributes: map[string]string{"email_verified": "true"}})
	p.AddUser(cognitotest.User{Username: "bob", Email: "bob@example.com"})
	if _, bob, _ := albParts(t, a.DataToken(p, "bob")); bob["email_verified"] != nil {
		t.Error("email_verified implied by an email")
	}

	tok := a.DataToken(p, "alice")
	h, c, sig := albParts(t, tok)
	wantH := map[string]any{"typ": "JWT", "kid": a.KeyID(), "alg": "ES256", "iss": p.Issuer(),
		"client": p.ClientID(), "signer": cognitotest.DefaultALBARN, "exp": float64(now.Add(2 * time.Minute).Unix())}
	wantC := map[string]any{"sub": u.Sub, "email_verified": "true", "email": "alice@example.com",
		"username": "alice", "exp": float64(now.Add(2 * time.Minute).Unix()), "iss": p.Issuer()}
	for name, pair := range map[string][2]map[string]any{"header": {h, wantH}, "payload": {c, wantC}} {
		got, want := pair[0], pair[1]
		if len(got) != len(want) {
			t.Errorf("%s %v, want %v", name, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s %s = %v, want %v", name, k, got[k], v)
			}
		}
	}
	key, _ := albKey(t, a, a.KeyID())
	if !albVerifies(tok, key, sig) {
		t.Fatal("signature does not verify with the served key")
	}

	bent := a.DataToken(p, "alice", cognitotest.WithExpiry(now.Add(time.Hour)), cognitotest.WithClient("other"),
		cognitotest.WithClaims(map[string]any{"email": nil, "custom:tenant": "t1"}), cognitotest.WithHeader(map[string]any{"signer": "x"}))
	h, c, sig = albParts(t, bent)
	if h["exp"] != float64(now.Add(time.Hour).Unix()) || c["exp"] != h["exp"] || h["client"] != "other" ||
		h["signer"] != "x" || c["email"] != nil || c["custom:tenant"] != "t1" {
		t.Fatalf("options not applied: %v %v", h, c)
	}
	if !albVerifies(bent, key, sig) {
		t.Fatal("a bent token must still carry a valid signature")
	}

	old := a.KeyID()
	a.RotateKey()
	if a.KeyID() == old {
		t.Fatal("RotateKey kept the kid")
	}
	if k, status := albKey(t, a, old); k == nil {
		t.Fatalf("old key no longer served: %d", status)
	}
	newKey, _ := albKey(t, a, a.KeyID())
	tok = a.DataToken(p, "alice")
	_, _, sig = albParts(t, tok)
	if !albVerifies(tok, newKey, sig) || albVerifies(tok, key, sig) {
		t.Fatal("new tokens are not signed with the new key")
	}
	if _, status := albKey(t, a, "00000000-0000-4000-8000-000000000000"); status != http.StatusNotFound {
		t.Fatalf("unknown kid: %d, want 404", status)
	}
	if a.KeyHits() != 4 {
		t.Fatalf("KeyHits %d, want 4", a.KeyHits())
	}
}

// TestALBSetHeaders: the three headers of an authenticated request, any
// client-sent value replaced.
func TestALBSetHeaders(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(p.Close)
	a := cognitotest.NewALB(cognitotest.ALBConfig{})
	t.Cleanup(a.Close)
	u := p.AddUser(cognitotest.User{Username: "bob"})
	h := http.Header{}
	h.Add("X-Amzn-Oidc-Identity", "forged")
	a.SetHeaders(h, p, "bob")
	if got := h.Values("X-Amzn-Oidc-Identity"); len(got) != 1 || got[0] != u.Sub {
		t.Fatalf("identity %v", got)
	}
	_, c, _ := albParts(t, h.Get("X-Amzn-Oidc-Data"))
	if c["sub"] != u.Sub {
		t.Fatalf("data sub %v", c["sub"])
	}
	if at := h.Get("X-Amzn-Oidc-Accesstoken"); strings.Count(at, ".") != 2 {
		t.Fatalf("access token %q", at)
	}
}

package cognitotest_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cognitoguard/cognitoguard/internal/clocktest"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// t0 is the start of the fake clock of the tests.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func newClock() *clocktest.Clock { return clocktest.New(t0) }

// newPool starts a pool on a fake clock, closed at the end of the test.
func newPool(t *testing.T, cfg cognitotest.Config) (*cognitotest.Pool, *clocktest.Clock) {
	t.Helper()
	clock := newClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	p := cognitotest.NewPool(cfg)
	t.Cleanup(p.Close)
	return p, clock
}

// sdkClient is the real Cognito client pointed at the pool.
func sdkClient(p *cognitotest.Pool) *cip.Client {
	return p.Client()
}

// segment decodes part i (0 header, 1 payload) of a compact JWS.
func segment(t *testing.T, tok string, i int) []byte {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("decoding part %d: %v", i, err)
	}
	return b
}

// claims decodes the payload of tok (numbers as json.Number).
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	return decodeObject(t, segment(t, tok, 1))
}

// header decodes the JOSE header of tok.
func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	return decodeObject(t, segment(t, tok, 0))
}

func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return m
}

// keyOrder returns the member names of a JSON object in order.
func keyOrder(t *testing.T, b []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var names []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// fetchJWKS downloads and parses a JWKS independently of the package:
// kid → public key.
func fetchJWKS(t *testing.T, url string) map[string]*rsa.PublicKey {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func parseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty, Alg, Use, Kid, N, E string
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]*rsa.PublicKey)
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.Kid == "" {
			return nil, fmt.Errorf("unexpected key %+v", k)
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys, nil
}

// verifyRS256 checks the RS256 signature of tok with pub.
func verifyRS256(tok string, pub *rsa.PublicKey) error {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return errors.New("no signature")
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(tok[:i]))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// verifyWithJWKS verifies tok with the key of the JWKS its kid names.
func verifyWithJWKS(t *testing.T, tok string, keys map[string]*rsa.PublicKey) error {
	t.Helper()
	kid, _ := header(t, tok)["kid"].(string)
	pub, ok := keys[kid]
	if !ok {
		return fmt.Errorf("kid %q not in JWKS", kid)
	}
	return verifyRS256(tok, pub)
}

func num(v int64) json.Number { return json.Number(fmt.Sprint(v)) }

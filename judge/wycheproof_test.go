package judge

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/internal/integration"
	"github.com/cognitoguard/cognitoguard/internal/signature"
	"github.com/cognitoguard/cognitoguard/jwks"
)

// Project Wycheproof's test vectors, read from the module cache: the
// module's go.mod names it github.com/c2sp/wycheproof, a path the proxy
// does not serve, so it cannot be a requirement of this module; the test
// downloads the one version below and pins its hash and the files'.
const (
	wycheproofModule  = "github.com/C2SP/wycheproof"
	wycheproofVersion = "v0.0.0-20250901140545-b51abcfb8daf"
	wycheproofSum     = "h1:5BKKVVVj676FUWirLcouEEL6GCYR9X0opkMlEUck8FY="
)

// wycheproofFiles are the vector files used, with their SHA-256.
var wycheproofFiles = map[string]string{
	"testvectors_v1/rsa_signature_2048_sha256_test.json":    "0c5b02e91cc686f5a6378bf6de221da47ce713cd9399f1fe8b4ca2ca4268b970",
	"testvectors_v1/ecdsa_secp256r1_sha256_p1363_test.json": "782c0053085d7c8bb9dcb38581290cc3061f3a4d9c2c6a8d9e9f97e0d12cf971",
}

// wycheproofFile returns the contents of a vector file of the pinned
// version, downloading the module when the cache lacks it. Without the go
// command or the proxy the test is skipped, and fails under
// COGNITOGUARD_INTEGRATION=1 (as in CI).
func wycheproofFile(t *testing.T, name string) []byte {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", wycheproofModule+"@"+wycheproofVersion)
	cmd.Dir = t.TempDir() // outside this module: the module is no requirement
	out, err := cmd.Output()
	var m struct{ Dir, Sum, Error string }
	if err == nil {
		err = json.Unmarshal(out, &m)
	}
	if err != nil || m.Error != "" {
		why := fmt.Sprintf("wycheproof: go mod download %s@%s: %v %s", wycheproofModule, wycheproofVersion, err, m.Error)
		integration.Unavailable(t, "%s", why)
	}
	if m.Sum != wycheproofSum {
		t.Fatalf("wycheproof: module hash %s, want %s", m.Sum, wycheproofSum)
	}
	data, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != wycheproofFiles[name] {
		t.Fatalf("wycheproof: %s has SHA-256 %x, want %s", name, sum, wycheproofFiles[name])
	}
	return data
}

// wycheproofTest is one vector: msg and sig in hex; result "valid",
// "invalid" or "acceptable".
type wycheproofTest struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Msg     hexBytes `json:"msg"`
	Sig     hexBytes `json:"sig"`
	Result  string   `json:"result"`
}

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

// verdicts counts the vectors of a file by expected result and by the
// check's answer.
type verdicts map[string]int

func (v verdicts) String() string {
	s := fmt.Sprintf("valid %d, invalid %d, acceptable %d; accepted %d, refused %d",
		v["valid"], v["invalid"], v["acceptable"], v["accepted"], v["refused"])
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if strings.HasPrefix(k, "refused: ") {
			s += fmt.Sprintf("; %s %d", k, v[k])
		}
	}
	return s
}

// judgeVector checks the answer err to vector tc against its expected
// result. An "acceptable" vector must be refused: each one's flag is in
// refusedAcceptable, with the reason.
func judgeVector(t *testing.T, v verdicts, tc wycheproofTest, err error) {
	t.Helper()
	v[tc.Result]++
	if err == nil {
		v["accepted"]++
	} else {
		v["refused"]++
		v["refused: "+err.Error()]++
	}
	switch tc.Result {
	case "valid":
		if err != nil {
			t.Errorf("tcId %d (%s, %v): valid, refused: %v", tc.TcID, tc.Comment, tc.Flags, err)
		}
	case "invalid":
		if err == nil {
			t.Errorf("tcId %d (%s, %v): invalid, accepted", tc.TcID, tc.Comment, tc.Flags)
		}
	case "acceptable":
		for _, f := range tc.Flags {
			if _, ok := refusedAcceptable[f]; !ok {
				t.Errorf("tcId %d (%s): acceptable with flag %s, which has no decision in refusedAcceptable", tc.TcID, tc.Comment, f)
			}
		}
		if err == nil {
			t.Errorf("tcId %d (%s, %v): acceptable, accepted; cognitoguard refuses these", tc.TcID, tc.Comment, tc.Flags)
		}
	default:
		t.Errorf("tcId %d: unknown result %q", tc.TcID, tc.Result)
	}
}

// refusedAcceptable: the "acceptable" (legal but unusual) cases, all
// refused, by flag. Cognito and the ALB sign in one encoding; accepting
// another adds malleability and nothing a real token needs.
var refusedAcceptable = map[string]string{
	"MissingNull": "DigestInfo without the NULL parameter of SHA-256's AlgorithmIdentifier: RFC 8017 lets a verifier accept it, Cognito never signs it, crypto/rsa refuses it",
}

// TestWycheproofRS256: Project Wycheproof's RSASSA-PKCS1-v1_5 SHA-256
// vectors of 2048-bit keys through the key reader (jwks.Parse of the
// vector's JWK) and the RS256 check of cognitoguard's Verifier, with the
// signature as a compact JWS's segment (unpadded base64url). Every
// verdict is the vector's.
func TestWycheproofRS256(t *testing.T) {
	var file struct {
		Algorithm  string
		TestGroups []struct {
			Type   string          `json:"type"`
			SHA    string          `json:"sha"`
			KeyJWK json.RawMessage `json:"keyJwk"`
			Tests  []wycheproofTest
		}
	}
	if err := json.Unmarshal(wycheproofFile(t, "testvectors_v1/rsa_signature_2048_sha256_test.json"), &file); err != nil {
		t.Fatal(err)
	}
	v := verdicts{}
	for _, g := range file.TestGroups {
		if g.Type != "RsassaPkcs1Verify" || g.SHA != "SHA-256" {
			t.Fatalf("group of type %s, hash %s", g.Type, g.SHA)
		}
		keys, err := jwks.Parse([]byte(`{"keys":[` + string(g.KeyJWK) + `]}`))
		if err != nil || len(keys) != 1 {
			t.Fatalf("key %s: %v", g.KeyJWK, err)
		}
		var key = keys["none"]
		for _, tc := range g.Tests {
			err := signature.RS256(key, string(tc.Msg), base64.RawURLEncoding.EncodeToString(tc.Sig))
			judgeVector(t, v, tc, err)
		}
	}
	t.Logf("%d RS256 vectors: %v", v["valid"]+v["invalid"]+v["acceptable"], v)
	if v["valid"] == 0 || v["invalid"] == 0 {
		t.Fatalf("vectors %v: want valid and invalid ones", v)
	}
}

// TestWycheproofES256: Project Wycheproof's ECDSA P-256 SHA-256 vectors in
// IEEE P1363 form (raw R‖S, as the ALB signs) through the alb package's
// key reader (the vector's PEM) and its ES256 check, with the signature as
// a data token's segment, padded as the ALB writes it and unpadded. Every
// verdict is the vector's, for both encodings.
func TestWycheproofES256(t *testing.T) {
	var file struct {
		TestGroups []struct {
			Type  string `json:"type"`
			SHA   string `json:"sha"`
			PEM   string `json:"publicKeyPem"`
			Tests []wycheproofTest
		}
	}
	if err := json.Unmarshal(wycheproofFile(t, "testvectors_v1/ecdsa_secp256r1_sha256_p1363_test.json"), &file); err != nil {
		t.Fatal(err)
	}
	v := verdicts{}
	for _, g := range file.TestGroups {
		if g.Type != "EcdsaP1363Verify" || g.SHA != "SHA-256" {
			t.Fatalf("group of type %s, hash %s", g.Type, g.SHA)
		}
		key, err := signature.P256PEM([]byte(g.PEM))
		if err != nil {
			t.Fatalf("key %q: %v", g.PEM, err)
		}
		for _, tc := range g.Tests {
			var errs [2]error
			for i, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding} {
				sig, err := signature.DecodeES256(enc.EncodeToString(tc.Sig))
				if err == nil {
					err = signature.ES256(key, string(tc.Msg), sig)
				}
				errs[i] = err
			}
			if (errs[0] == nil) != (errs[1] == nil) {
				t.Errorf("tcId %d: padded %v, unpadded %v", tc.TcID, errs[0], errs[1])
			}
			judgeVector(t, v, tc, errs[0])
		}
	}
	t.Logf("%d ES256 vectors: %v", v["valid"]+v["invalid"]+v["acceptable"], v)
	if v["valid"] == 0 || v["invalid"] == 0 {
		t.Fatalf("vectors %v: want valid and invalid ones", v)
	}
}

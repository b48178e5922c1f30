package judge

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// judgeNow is the fixed clock of every judge and of the fake pool.
var judgeNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const allowedClient = "client-a"

type fixture struct {
	pool *cognitotest.Pool
	cg   *cognitoguard.Verifier
	pol  *policy
	sign [3]*rsa.PrivateKey // by the key switch: access, id, foreign
	kids [3]string          // by the kid switch - 1: access, id, unknown
}

var (
	foreignOnce sync.Once
	foreign     *rsa.PrivateKey
)

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	now := func() time.Time { return judgeNow }
	p := cognitotest.NewPool(cognitotest.Config{Now: now, ClientIDs: []string{allowedClient, "client-b"}})
	tb.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Groups: []string{"admin", "staff"},
		Attributes: map[string]string{"custom:tenant": "acme"}})
	p.AddUser(cognitotest.User{Username: "bob"})
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.PoolID(), Issuers: []string{p.Issuer()}, ClientIDs: []string{allowedClient}}},
		cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	foreignOnce.Do(func() {
		if foreign, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	f := &fixture{pool: p, cg: v}
	f.sign = [3]*rsa.PrivateKey{p.AccessSigningKey(), p.IDSigningKey(), foreign}
	f.kids = [3]string{p.AccessKeyID(), p.IDKeyID(), "unknown-kid"}
	f.pol = &policy{issuer: p.Issuer(), client: allowedClient, now: judgeNow, keys: map[string]*rsa.PublicKey{
		p.AccessKeyID(): &p.AccessSigningKey().PublicKey,
		p.IDKeyID():     &p.IDSigningKey().PublicKey,
	}}
	return f
}

// input is one fuzz case: header and payload JSON bytes and the switches.
type input struct {
	header, payload []byte
	key             uint8 // signing key: access, id, foreign (mod 3)
	kid             uint8 // 0: header as given; 1-3: "kid" of the access key, the id key, an unknown one spliced in first
	sig             uint8 // signature tweak (mod 6), see tweakSig
	enc             uint8 // segment encoding flags, see encode
}

// judged is a built token and what it was built from.
type judged struct {
	in               input
	header           []byte // after the kid splice
	tok              string
	hseg, pseg, sseg string
}

var raw = base64.RawURLEncoding

// build encodes, signs (with the chosen pool key, over the exact encoded
// text, so the signature is valid unless tweaked) and assembles a token.
func (f *fixture) build(in input) judged {
	j := judged{in: in, header: in.header}
	if k := in.kid % 4; k > 0 {
		if i := bytes.IndexByte(in.header, '{'); i >= 0 {
			spliced := `"kid":"` + f.kids[k-1] + `",`
			j.header = append(append(append([]byte{}, in.header[:i+1]...), spliced...), in.header[i+1:]...)
		}
	}
	j.hseg = encode(j.header, in.enc&1 != 0, false, in.enc&8 != 0)
	j.pseg = encode(in.payload, in.enc&2 != 0, in.enc&4 != 0, false)
	sum := sha256.Sum256([]byte(j.hseg + "." + j.pseg))
	sig, err := rsa.SignPKCS1v15(nil, f.sign[in.key%3], crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	j.sseg = tweakSig(sig, in.sig)
	j.tok = j.hseg + "." + j.pseg + "." + j.sseg
	return j
}

// encode is base64url, optionally padded, in the standard alphabet, or
// with non-zero unused trailing bits.
func encode(b []byte, pad, std, loose bool) string {
	s := raw.EncodeToString(b)
	if loose {
		s = looseTail(s)
	}
	if std {
		s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	}
	if pad {
		s += strings.Repeat("=", (4-len(s)%4)%4)
	}
	return s
}

// looseTail sets an unused trailing bit of the last character, which a
// lenient decoder ignores and a strict one refuses.
func looseTail(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 < 2 {
		return s
	}
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1])
}

// tweakSig encodes the signature after one of: nothing, one bit flipped,
// non-zero trailing bits, padding, the last byte cut, standard alphabet.
func tweakSig(sig []byte, how uint8) string {
	switch how % 6 {
	case 1:
		sig = append([]byte{}, sig...)
		sig[int(how)%len(sig)] ^= 1
	case 2:
		return looseTail(raw.EncodeToString(sig))
	case 3:
		return encode(sig, true, false, false)
	case 4:
		sig = sig[:len(sig)-1]
	case 5:
		return encode(sig, false, true, false)
	}
	return raw.EncodeToString(sig)
}

// seedInputs are real Cognito-shaped tokens of the fake pool, split back
// into their JSON and switches: access and ID tokens, custom attributes,
// groups, and the time boundaries (exp and nbf equal to now, iat = now).
func (f *fixture) seedInputs(tb testing.TB) []input {
	tb.Helper()
	p := f.pool
	tokens := []struct {
		tok string
		key uint8
	}{
		{p.AccessToken("alice"), 0},
		{p.IDToken("alice"), 1},
		{p.AccessToken("bob", cognitotest.WithScopes("openid", "aws.cognito.signin.user.admin")), 0},
		{p.IDToken("bob", cognitotest.WithClaims(map[string]any{"identities": []any{map[string]any{"userId": "1", "providerName": "Google"}}})), 1},
		{p.AccessToken("alice", cognitotest.WithExpiry(judgeNow)), 0},
		{p.AccessToken("alice", cognitotest.WithExpiry(judgeNow.Add(time.Second))), 0},
		{p.AccessToken("alice", cognitotest.WithIssuedAt(judgeNow.Add(time.Second))), 0},
		{p.AccessToken("alice", cognitotest.WithClaims(map[string]any{"nbf": judgeNow.Unix()})), 0},
		{p.AccessToken("alice", cognitotest.WithClient("client-b")), 0},
		{p.IDToken("alice", cognitotest.WithClaims(map[string]any{"auth_time": nil})), 1},
	}
	var out []input
	for _, t := range tokens {
		parts := strings.Split(t.tok, ".")
		h, err1 := raw.DecodeString(parts[0])
		pl, err2 := raw.DecodeString(parts[1])
		if err1 != nil || err2 != nil {
			tb.Fatal("minted token is not base64url")
		}
		out = append(out, input{header: h, payload: pl, key: t.key})
	}
	return out
}

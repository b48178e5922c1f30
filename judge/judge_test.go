package judge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cognitoguard/cognitoguard"
)

// stricter lists every case where cognitoguard deliberately refuses a token
// that a peer accepts, with the reason. holds is judged from the token's
// bytes with encoding/json, independently of cognitoguard's parser; example
// is a case the entry explains (TestStricterTable checks that it really is
// refused by cognitoguard and accepted by a peer). SECURITY.md carries the
// same table.
var stricter = []struct {
	name, reason string
	holds        func(j *judged) bool
	example      func(f *fixture) input
}{
	{
		"token longer than 16 KiB",
		"bounds the work an unauthenticated client can cause (MaxTokenSize); the peers read any size",
		func(j *judged) bool { return len(j.tok) > cognitoguard.DefaultMaxTokenSize },
		func(f *fixture) input { return f.access(`,"pad":"` + strings.Repeat("x", 13000) + `"`) },
	},
	{
		"header segment longer than 1 KiB",
		"a Cognito header is ~100 bytes; bounds work before the signature check",
		func(j *judged) bool { return len(j.hseg) > 1024 },
		func(f *fixture) input {
			in := f.access("")
			in.header = []byte(`{"alg":"RS256","x":"` + strings.Repeat("y", 800) + `"}`)
			return in
		},
	},
	{
		"segment not canonical base64url (padding, + or /, non-zero unused bits)",
		"one token has one spelling: the cache key and the signed bytes are unambiguous; jwx accepts padded and standard-alphabet segments, golang-jwt ignores unused trailing bits",
		func(j *judged) bool { return !canonical(j.hseg) || !canonical(j.pseg) || !canonical(j.sseg) },
		func(f *fixture) input { in := f.access(""); in.sig = 2; return in },
	},
	{
		"two member names of one object equal up to case, at any depth",
		"encoding/json (Claims.Decode) matches names ignoring case and keeps the last: the caller could read a value that was not checked; the peers keep the last duplicate",
		func(j *judged) bool { return walk(j.header).dup || walk(j.in.payload).dup },
		func(f *fixture) input { return f.access(`,"custom:role":"user","custom:role":"admin"`) },
	},
	{
		"member named like a claim cognitoguard reads, in another case",
		"Claims.Decode would fill the field of that claim with it (\"EMAIL\" into email)",
		func(j *judged) bool { return caseVariant(j.in.payload) },
		func(f *fixture) input { return f.access(`,"EMAIL":"evil@example.com"`) },
	},
	{
		"exp, iat, nbf or auth_time not a whole number of seconds in [0, 1e11]",
		"Cognito writes integers; fractions, exponents, strings (jwx parses RFC 3339) and far dates are refused rather than rounded",
		func(j *judged) bool { return badDate(j.in.payload) },
		func(f *fixture) input { return f.accessWith(`"exp":` + itoa(judgeNow.Unix()+60) + `.5`) },
	},
	{
		"a claim cognitoguard reads has another JSON type",
		"iss, sub, token_use, client_id, aud, scope, username, cognito:username, email, jti, origin_jti, event_id are strings, cognito:groups an array of strings, email_verified a boolean (or \"true\"/\"false\"); the peers check only what they use (jwx reads null as \"\", both accept an aud array)",
		func(j *judged) bool { return wrongType(j.in.payload) },
		func(f *fixture) input { return f.access(`,"email":null`) },
	},
	{
		"sub missing or empty",
		"a user is (pool, sub): sign-outs are keyed by it; the peers do not require sub",
		func(j *judged) bool { return noSub(j.in.payload) },
		func(f *fixture) input { return f.accessWith(`"sub":""`) },
	},
	{
		"crit header present",
		"no extension is understood, so a critical one must fail (RFC 7515 §4.1.11); golang-jwt ignores crit",
		func(j *judged) bool { return hasMember(j.header, "crit") },
		func(f *fixture) input {
			in := f.access("")
			in.header = []byte(`{"alg":"RS256","crit":["exp"]}`)
			return in
		},
	},
	{
		"header carries b64 or names a key other than by kid (jku, jwk, x5u, x5c, x5t, x5t#S256)",
		"b64 changes what is signed (RFC 7797) and the others point at keys cognitoguard never fetches; Cognito sends none of them; golang-jwt ignores them, jwx refuses b64 and malformed ones",
		func(j *judged) bool {
			m := members(j.header)
			for _, k := range []string{"b64", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256"} {
				if _, ok := m[k]; ok {
					return true
				}
			}
			return false
		},
		func(f *fixture) input {
			in := f.access("")
			in.header = []byte(`{"alg":"RS256","jku":"https://attacker.example/jwks.json"}`)
			return in
		},
	},
	{
		"typ or cty header not a string (or null)",
		"jwx refuses them too; golang-jwt ignores the header's other members",
		func(j *judged) bool {
			m := members(j.header)
			for _, k := range []string{"typ", "cty"} {
				if v, ok := m[k]; ok && string(v) != "null" && !isString(v) {
					return true
				}
			}
			return false
		},
		func(f *fixture) input {
			in := f.access("")
			in.header = []byte(`{"alg":"RS256","typ":5}`)
			return in
		},
	},
	{
		"JSON nested deeper than 32 levels",
		"bounds the scanner's recursion; Cognito nests 2 levels (identities)",
		func(j *judged) bool { return walk(j.header).depth > 32 || walk(j.in.payload).depth > 32 },
		func(f *fixture) input {
			return f.access(`,"deep":` + strings.Repeat("[", 40) + strings.Repeat("]", 40))
		},
	},
	{
		"a number beyond float64's range (1e999) anywhere",
		"encoding/json cannot decode it into an interface, so Claims.Decode into a map would fail on an accepted token; jwx refuses it, golang-jwt (WithJSONNumber) keeps the text",
		func(j *judged) bool { return walk(j.header).bigNumber || walk(j.in.payload).bigNumber },
		func(f *fixture) input { return f.access(`,"x":1e999`) },
	},
	{
		"invalid UTF-8 in the header or payload",
		"encoding/json replaces it with U+FFFD, so the text read would not be the text signed",
		func(j *judged) bool { return !utf8.Valid(j.header) || !utf8.Valid(j.in.payload) },
		func(f *fixture) input { return f.access(",\"name\":\"\xff\"") },
	},
}

// found are the disagreements the judge found where cognitoguard accepted
// and a peer refused; each was resolved by making cognitoguard refuse the
// token (see the stricter table), and each stays a seed and a test case.
func (f *fixture) found() map[string]input {
	header := func(h string) input {
		in := f.access("")
		in.header = []byte(`{"alg":"RS256",` + h + `}`)
		return in
	}
	return map[string]input{
		// jwx cannot decode the number into a float64, nor can
		// Claims.Decode into a map: jsonscan now refuses it.
		"payload number beyond float64": f.access(`,"x":1e999`),
		"header number beyond float64":  header(`"x":-1e999`),
		// jwx refuses any b64 (its meaning would change the signing input).
		"b64 header": header(`"b64":false`),
		// jwx types the registered header parameters.
		"typ not a string":  header(`"typ":5`),
		"cty not a string":  header(`"cty":{}`),
		"jwk not a JWK":     header(`"jwk":{}`),
		"x5c not an array":  header(`"x5c":5`),
		"x5t#S256 a number": header(`"x5t#S256":5`),
	}
}

// TestFoundDisagreements replays every disagreement found so far.
func TestFoundDisagreements(t *testing.T) {
	fx := newFixture(t)
	for name, in := range fx.found() {
		t.Run(name, func(t *testing.T) {
			if cg := judgeCognitoguard(t.Context(), fx.cg, fx.build(in).tok); cg.err == nil {
				t.Fatal("cognitoguard accepts it again")
			}
			fx.judge(t, in)
		})
	}
}

// explain returns the stricter entry that covers j, or "".
func explain(j *judged) string {
	for _, s := range stricter {
		if s.holds(j) {
			return s.name
		}
	}
	return ""
}

// judge runs the three judges on one input and fails t on a disagreement:
// a token cognitoguard accepts must be accepted by both peers with the same
// sub, exp, auth_time, token_use and client; a token it refuses and a peer
// accepts must be covered by the stricter table; client input never makes
// it unavailable.
func (f *fixture) judge(t *testing.T, in input) {
	j := f.build(in)
	cg := judgeCognitoguard(t.Context(), f.cg, j.tok)
	jx := judgeJWX(f.pol, j.tok)
	gj := judgeGolangJWT(f.pol, j.tok)
	report := func(what string) {
		t.Fatalf("%s\nheader  %q\npayload %q\nswitches key=%d kid=%d sig=%d enc=%d\ncognitoguard %v\njwx          %v\ngolang-jwt   %v",
			what, j.header, in.payload, in.key, in.kid, in.sig, in.enc, cg, jx, gj)
	}
	if cg.err == nil {
		if !cg.same(jx) || !cg.same(gj) {
			report("cognitoguard accepted what a peer refused or read differently")
		}
		return
	}
	if cognitoguard.Class(cg.err) == cognitoguard.ErrUnavailable {
		report("client input made cognitoguard unavailable")
	}
	if (jx.err == nil || gj.err == nil) && explain(&j) == "" {
		report("a peer accepted what cognitoguard refused, and no stricter entry explains it")
	}
}

// FuzzJudge is the differential target: header and payload bytes plus the
// switches, signed by the harness with the pool's key, judged by
// cognitoguard, jwx v3 and golang-jwt v5 under one policy.
func FuzzJudge(f *testing.F) {
	fx := newFixture(f)
	for _, in := range fx.seedInputs(f) {
		f.Add(in.header, in.payload, in.key, in.kid, in.sig, in.enc)
	}
	for _, s := range stricter {
		in := s.example(fx)
		f.Add(in.header, in.payload, in.key, in.kid, in.sig, in.enc)
	}
	for _, in := range fx.found() {
		f.Add(in.header, in.payload, in.key, in.kid, in.sig, in.enc)
	}
	f.Fuzz(func(t *testing.T, header, payload []byte, key, kid, sig, enc uint8) {
		fx.judge(t, input{header: header, payload: payload, key: key, kid: kid, sig: sig, enc: enc})
	})
}

// TestSeedsAgree: on the real Cognito-shaped tokens every judge gives the
// same verdict, and the valid ones are accepted by all three.
func TestSeedsAgree(t *testing.T) {
	fx := newFixture(t)
	accepted := 0
	for _, in := range fx.seedInputs(t) {
		j := fx.build(in)
		cg := judgeCognitoguard(t.Context(), fx.cg, j.tok)
		jx, gj := judgeJWX(fx.pol, j.tok), judgeGolangJWT(fx.pol, j.tok)
		if (cg.err == nil) != (jx.err == nil) || (cg.err == nil) != (gj.err == nil) {
			t.Errorf("payload %s:\ncognitoguard %v\njwx %v\ngolang-jwt %v", in.payload, cg, jx, gj)
		}
		if cg.err == nil {
			accepted++
		}
		fx.judge(t, in)
	}
	if accepted < 5 {
		t.Fatalf("only %d seeds accepted: the fixture is broken", accepted)
	}
}

// TestStricterTable: each entry's example is refused by cognitoguard,
// accepted by at least one peer, and covered by the entry's own predicate
// (so no entry is dead, and each predicate matches what it names).
func TestStricterTable(t *testing.T) {
	fx := newFixture(t)
	for _, s := range stricter {
		t.Run(s.name, func(t *testing.T) {
			j := fx.build(s.example(fx))
			cg := judgeCognitoguard(t.Context(), fx.cg, j.tok)
			jx, gj := judgeJWX(fx.pol, j.tok), judgeGolangJWT(fx.pol, j.tok)
			if cg.err == nil || (jx.err != nil && gj.err != nil) || !s.holds(&j) {
				t.Fatalf("not a case of the entry (holds=%v):\ncognitoguard %v\njwx %v\ngolang-jwt %v", s.holds(&j), cg, jx, gj)
			}
		})
	}
}

// access returns an input holding a valid access token's JSON of alice
// with extra appended inside the payload object.
func (f *fixture) access(extra string) input {
	return input{header: []byte(`{"alg":"RS256"}`), kid: 1, payload: []byte(f.accessJSON(nil) + extra + "}")}
}

// accessWith returns a valid access token's input whose member set by
// override ("name":value) replaces the original one.
func (f *fixture) accessWith(override string) input {
	name := override[:strings.Index(override, ":")]
	return input{header: []byte(`{"alg":"RS256"}`), kid: 1, payload: []byte(f.accessJSON(map[string]string{name: override}) + "}")}
}

// accessJSON is a Cognito access token payload without its closing brace.
func (f *fixture) accessJSON(over map[string]string) string {
	now := judgeNow.Unix()
	members := []string{
		`"sub":"0b4c8f9e-1111-4222-8333-944445555666"`, `"iss":"` + f.pool.Issuer() + `"`,
		`"client_id":"` + allowedClient + `"`, `"origin_jti":"o-1"`, `"event_id":"e-1"`, `"token_use":"access"`,
		`"scope":"openid"`, `"auth_time":` + itoa(now-60), `"exp":` + itoa(now+3600), `"iat":` + itoa(now-60),
		`"jti":"j-1"`, `"username":"alice"`,
	}
	for i, m := range members {
		if o, ok := over[m[:strings.Index(m, ":")]]; ok {
			members[i] = o
		}
	}
	return "{" + strings.Join(members, ",")
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func canonical(seg string) bool {
	_, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	return err == nil
}

// shape is what walk learns of a JSON text.
type shape struct {
	dup       bool // some object holds two names equal under strings.EqualFold
	depth     int  // the deepest nesting
	bigNumber bool // a number beyond float64's range
}

// walk reads b with encoding/json's tokenizer. Invalid JSON ends the walk
// where it is.
func walk(b []byte) (sh shape) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type level struct {
		names    []string
		isObject bool
		wantName bool
	}
	var stack []level
	for {
		tok, err := dec.Token()
		if err != nil {
			return sh
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				stack = append(stack, level{isObject: d == '{', wantName: d == '{'})
				sh.depth = max(sh.depth, len(stack))
			default:
				stack = stack[:top]
				if top > 0 && stack[top-1].isObject {
					stack[top-1].wantName = true
				}
			}
			continue
		}
		if n, ok := tok.(json.Number); ok {
			if _, err := strconv.ParseFloat(string(n), 64); err != nil {
				sh.bigNumber = true
			}
		}
		if top < 0 || !stack[top].isObject {
			continue
		}
		if s, ok := tok.(string); ok && stack[top].wantName {
			for _, n := range stack[top].names {
				if strings.EqualFold(n, s) {
					sh.dup = true
				}
			}
			stack[top].names = append(stack[top].names, s)
			stack[top].wantName = false
			continue
		}
		stack[top].wantName = true
	}
}

// members decodes a JSON object's members; nil if it is not one.
func members(b []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func hasMember(b []byte, name string) bool { _, ok := members(b)[name]; return ok }

var (
	stringClaims = []string{"iss", "sub", "token_use", "client_id", "aud", "scope", "username",
		"cognito:username", "email", "jti", "origin_jti", "event_id"}
	dateClaims = []string{"exp", "iat", "nbf", "auth_time"}
	readClaims = append(append([]string{"cognito:groups", "email_verified"}, stringClaims...), dateClaims...)
	wholeRe    = regexp.MustCompile(`^(0|[1-9][0-9]{0,11})$`)
)

func caseVariant(b []byte) bool {
	for k := range members(b) {
		for _, c := range readClaims {
			if k != c && strings.EqualFold(k, c) {
				return true
			}
		}
	}
	return false
}

func badDate(b []byte) bool {
	m := members(b)
	for _, c := range dateClaims {
		if v, ok := m[c]; ok {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if !wholeRe.Match(v) || err != nil || n > 1e11 {
				return true
			}
		}
	}
	return false
}

func wrongType(b []byte) bool {
	m := members(b)
	for _, c := range stringClaims {
		if v, ok := m[c]; ok && !isString(v) {
			return true
		}
	}
	if v, ok := m["cognito:groups"]; ok {
		var gs []string
		if !bytes.HasPrefix(v, []byte("[")) || json.Unmarshal(v, &gs) != nil {
			return true
		}
	}
	if v, ok := m["email_verified"]; ok {
		var x any
		_ = json.Unmarshal(v, &x)
		if _, isBool := x.(bool); !isBool && x != "true" && x != "false" {
			return true
		}
	}
	return false
}

func isString(v json.RawMessage) bool {
	var s string
	return len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil
}

func noSub(b []byte) bool {
	var s string
	v, ok := members(b)["sub"]
	return !ok || (json.Unmarshal(v, &s) == nil && s == "")
}

package jwks

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"math/big"
	"strings"
	"testing"
)

func TestKeyFilter(t *testing.T) {
	pub := fakePub(t, 2048)
	n := b64(pub.N.Bytes())
	e := func(v int64) string { return b64(big.NewInt(v).Bytes()) }
	even := new(big.Int).SetBit(pub.N, 0, 0)

	big8192, small := fakePub(t, 8192), fakePub(t, 1024)
	tests := []struct {
		name  string
		key   any            // a map[string]any is a JWK of pub with these members changed (nil deletes)
		pub   *rsa.PublicKey // if set, key is a map[string]any of this key's members changed
		keep  bool
		wantE int
	}{
		{name: "use and alg", key: map[string]any{}, keep: true},
		{name: "no use, no alg", key: map[string]any{"use": nil, "alg": nil}, keep: true},
		{name: "key_ops verify", key: map[string]any{"use": nil, "key_ops": []string{"verify"}}, keep: true},
		{name: "Cognito shape", key: map[string]any{"alg": "RS256", "use": "sig", "e": "AQAB"}, keep: true},
		{name: "exponent 3", key: map[string]any{"e": e(3)}, keep: true, wantE: 3},
		{name: "exponent 2^31-1", key: map[string]any{"e": e(1<<31 - 1)}, keep: true, wantE: 1<<31 - 1},
		{name: "exponent leading zero", key: map[string]any{"e": b64([]byte{0, 1, 0, 1})}, keep: true},
		{name: "modulus leading zero", key: map[string]any{"n": b64(append([]byte{0}, pub.N.Bytes()...))}, keep: true},
		{name: "8192-bit modulus", pub: big8192, key: map[string]any{}, keep: true},
		{name: "unknown members", key: map[string]any{"x5t": "abc", "ext": true}, keep: true},

		{name: "EC key", key: map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "n": nil, "e": nil}},
		{name: "oct key", key: map[string]any{"kty": "oct", "k": "c2VjcmV0", "n": nil, "e": nil}},
		{name: "kty lower case", key: map[string]any{"kty": "rsa"}},
		{name: "kty missing", key: map[string]any{"kty": nil}},
		{name: "use enc", key: map[string]any{"use": "enc"}},
		{name: "use empty", key: map[string]any{"use": ""}},
		{name: "alg RS512", key: map[string]any{"alg": "RS512"}},
		{name: "alg PS256", key: map[string]any{"alg": "PS256"}},
		{name: "alg none", key: map[string]any{"alg": "none"}},
		{name: "alg HS256", key: map[string]any{"alg": "HS256"}},
		{name: "alg not a string", key: map[string]any{"alg": 256}},
		{name: "key_ops sign only", key: map[string]any{"key_ops": []string{"sign"}}},
		{name: "key_ops not an array", key: map[string]any{"key_ops": "verify"}},
		{name: "1024-bit modulus", pub: small, key: map[string]any{}},
		{name: "2047-bit modulus", pub: fakePub(t, 2047), key: map[string]any{}},
		{name: "8193-bit modulus", pub: fakePub(t, 8193), key: map[string]any{}},
		{name: "even modulus", key: map[string]any{"n": b64(even.Bytes())}},
		{name: "modulus missing", key: map[string]any{"n": nil}},
		{name: "modulus empty", key: map[string]any{"n": ""}},
		{name: "modulus not base64url", key: map[string]any{"n": "!!" + n}},
		{name: "modulus padded", key: map[string]any{"n": n + "=="}},
		{name: "modulus not a string", key: map[string]any{"n": 12345}},
		{name: "exponent 1", key: map[string]any{"e": e(1)}},
		{name: "exponent even", key: map[string]any{"e": e(65536)}},
		{name: "exponent 2^31+1", key: map[string]any{"e": e(1<<31 + 1)}},
		{name: "exponent huge", key: map[string]any{"e": n}},
		{name: "exponent missing", key: map[string]any{"e": nil}},
		{name: "missing kid", key: map[string]any{"kid": nil}},
		{name: "empty kid", key: map[string]any{"kid": ""}},
		{name: "numeric kid", key: map[string]any{"kid": 7}},
		{name: "null kid", key: map[string]any{"kid": json.RawMessage("null")}},
		{name: "KID upper case", key: map[string]any{"kid": nil, "KID": "k"}},
		{name: "private exponent", key: map[string]any{"d": "AQAB"}},
		{name: "private prime", key: map[string]any{"p": "AQAB"}},
		{name: "not an object", key: "RSA"},
		{name: "null", key: nil},
		{name: "array", key: []any{"kty", "RSA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, key := pub, tt.key
			if tt.pub != nil {
				want = tt.pub
			}
			if mods, ok := tt.key.(map[string]any); ok {
				key = jwk("k", want, mods)
			}
			anchor := fakePub(t, 2048)
			doc := jwksDoc(t, jwk("anchor", anchor, nil))
			doc = []byte(strings.Replace(string(doc), `{"keys":[`, `{"keys":[`+string(mustJSON(t, key))+",", 1))

			keys, err := Parse(doc)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, doc)
			}
			if !keys["anchor"].Equal(anchor) {
				t.Error("anchor key lost")
			}
			got, kept := keys["k"]
			if kept != tt.keep {
				t.Fatalf("key kept = %v, want %v", kept, tt.keep)
			}
			if !kept {
				if len(keys) != 1 {
					t.Errorf("got %d keys, want only the anchor", len(keys))
				}
				return
			}
			wantE := want.E
			if tt.wantE != 0 {
				wantE = tt.wantE
			}
			if got.N.Cmp(want.N) != 0 || got.E != wantE {
				t.Errorf("parsed key N/E differ: E = %d, want %d", got.E, wantE)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDocument(t *testing.T) {
	a := jwk("a", fakePub(t, 2048), nil)
	good := string(jwksDoc(t, a))
	tests := []struct {
		name    string
		body    string
		wantErr string // empty: success
	}{
		{name: "one key", body: good},
		{name: "extra members", body: `{"keys":` + string(mustJSON(t, []any{a})) + `,"other":1}`},
		{name: "whitespace", body: "\n " + good + " \n"},
		{name: "empty body", body: "", wantErr: "invalid JSON"},
		{name: "not JSON", body: "<html>", wantErr: "invalid JSON"},
		{name: "trailing garbage", body: good + "x", wantErr: "invalid JSON"},
		{name: "two documents", body: good + good, wantErr: "invalid JSON"},
		{name: "top-level array", body: `[` + good + `]`, wantErr: "invalid JSON"},
		{name: "top-level null", body: `null`, wantErr: `no "keys"`},
		{name: "empty object", body: `{}`, wantErr: `no "keys"`},
		{name: "KEYS upper case", body: strings.Replace(good, `"keys"`, `"KEYS"`, 1), wantErr: `no "keys"`},
		{name: "keys null", body: `{"keys":null}`, wantErr: "no usable"},
		{name: "keys object", body: `{"keys":{}}`, wantErr: "not an array"},
		{name: "keys empty", body: `{"keys":[]}`, wantErr: "no usable"},
		{name: "only skipped keys", body: string(jwksDoc(t, jwk("a", fakePub(t, 1024), nil))), wantErr: "no usable"},
		{name: "duplicate kid", body: string(jwksDoc(t, a, jwk("a", fakePub(t, 2048), nil))), wantErr: "duplicate kid"},
		{name: "duplicate kid, same key", body: string(jwksDoc(t, a, a)), wantErr: "duplicate kid"},
		{name: "same kid, other one skipped", body: string(jwksDoc(t, a, jwk("a", fakePub(t, 2048), map[string]any{"use": "enc"})))},
		{name: "deep nesting", body: `{"keys":[` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `]}`, wantErr: "invalid JSON"},
		{name: "invalid UTF-8 kid", body: strings.Replace(good, `"kid":"a"`, "\"kid\":\"a\xff\"", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := Parse([]byte(tt.body))
			if tt.wantErr == "" {
				if err != nil || len(keys) == 0 {
					t.Fatalf("Parse = %d keys, %v", len(keys), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "jwks: parse: ") {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
			}
			if keys != nil {
				t.Error("keys returned with an error")
			}
		})
	}
}

func TestParseKeepsPointers(t *testing.T) {
	a, b := fakePub(t, 2048), fakePub(t, 2048)
	doc := jwksDoc(t, jwk("a", a, nil), jwk("b", b, nil))
	first, err := parseSet(context.Background(), doc, 0, nil, discardLogger)
	if err != nil {
		t.Fatal(err)
	}
	b2 := fakePub(t, 2048)
	second, err := parseSet(context.Background(), jwksDoc(t, jwk("a", a, nil), jwk("b", b2, nil)), 0, first, discardLogger)
	if err != nil {
		t.Fatal(err)
	}
	if second["a"] != first["a"] {
		t.Error("unchanged key a got a new pointer")
	}
	if second["b"] == first["b"] || !second["b"].Equal(b2) {
		t.Error("changed key b kept the old pointer")
	}
	// Parse never shares pointers between calls.
	p1, _ := Parse(doc)
	p2, _ := Parse(doc)
	if p1["a"] == p2["a"] {
		t.Error("Parse shared a pointer between calls")
	}
}

func TestParseSkipsLogged(t *testing.T) {
	logs := &logRecorder{}
	doc := jwksDoc(t, jwk("a", fakePub(t, 2048), nil), jwk("small", fakePub(t, 1024), nil))
	if _, err := parseSet(context.Background(), doc, 0, nil, slog.New(logs)); err != nil {
		t.Fatal(err)
	}
	r, ok := logs.find(slog.LevelDebug, "jwks: key skipped")
	if !ok {
		t.Fatal("skip not logged")
	}
	kid, _ := attr(r, "kid")
	reason, _ := attr(r, "reason")
	if kid.String() != "small" || reason.String() != "modulus size out of range" {
		t.Errorf("logged kid %q reason %q", kid, reason)
	}
}

func TestParseMaxKeys(t *testing.T) {
	doc := jwksDoc(t, jwk("a", fakePub(t, 2048), nil), jwk("b", fakePub(t, 2048), nil))
	if _, err := parseSet(context.Background(), doc, 1, nil, discardLogger); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Errorf("error = %v, want too many keys", err)
	}
	if _, err := parseSet(context.Background(), doc, 2, nil, discardLogger); err != nil {
		t.Error(err)
	}
}

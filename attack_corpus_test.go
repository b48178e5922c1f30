package cognitoguard_test

// End-to-end tests across packages: a cognitotest pool, the Verifier, the
// in-process revocation store and the net/http middleware, attacked with a
// corpus of hostile tokens and requests.

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/syncbuf"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// stack is one API: verifier, store and middleware around a handler that
// echoes the subject.
type stack struct {
	f       *fixture
	store   *revocation.Memory
	handler http.Handler
	logs    *syncbuf.Buffer

	mu      sync.Mutex
	lastErr error
}

func newStack(t *testing.T, f *fixture, cfg cognitoguard.Config) *stack {
	t.Helper()
	s := &stack{f: f, logs: &syncbuf.Buffer{}}
	s.store = revocation.NewMemory(revocation.MemoryConfig{Now: f.clock.Now})
	logger := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Revocation = s.store
	cfg.Logger = logger
	v := f.verifier(t, cfg)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, found := cognitoguard.FromContext(r.Context())
		if !found {
			t.Error("handler reached without claims")
		}
		w.Write([]byte(c.Subject))
	})
	s.handler = middleware.New(v, middleware.Config{
		Logger: logger,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.mu.Lock()
			s.lastErr = err
			s.mu.Unlock()
			middleware.WriteError(w, r, err, "api")
		},
	})(ok)
	return s
}

func (s *stack) do(t *testing.T, authz ...string) (*httptest.ResponseRecorder, error) {
	t.Helper()
	s.mu.Lock()
	s.lastErr = nil
	s.mu.Unlock()
	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	for _, a := range authz {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	return w, s.lastErr
}

func hs256(key []byte, header, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(header + "." + payload))
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func jsonB64(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(string(b))
}

// TestAttackCorpus sends each hostile token through the middleware and
// asserts the exact status, WWW-Authenticate error code and error class:
// nothing accepted, no panic, no 5xx.
func TestAttackCorpus(t *testing.T) {
	f := newFixture(t)
	p := f.pool
	now := f.clock.Now()
	other := foreignKey(t)
	pub := &p.AccessSigningKey().PublicKey
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	alice, _ := p.User("alice")
	good := func(opts ...cognitotest.TokenOption) string {
		return p.AccessToken("alice", append([]cognitotest.TokenOption{cognitotest.WithClient("client-a")}, opts...)...)
	}
	goodTok := good()
	gh, gp, gs := segments(goodTok)
	rawPayload, _ := base64.RawURLEncoding.DecodeString(gp)
	rawHeader, _ := base64.RawURLEncoding.DecodeString(gh)
	key := p.AccessSigningKey()
	kid := p.AccessKeyID()
	withHeader := func(h map[string]any) string { return good(cognitotest.WithHeader(h)) }
	withClaims := func(c map[string]any) string { return good(cognitotest.WithClaims(c)) }
	// signed payload given as raw JSON text (for values json.Marshal cannot make)
	rawSigned := func(t *testing.T, payloadJSON string) string {
		return resign(t, gh, b64(payloadJSON), key)
	}
	bearer := func(tok string) []string { return []string{"Bearer " + tok} }

	type tc struct {
		name   string
		cfg    cognitoguard.Config
		setup  func(t *testing.T, s *stack) // e.g. record a sign-out
		authz  func(t *testing.T) []string
		status int
		code   string // error="…" in WWW-Authenticate; "" for none
		want   error  // sentinel; nil for success
	}
	invalid := func(name string, authz func(t *testing.T) []string, want error) tc {
		return tc{name: name, authz: authz, status: 401, code: "invalid_token", want: want}
	}
	cases := []tc{
		{name: "control: valid token", authz: func(*testing.T) []string { return bearer(goodTok) }, status: 200},
		{name: "lower-case bearer", authz: func(*testing.T) []string { return []string{"bearer " + goodTok} }, status: 200},
		{name: "upper-case BEARER and extra spaces", authz: func(*testing.T) []string { return []string{"BEARER    " + goodTok + "  "} }, status: 200},
		{name: "tab after scheme", authz: func(*testing.T) []string { return []string{"Bearer\t" + goodTok} }, status: 200},
		{name: "Basic scheme", authz: func(*testing.T) []string { return []string{"Basic YWxpY2U6cHc="} }, status: 401, want: cognitoguard.ErrNoToken},
		{name: "no Authorization header", authz: func(*testing.T) []string { return nil }, status: 401, want: cognitoguard.ErrNoToken},
		{name: "bearer without token", authz: func(*testing.T) []string { return []string{"Bearer "} }, status: 401, want: cognitoguard.ErrNoToken},
		{name: "two Authorization headers", authz: func(*testing.T) []string { return []string{"Bearer " + goodTok, "Bearer " + goodTok} }, status: 401, code: "invalid_request", want: cognitoguard.ErrInvalidRequest},
		invalid("alg none", func(*testing.T) []string { return bearer(withHeader(map[string]any{"alg": "none"})) }, cognitoguard.ErrMalformed),
		invalid("alg None", func(*testing.T) []string { return bearer(withHeader(map[string]any{"alg": "None"})) }, cognitoguard.ErrMalformed),
		invalid("alg missing", func(*testing.T) []string { return bearer(withHeader(map[string]any{"alg": nil})) }, cognitoguard.ErrMalformed),
		invalid("alg none, empty signature", func(t *testing.T) []string {
			return bearer(jsonB64(t, map[string]any{"alg": "none", "kid": kid}) + "." + gp + ".")
		}, cognitoguard.ErrMalformed),
		invalid("HS256 keyed with the RSA public key PEM", func(t *testing.T) []string {
			return bearer(hs256(pubPEM, jsonB64(t, map[string]any{"alg": "HS256", "kid": kid}), gp))
		}, cognitoguard.ErrMalformed),
		invalid("HS256 keyed with the raw modulus", func(t *testing.T) []string {
			return bearer(hs256(pub.N.Bytes(), jsonB64(t, map[string]any{"alg": "HS256", "kid": kid}), gp))
		}, cognitoguard.ErrMalformed),
		invalid("RS512 header", func(*testing.T) []string { return bearer(withHeader(map[string]any{"alg": "RS512"})) }, cognitoguard.ErrMalformed),
		invalid("PS256 header", func(*testing.T) []string { return bearer(withHeader(map[string]any{"alg": "PS256"})) }, cognitoguard.ErrMalformed),
		invalid("ES256 header", func(*testing.T) []string { return bearer(withHeader(map[string]any{"alg": "ES256"})) }, cognitoguard.ErrMalformed),
		invalid("alg rs256 lower case", func(*testing.T) []string { return bearer(withHeader(map[string]any{"alg": "rs256"})) }, cognitoguard.ErrMalformed),
		invalid("kid missing", func(*testing.T) []string { return bearer(withHeader(map[string]any{"kid": nil})) }, cognitoguard.ErrMalformed),
		invalid("kid empty", func(*testing.T) []string { return bearer(withHeader(map[string]any{"kid": ""})) }, cognitoguard.ErrMalformed),
		invalid("kid not a string", func(*testing.T) []string { return bearer(withHeader(map[string]any{"kid": 7})) }, cognitoguard.ErrMalformed),
		invalid("kid unknown", func(*testing.T) []string { return bearer(withHeader(map[string]any{"kid": "unknown-kid"})) }, cognitoguard.ErrUnknownKey),
		invalid("kid path-like", func(*testing.T) []string { return bearer(withHeader(map[string]any{"kid": "../../../etc/passwd"})) }, cognitoguard.ErrUnknownKey),
		invalid("jku header pointing elsewhere is refused", func(*testing.T) []string {
			return bearer(good(cognitotest.WithSigningKey(other), cognitotest.WithHeader(map[string]any{"jku": "http://127.0.0.1:1/jwks.json"})))
		}, cognitoguard.ErrMalformed),
		invalid("crit header", func(*testing.T) []string {
			return bearer(withHeader(map[string]any{"crit": []string{"b64"}, "b64": false}))
		}, cognitoguard.ErrMalformed),
		invalid("2 segments", func(*testing.T) []string { return bearer(gh + "." + gp) }, cognitoguard.ErrMalformed),
		invalid("4 segments", func(*testing.T) []string { return bearer(goodTok + "." + gs) }, cognitoguard.ErrMalformed),
		invalid("5 segments (JWE-shaped refresh token)", func(t *testing.T) []string {
			return bearer(jsonB64(t, map[string]any{"alg": "RSA-OAEP", "enc": "A256GCM", "cty": "JWT"}) + "." + gs + "." + b64("iv-iv-iv-iv!") + "." + gp + "." + b64("tag-tag-tag-tag!"))
		}, cognitoguard.ErrMalformed),
		invalid("empty header segment", func(*testing.T) []string { return bearer("." + gp + "." + gs) }, cognitoguard.ErrMalformed),
		invalid("empty payload segment", func(*testing.T) []string { return bearer(gh + ".." + gs) }, cognitoguard.ErrMalformed),
		invalid("empty signature segment", func(*testing.T) []string { return bearer(gh + "." + gp + ".") }, cognitoguard.ErrMalformed),
		invalid("only dots", func(*testing.T) []string { return bearer("..") }, cognitoguard.ErrMalformed),
		invalid("base64 padding", func(*testing.T) []string { return bearer(gh + "==." + gp + "." + gs) }, cognitoguard.ErrMalformed),
		invalid("standard alphabet + and /", func(*testing.T) []string {
			return bearer(strings.NewReplacer("-", "+", "_", "/").Replace(gh+"."+gp+"."+gs) + "+/")
		}, cognitoguard.ErrMalformed),
		invalid("whitespace inside the token", func(*testing.T) []string { return bearer(gh + "." + gp[:20] + " " + gp[20:] + "." + gs) }, cognitoguard.ErrMalformed),
		invalid("header not a JSON object", func(t *testing.T) []string { return bearer(resign(t, b64(`"RS256"`), gp, key)) }, cognitoguard.ErrMalformed),
		invalid("header not JSON", func(t *testing.T) []string { return bearer(resign(t, b64(`{alg:RS256}`), gp, key)) }, cognitoguard.ErrMalformed),
		invalid("payload not a JSON object", func(t *testing.T) []string { return bearer(rawSigned(t, `[1,2,3]`)) }, cognitoguard.ErrMalformed),
		invalid("payload with trailing garbage", func(t *testing.T) []string { return bearer(rawSigned(t, string(rawPayload)+"x")) }, cognitoguard.ErrMalformed),
		invalid("duplicate alg in header", func(t *testing.T) []string {
			return bearer(resign(t, b64(`{"alg":"none",`+string(rawHeader[1:])), gp, key))
		}, cognitoguard.ErrMalformed),
		invalid("duplicate sub in payload", func(t *testing.T) []string {
			return bearer(rawSigned(t, `{"sub":"admin-user",`+string(rawPayload[1:])))
		}, cognitoguard.ErrMalformed),
		invalid("duplicate sub spelled with an escape", func(t *testing.T) []string {
			return bearer(rawSigned(t, `{"s\u0075b":"admin-user",`+string(rawPayload[1:])))
		}, cognitoguard.ErrMalformed),
		invalid("oversized token (17 KiB)", func(*testing.T) []string { return bearer(goodTok + strings.Repeat("A", 17<<10)) }, cognitoguard.ErrMalformed),
		invalid("oversized single claim", func(*testing.T) []string {
			return bearer(withClaims(map[string]any{"custom:blob": strings.Repeat("x", 16<<10)}))
		}, cognitoguard.ErrMalformed),
		invalid("tampered payload (other user, original signature)", func(*testing.T) []string {
			_, bp, _ := segments(p.AccessToken("bob", cognitotest.WithClient("client-a")))
			return bearer(gh + "." + bp + "." + gs)
		}, cognitoguard.ErrSignature),
		invalid("tampered payload (one bit)", func(t *testing.T) []string {
			b := []byte(rawPayload)
			b[len(b)-3] ^= 1
			return bearer(gh + "." + b64(string(b)) + "." + gs)
		}, cognitoguard.ErrSignature),
		invalid("signature by another key with a known kid", func(*testing.T) []string { return bearer(good(cognitotest.WithSigningKey(other))) }, cognitoguard.ErrSignature),
		invalid("ID key's kid on an access token signed by the access key", func(*testing.T) []string {
			return bearer(withHeader(map[string]any{"kid": p.IDKeyID()}))
		}, cognitoguard.ErrSignature),
		invalid("wrong iss", func(*testing.T) []string {
			return bearer(withClaims(map[string]any{"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil"}))
		}, cognitoguard.ErrIssuer),
		invalid("iss with a trailing slash", func(*testing.T) []string { return bearer(withClaims(map[string]any{"iss": p.Issuer() + "/"})) }, cognitoguard.ErrIssuer),
		invalid("iss of another pool signed with the same key", func(*testing.T) []string {
			return bearer(withClaims(map[string]any{"iss": strings.TrimSuffix(p.Issuer(), p.PoolID()) + "us-east-1_otherpool"}))
		}, cognitoguard.ErrIssuer),
		invalid("iss missing", func(*testing.T) []string { return bearer(withClaims(map[string]any{"iss": nil})) }, cognitoguard.ErrIssuer),
		invalid("token_use swapped (ID token)", func(*testing.T) []string { return bearer(p.IDToken("alice", cognitotest.WithClient("client-a"))) }, cognitoguard.ErrTokenUse),
		invalid("token_use refresh", func(*testing.T) []string { return bearer(withClaims(map[string]any{"token_use": "refresh"})) }, cognitoguard.ErrTokenUse),
		invalid("token_use missing", func(*testing.T) []string { return bearer(withClaims(map[string]any{"token_use": nil})) }, cognitoguard.ErrTokenUse),
		invalid("access token without client_id", func(*testing.T) []string { return bearer(withClaims(map[string]any{"client_id": nil})) }, cognitoguard.ErrClient),
		invalid("access token of another app client", func(*testing.T) []string {
			return bearer(p.AccessToken("alice", cognitotest.WithClient("client-b")))
		}, cognitoguard.ErrClient),
		{name: "ID token whose aud is another client", cfg: cognitoguard.Config{TokenUse: cognitoguard.TokenUseID},
			authz:  func(*testing.T) []string { return bearer(p.IDToken("alice", cognitotest.WithClient("client-b"))) },
			status: 401, code: "invalid_token", want: cognitoguard.ErrClient},
		{name: "ID token whose aud is an array", cfg: cognitoguard.Config{TokenUse: cognitoguard.TokenUseID},
			authz: func(*testing.T) []string {
				return bearer(p.IDToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithClaims(map[string]any{"aud": []string{"client-a", "client-b"}})))
			},
			status: 401, code: "invalid_token", want: cognitoguard.ErrMalformed},
		invalid("exp missing", func(*testing.T) []string { return bearer(withClaims(map[string]any{"exp": nil})) }, cognitoguard.ErrExpired),
		invalid("exp as a string", func(*testing.T) []string { return bearer(withClaims(map[string]any{"exp": "4102444800"})) }, cognitoguard.ErrMalformed),
		invalid("exp as a float far in the future", func(*testing.T) []string { return bearer(withClaims(map[string]any{"exp": 1e19})) }, cognitoguard.ErrMalformed),
		invalid("exp NaN (not JSON)", func(t *testing.T) []string {
			return bearer(rawSigned(t, strings.Replace(string(rawPayload), `"exp":`, `"exp":NaN,"x":`, 1)))
		}, cognitoguard.ErrMalformed),
		invalid("exp negative", func(*testing.T) []string { return bearer(withClaims(map[string]any{"exp": -1})) }, cognitoguard.ErrMalformed),
		invalid("exp null", func(*testing.T) []string { return bearer(withClaims(map[string]any{"exp": json.RawMessage("null")})) }, cognitoguard.ErrMalformed),
		invalid("nbf in the future", func(*testing.T) []string { return bearer(withClaims(map[string]any{"nbf": now.Add(time.Hour).Unix()})) }, cognitoguard.ErrNotYetValid),
		invalid("iat in the future", func(*testing.T) []string { return bearer(good(cognitotest.WithIssuedAt(now.Add(time.Hour)))) }, cognitoguard.ErrNotYetValid),
		invalid("expired by one second, leeway 0", func(*testing.T) []string { return bearer(good(cognitotest.WithExpiry(now.Add(-time.Second)))) }, cognitoguard.ErrExpired),
		{name: "expired by one second, leeway 2s", cfg: cognitoguard.Config{Leeway: 2 * time.Second},
			authz: func(*testing.T) []string { return bearer(good(cognitotest.WithExpiry(now.Add(-time.Second)))) }, status: 200},
		invalid("sub missing", func(*testing.T) []string { return bearer(withClaims(map[string]any{"sub": nil})) }, cognitoguard.ErrMalformed),
		{name: "revoked user",
			setup: func(t *testing.T, s *stack) {
				if err := s.store.RevokeUser(t.Context(), p.PoolID(), alice.Sub, now); err != nil {
					t.Fatal(err)
				}
			},
			authz: func(*testing.T) []string { return bearer(good(cognitotest.WithAuthTime(now.Add(-time.Minute)))) }, status: 401, code: "invalid_token", want: cognitoguard.ErrRevoked},
		{name: "revoked origin_jti",
			setup: func(t *testing.T, s *stack) {
				if err := s.store.RevokeSession(t.Context(), p.PoolID(), alice.Sub, "session-1", now); err != nil {
					t.Fatal(err)
				}
			},
			authz: func(*testing.T) []string { return bearer(withClaims(map[string]any{"origin_jti": "session-1"})) }, status: 401, code: "invalid_token", want: cognitoguard.ErrRevoked},
		{name: "other session of a user with a revoked session passes",
			setup: func(t *testing.T, s *stack) {
				if err := s.store.RevokeSession(t.Context(), p.PoolID(), alice.Sub, "session-1", now); err != nil {
					t.Fatal(err)
				}
			},
			authz: func(*testing.T) []string { return bearer(withClaims(map[string]any{"origin_jti": "session-2"})) }, status: 200},
		{name: "token refreshed after the sign-out from an earlier session",
			setup: func(t *testing.T, s *stack) {
				if err := s.store.RevokeUser(t.Context(), p.PoolID(), alice.Sub, now.Add(-30*time.Minute)); err != nil {
					t.Fatal(err)
				}
			},
			authz: func(*testing.T) []string {
				// auth_time before the sign-out, iat after it: a refresh.
				return bearer(good(cognitotest.WithAuthTime(now.Add(-time.Hour)), cognitotest.WithIssuedAt(now.Add(-time.Minute))))
			}, status: 401, code: "invalid_token", want: cognitoguard.ErrRevoked},
		{name: "sign-in after the sign-out passes",
			setup: func(t *testing.T, s *stack) {
				if err := s.store.RevokeUser(t.Context(), p.PoolID(), alice.Sub, now.Add(-30*time.Minute)); err != nil {
					t.Fatal(err)
				}
			},
			authz:  func(*testing.T) []string { return bearer(good(cognitotest.WithAuthTime(now.Add(-time.Minute)))) },
			status: 200},
	}

	accepted := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t, f, c.cfg)
			if c.setup != nil {
				c.setup(t, s)
			}
			authz := c.authz(t)
			w, err := s.do(t, authz...)
			if w.Code >= 500 {
				t.Fatalf("status %d for a client's input (err %v)", w.Code, err)
			}
			if w.Code != c.status {
				t.Fatalf("status = %d, want %d (err %v)", w.Code, c.status, err)
			}
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			accepted += btoi(w.Code == 200)
			if !errors.Is(err, c.want) {
				t.Fatalf("error = %v, want %v", err, c.want)
			}
			wa := w.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(wa, `Bearer realm="api"`) {
				t.Fatalf("WWW-Authenticate = %q", wa)
			}
			if c.code != "" && !strings.Contains(wa, `error="`+c.code+`"`) {
				t.Fatalf("WWW-Authenticate = %q, want error=%q", wa, c.code)
			}
			if c.code == "" && strings.Contains(wa, "error=") {
				t.Fatalf("WWW-Authenticate = %q, want no error code", wa)
			}
			if errors.Is(c.want, cognitoguard.ErrRevoked) && !strings.Contains(wa, `error_description="Access Token has been revoked"`) {
				t.Fatalf("WWW-Authenticate = %q, want the revoked description", wa)
			}
			for _, a := range authz {
				assertNoLeak(t, a, w.Body.String()+fmtHeader(w.Header())+s.logs.String())
			}
		})
	}
	if accepted != 0 {
		t.Fatalf("%d hostile requests accepted", accepted)
	}
	if len(cases) < 30 {
		t.Fatalf("corpus has %d cases, want at least 30", len(cases))
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fmtHeader(h http.Header) string {
	var b strings.Builder
	h.Write(&b)
	return b.String()
}

// assertNoLeak fails if out contains the token of an Authorization value,
// or any of its segments long enough to identify it (the signature above
// all).
func assertNoLeak(t *testing.T, authz, out string) {
	t.Helper()
	tok := authz
	if i := strings.IndexAny(authz, " \t"); i >= 0 {
		tok = strings.TrimSpace(authz[i:])
	}
	if len(tok) >= 16 && strings.Contains(out, tok) {
		t.Fatal("the token appears in the response or the logs")
	}
	for _, seg := range strings.Split(tok, ".") {
		if len(seg) >= 24 && strings.Contains(out, seg) {
			t.Fatalf("a token segment (%d bytes) appears in the response or the logs", len(seg))
		}
	}
}

// TestSignOutEndToEnd signs a user out through the real AWS SDK client and
// the sign-out helper and shows two instances sharing the store reject the
// old tokens while a verifier without the store (what Cognito alone gives
// every API) still accepts them.
func TestSignOutEndToEnd(t *testing.T) {
	f := newFixture(t)
	p := f.pool
	store := revocation.NewMemory(revocation.MemoryConfig{Now: f.clock.Now})
	a := f.verifier(t, cognitoguard.Config{Revocation: store, TokenUse: cognitoguard.TokenUseAny})
	b := f.verifier(t, cognitoguard.Config{Revocation: store, TokenUse: cognitoguard.TokenUseAny})
	plain := f.verifier(t, cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny})
	api := newSDK(t, p)
	so, err := signout.New(api, a, store, signout.Config{UserPoolID: p.PoolID(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := signIn(t, api, p, "alice", "pw-alice-1", "client-a")
	for _, v := range []*cognitoguard.Verifier{a, b, plain} {
		for _, raw := range []string{tok.access, tok.id} {
			if _, err := v.Verify(t.Context(), raw); err != nil {
				t.Fatalf("before sign-out: %v", err)
			}
		}
	}
	f.clock.Advance(time.Second)
	if err := so.GlobalSignOut(t.Context(), tok.access); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*cognitoguard.Verifier{a, b} {
		for _, raw := range []string{tok.access, tok.id} {
			if _, err := v.Verify(t.Context(), raw); !errors.Is(err, cognitoguard.ErrRevoked) {
				t.Fatalf("after sign-out: %v, want ErrRevoked", err)
			}
		}
	}
	if _, err := plain.Verify(t.Context(), tok.access); err != nil {
		t.Fatalf("a plain JWT check should still accept the token (the hole): %v", err)
	}
	if _, err := refresh(t, api, tok.refresh, "client-a"); err == nil {
		t.Fatal("refresh after sign-out succeeded")
	}
	// Retrying is safe: the record is kept and Cognito's "already revoked"
	// is success.
	if err := so.GlobalSignOut(t.Context(), tok.access); err != nil {
		t.Fatalf("retry: %v", err)
	}
	// A later sign-in passes everywhere.
	f.clock.Advance(2 * time.Second)
	tok2 := signIn(t, api, p, "alice", "pw-alice-1", "client-a")
	for _, v := range []*cognitoguard.Verifier{a, b} {
		if _, err := v.Verify(t.Context(), tok2.access); err != nil {
			t.Fatalf("new sign-in: %v", err)
		}
	}
	// An admin signs bob out by username; his tokens fail everywhere.
	tokBob := signIn(t, api, p, "bob", "pw-bob-1", "client-a")
	f.clock.Advance(time.Second)
	if _, err := so.AdminSignOut(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*cognitoguard.Verifier{a, b} {
		if _, err := v.Verify(t.Context(), tokBob.access); !errors.Is(err, cognitoguard.ErrRevoked) {
			t.Fatalf("bob after admin sign-out: %v", err)
		}
	}
	// A forged token never signs anyone out and never reaches Cognito.
	calls := p.Calls("GlobalSignOut")
	forged := p.AccessToken("alice", cognitotest.WithClient("client-a"), cognitotest.WithSigningKey(foreignKey(t)))
	if err := so.GlobalSignOut(t.Context(), forged); !errors.Is(err, cognitoguard.ErrSignature) {
		t.Fatalf("forged sign-out: %v", err)
	}
	if p.Calls("GlobalSignOut") != calls {
		t.Fatal("a forged token reached Cognito")
	}
	if _, err := a.Verify(t.Context(), tok2.access); err != nil {
		t.Fatalf("forged sign-out revoked alice: %v", err)
	}
}

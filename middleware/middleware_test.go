package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard"
)

// A token shaped like a Cognito one; tests check it never leaks.
const (
	testToken = "eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJ1c2VyLTEiLCJ0b2tlbl91c2UiOiJhY2Nlc3MifQ.c2lnbmF0dXJlLW9mLXRoZS10ZXN0LXRva2VuLXh5eg"
	testSig   = "c2lnbmF0dXJlLW9mLXRoZS10ZXN0LXRva2VuLXh5eg"
)

// fakeVerifier returns err, or claims. It records the last token.
type fakeVerifier struct {
	claims *cognitoguard.Claims
	err    error
	calls  atomic.Int64
	last   atomic.Pointer[string]
}

func (f *fakeVerifier) Verify(ctx context.Context, token string) (*cognitoguard.Claims, error) {
	f.calls.Add(1)
	f.last.Store(&token)
	if f.err != nil {
		return nil, f.err
	}
	return f.claims, nil
}

func (f *fakeVerifier) lastToken() string {
	if p := f.last.Load(); p != nil {
		return *p
	}
	return ""
}

func cgErr(kind error, reason string) error { return &cognitoguard.Error{Kind: kind, Reason: reason} }

// okHandler answers 200 with the subject of the claims in the context.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := cognitoguard.FromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusTeapot)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("hello " + c.Subject))
})

func request(headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/resource", nil)
	for _, h := range headers {
		r.Header.Add("Authorization", h)
	}
	return r
}

const (
	chNoToken        = `Bearer realm="api"`
	chInvalidRequest = `Bearer realm="api", error="invalid_request", error_description="The request must carry exactly one bearer token"`
)

func chInvalid(desc string) string {
	return `Bearer realm="api", error="invalid_token", error_description="` + desc + `"`
}

// response is what every rejection is checked against.
type response struct {
	status     int
	challenge  string // exact WWW-Authenticate; "" means absent
	retryAfter string // exact Retry-After; "" means absent
	bodyError  string // "error" member of the JSON body
}

func checkResponse(t *testing.T, rec *httptest.ResponseRecorder, want response) {
	t.Helper()
	res := rec.Result()
	if res.StatusCode != want.status {
		t.Errorf("status = %d, want %d", res.StatusCode, want.status)
	}
	if got := res.Header.Values("WWW-Authenticate"); want.challenge == "" && len(got) != 0 {
		t.Errorf("WWW-Authenticate = %q, want none", got)
	} else if want.challenge != "" && (len(got) != 1 || got[0] != want.challenge) {
		t.Errorf("WWW-Authenticate = %q\nwant              %q", got, want.challenge)
	}
	if got := res.Header.Get("Retry-After"); got != want.retryAfter {
		t.Errorf("Retry-After = %q, want %q", got, want.retryAfter)
	}
	if want.status == http.StatusOK {
		return
	}
	if got := res.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	body := rec.Body.String()
	if !strings.HasPrefix(body, `{"error":"`+want.bodyError+`","error_description":"`) {
		t.Errorf("body = %q, want error %q", body, want.bodyError)
	}
	assertNoLeak(t, "body", body)
	for k, vs := range res.Header {
		for _, v := range vs {
			assertNoLeak(t, "header "+k, v)
		}
	}
}

func assertNoLeak(t *testing.T, where, s string) {
	t.Helper()
	if strings.Contains(s, testSig) {
		t.Errorf("%s contains the token's signature: %q", where, s)
	}
	if strings.Contains(s, "cognitoguard:") || strings.Contains(s, "reason-") {
		t.Errorf("%s contains internal error text: %q", where, s)
	}
}

// TestContract has one row per row of the verification contract of
// DESIGN.md, as the middleware answers it.
func TestContract(t *testing.T) {
	claims := &cognitoguard.Claims{Subject: "user-1", Scopes: []string{"read"}}
	bearer := "Bearer " + testToken
	unavailable := response{http.StatusServiceUnavailable, "", "1", "temporarily_unavailable"}
	tests := []struct {
		name    string
		req     *http.Request
		err     error // returned by the Verifier
		want    response
		verify  bool // whether the Verifier must be called
		errKind error
	}{
		{"no Authorization header", request(), nil,
			response{401, chNoToken, "", "unauthorized"}, false, cognitoguard.ErrNoToken},
		{"Basic scheme", request("Basic dXNlcjpwYXNz"), nil,
			response{401, chNoToken, "", "unauthorized"}, false, cognitoguard.ErrNoToken},
		{"empty bearer", request("Bearer "), nil,
			response{401, chNoToken, "", "unauthorized"}, false, cognitoguard.ErrNoToken},
		{"two Authorization headers", request(bearer, bearer), nil,
			response{401, chInvalidRequest, "", "invalid_request"}, false, cognitoguard.ErrInvalidRequest},
		{"not b64token", request("Bearer " + testToken + "$"), nil,
			response{401, chInvalid("The access token is malformed"), "", "invalid_token"}, false, cognitoguard.ErrMalformed},
		{"larger than 16 KiB", request("Bearer " + testToken + strings.Repeat("A", 16<<10)), nil,
			response{401, chInvalid("The access token is malformed"), "", "invalid_token"}, false, cognitoguard.ErrMalformed},
		{"malformed", request(bearer), cgErr(cognitoguard.ErrMalformed, "reason-3 segments"),
			response{401, chInvalid("The access token is malformed"), "", "invalid_token"}, true, cognitoguard.ErrMalformed},
		{"unknown kid", request(bearer), cgErr(cognitoguard.ErrUnknownKey, "reason-kid"),
			response{401, chInvalid("The access token is signed with an unknown key"), "", "invalid_token"}, true, cognitoguard.ErrUnknownKey},
		{"bad signature", request(bearer), cgErr(cognitoguard.ErrSignature, "reason-sig"),
			response{401, chInvalid("The access token signature is invalid"), "", "invalid_token"}, true, cognitoguard.ErrSignature},
		{"wrong issuer", request(bearer), cgErr(cognitoguard.ErrIssuer, "reason-iss"),
			response{401, chInvalid("The access token issuer is not accepted"), "", "invalid_token"}, true, cognitoguard.ErrIssuer},
		{"wrong token_use", request(bearer), cgErr(cognitoguard.ErrTokenUse, "reason-use"),
			response{401, chInvalid("The token type is not accepted"), "", "invalid_token"}, true, cognitoguard.ErrTokenUse},
		{"wrong client", request(bearer), cgErr(cognitoguard.ErrClient, "reason-client"),
			response{401, chInvalid("The access token was issued to another client"), "", "invalid_token"}, true, cognitoguard.ErrClient},
		{"expired", request(bearer), cgErr(cognitoguard.ErrExpired, "reason-exp"),
			response{401, chInvalid("The access token expired"), "", "invalid_token"}, true, cognitoguard.ErrExpired},
		{"not yet valid", request(bearer), cgErr(cognitoguard.ErrNotYetValid, "reason-nbf"),
			response{401, chInvalid("The access token is not yet valid"), "", "invalid_token"}, true, cognitoguard.ErrNotYetValid},
		{"revoked", request(bearer), cgErr(cognitoguard.ErrRevoked, "reason-signed out"),
			response{401, chInvalid("Access Token has been revoked"), "", "invalid_token"}, true, cognitoguard.ErrRevoked},
		{"invalid, no specific kind", request(bearer), cognitoguard.ErrInvalidToken,
			response{401, chInvalid("The access token is invalid"), "", "invalid_token"}, true, cognitoguard.ErrInvalidToken},
		{"bare specific sentinel", request(bearer), fmt.Errorf("reason-wrapped: %w", cognitoguard.ErrExpired),
			response{401, chInvalid("The access token expired"), "", "invalid_token"}, true, cognitoguard.ErrExpired},
		{"insufficient scope (Verifier)", request(bearer), cgErr(cognitoguard.ErrInsufficientScope, "reason-missing scope"),
			response{403, `Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant access to this resource"`, "", "insufficient_scope"},
			true, cognitoguard.ErrInsufficientScope},
		{"keys unavailable", request(bearer), cgErr(cognitoguard.ErrUnavailable, "reason-keys"),
			unavailable, true, cognitoguard.ErrUnavailable},
		{"unknown error", request(bearer), errors.New("reason-boom"),
			unavailable, true, nil},
		{"context canceled", request(bearer), context.Canceled,
			unavailable, true, context.Canceled},
		{"no token from Verifier", request(bearer), cgErr(cognitoguard.ErrNoToken, "reason-empty"),
			response{401, chNoToken, "", "unauthorized"}, true, cognitoguard.ErrNoToken},
		{"accepted", request(bearer), nil,
			response{200, "", "", ""}, true, nil},
		{"accepted, lower-case scheme", request("bearer \t " + testToken + " "), nil,
			response{200, "", "", ""}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := &fakeVerifier{claims: claims, err: tt.err}
			var handled error
			for _, custom := range []bool{false, true} {
				cfg := Config{}
				if custom {
					// A custom handler that defers to WriteError sees
					// the error, matching its sentinel.
					cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
						handled = err
						WriteError(w, r, err, "")
					}
				}
				rec := httptest.NewRecorder()
				New(fv, cfg)(okHandler).ServeHTTP(rec, tt.req)
				checkResponse(t, rec, tt.want)
			}
			if got := fv.calls.Load() > 0; got != tt.verify {
				t.Errorf("Verifier called = %v, want %v", got, tt.verify)
			}
			if tt.verify && fv.lastToken() != testToken {
				t.Errorf("Verifier got token %q", fv.lastToken())
			}
			if tt.want.status == http.StatusOK {
				if handled != nil {
					t.Errorf("ErrorHandler called with %v", handled)
				}
				return
			}
			if handled == nil {
				t.Fatal("ErrorHandler not called")
			}
			if tt.errKind != nil && !errors.Is(handled, tt.errKind) {
				t.Errorf("ErrorHandler err = %v, want errors.Is %v", handled, tt.errKind)
			}
		})
	}
}

func TestSuccessStoresClaims(t *testing.T) {
	want := &cognitoguard.Claims{Subject: "user-1"}
	fv := &fakeVerifier{claims: want}
	var got *cognitoguard.Claims
	h := New(fv, Config{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = cognitoguard.FromContext(r.Context())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request("Bearer "+testToken))
	if got != want {
		t.Fatalf("claims in context = %v, want %v", got, want)
	}
}

func TestVerifierNilClaimsFailsClosed(t *testing.T) {
	fv := &fakeVerifier{} // nil claims, nil error
	rec := httptest.NewRecorder()
	New(fv, Config{})(okHandler).ServeHTTP(rec, request("Bearer "+testToken))
	checkResponse(t, rec, response{503, "", "1", "temporarily_unavailable"})
}

func TestVerifyGetsRequestContext(t *testing.T) {
	type key struct{}
	var got any
	v := verifierFunc(func(ctx context.Context, _ string) (*cognitoguard.Claims, error) {
		got = ctx.Value(key{})
		return &cognitoguard.Claims{}, nil
	})
	r := request("Bearer " + testToken)
	r = r.WithContext(context.WithValue(r.Context(), key{}, "v"))
	New(v, Config{})(okHandler).ServeHTTP(httptest.NewRecorder(), r)
	if got != "v" {
		t.Fatalf("Verify's context lacks the request's values")
	}
}

type verifierFunc func(ctx context.Context, token string) (*cognitoguard.Claims, error)

func (f verifierFunc) Verify(ctx context.Context, token string) (*cognitoguard.Claims, error) {
	return f(ctx, token)
}

func TestConfigRealmAndRetryAfter(t *testing.T) {
	tests := []struct {
		realm      string
		retryAfter time.Duration
		challenge  string
		wantRetry  string
	}{
		{"", 0, `Bearer realm="api"`, "1"},
		{"orders", 3 * time.Second, `Bearer realm="orders"`, "3"},
		{`my "quoted" \ realm`, 1500 * time.Millisecond, `Bearer realm="my \"quoted\" \\ realm"`, "2"},
		{"split\r\nSet-Cookie: x=1", 100 * time.Millisecond, `Bearer realm="split  Set-Cookie: x=1"`, "1"},
		{"neg", -time.Second, `Bearer realm="neg"`, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.realm, func(t *testing.T) {
			cfg := Config{Realm: tt.realm, RetryAfter: tt.retryAfter}
			rec := httptest.NewRecorder()
			New(&fakeVerifier{}, cfg)(okHandler).ServeHTTP(rec, request())
			checkResponse(t, rec, response{401, tt.challenge, "", "unauthorized"})

			rec = httptest.NewRecorder()
			New(&fakeVerifier{err: cognitoguard.ErrUnavailable}, cfg)(okHandler).ServeHTTP(rec, request("Bearer x"))
			checkResponse(t, rec, response{503, "", tt.wantRetry, "temporarily_unavailable"})
		})
	}
}

func TestNewPanics(t *testing.T) {
	mustPanic(t, "nil verifier", func() { New(nil, Config{}) })
	mustPanic(t, "negative MaxTokenSize", func() { New(&fakeVerifier{}, Config{MaxTokenSize: -1}) })
	mustPanic(t, "nil next", func() { New(&fakeVerifier{}, Config{})(nil) })
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

func TestMaxTokenSize(t *testing.T) {
	fv := &fakeVerifier{claims: &cognitoguard.Claims{}}
	h := New(fv, Config{MaxTokenSize: 10})(okHandler)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request("Bearer 0123456789"))
	checkResponse(t, rec, response{200, "", "", ""})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, request("Bearer 0123456789a"))
	checkResponse(t, rec, response{401, chInvalid("The access token is malformed"), "", "invalid_token"})
}

func TestWriteError(t *testing.T) {
	t.Run("keeps Retry-After", func(t *testing.T) {
		rec := httptest.NewRecorder()
		rec.Header().Set("Retry-After", "30")
		WriteError(rec, request(), cognitoguard.ErrUnavailable, "")
		checkResponse(t, rec, response{503, "", "30", "temporarily_unavailable"})
	})
	t.Run("nil error fails closed", func(t *testing.T) {
		rec := httptest.NewRecorder()
		WriteError(rec, request(), nil, "x")
		checkResponse(t, rec, response{503, "", "1", "temporarily_unavailable"})
	})
	t.Run("scope parameter escaped", func(t *testing.T) {
		rec := httptest.NewRecorder()
		err := &cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope, Err: &ScopeError{Scopes: []string{"a", `b"c`}}}
		WriteError(rec, request(), err, "r")
		checkResponse(t, rec, response{403,
			`Bearer realm="r", error="insufficient_scope", error_description="The access token lacks a required scope", scope="a b\"c"`,
			"", "insufficient_scope"})
	})
	t.Run("body", func(t *testing.T) {
		rec := httptest.NewRecorder()
		WriteError(rec, request(), cognitoguard.ErrRevoked, "")
		want := `{"error":"invalid_token","error_description":"Access Token has been revoked"}` + "\n"
		if got := rec.Body.String(); got != want {
			t.Errorf("body = %q, want %q", got, want)
		}
		if got := rec.Header().Get("Content-Length"); got != fmt.Sprint(len(want)) {
			t.Errorf("Content-Length = %q", got)
		}
	})
}

func TestSuccessAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	claims := &cognitoguard.Claims{Subject: "user-1", Scopes: []string{"read"}}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	// A Verifier that allocates nothing, so that only the middleware's
	// allocations are counted.
	v := verifierFunc(func(context.Context, string) (*cognitoguard.Claims, error) { return claims, nil })
	tests := []struct {
		name string
		h    http.Handler
		max  float64
	}{
		// The context value of the claims and the request copy.
		{"default", New(v, Config{})(next), 2},
		// Plus the settings for the Require functions.
		{"custom realm", New(v, Config{Realm: "x"})(next), 3},
		{"with RequireScopes", New(v, Config{})(RequireScopes("read")(next)), 2},
		{"cookie configured, header used", New(v, Config{Cookie: "tok"})(next), 2},
	}
	r := request("Bearer " + testToken)
	w := httptest.NewRecorder()
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, func() { tt.h.ServeHTTP(w, r) }); n > tt.max {
			t.Errorf("%s: %v allocations per request, want ≤ %v", tt.name, n, tt.max)
		}
	}
}

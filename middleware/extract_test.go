package middleware

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/cognitoguard/cognitoguard"
)

func TestBearerToken(t *testing.T) {
	max := strings.Repeat("A", cognitoguard.DefaultMaxTokenSize)
	tests := []struct {
		name    string
		headers []string // Authorization values; nil: no header
		want    string
		err     error // sentinel the error must match; nil: success
	}{
		{"canonical", []string{"Bearer " + testToken}, testToken, nil},
		{"lower-case scheme", []string{"bearer " + testToken}, testToken, nil},
		{"upper-case scheme", []string{"BEARER " + testToken}, testToken, nil},
		{"mixed-case scheme", []string{"bEaReR " + testToken}, testToken, nil},
		{"several spaces", []string{"Bearer    " + testToken}, testToken, nil},
		{"tab", []string{"Bearer\t" + testToken}, testToken, nil},
		{"spaces and tabs around", []string{" \tBearer \t " + testToken + " \t"}, testToken, nil},
		{"padding", []string{"Bearer abc=="}, "abc==", nil},
		{"all b64token characters", []string{"Bearer AZaz09-._~+/="}, "AZaz09-._~+/=", nil},
		{"exactly 16 KiB", []string{"Bearer " + max}, max, nil},

		{"no header", nil, "", cognitoguard.ErrNoToken},
		{"empty header", []string{""}, "", cognitoguard.ErrNoToken},
		{"blank header", []string{" \t "}, "", cognitoguard.ErrNoToken},
		{"scheme only", []string{"Bearer"}, "", cognitoguard.ErrNoToken},
		{"scheme and spaces", []string{"Bearer  \t "}, "", cognitoguard.ErrNoToken},
		{"Basic", []string{"Basic dXNlcjpwYXNz"}, "", cognitoguard.ErrNoToken},
		{"Digest", []string{`Digest username="u"`}, "", cognitoguard.ErrNoToken},
		{"scheme glued to token", []string{"Bearer" + testToken}, "", cognitoguard.ErrNoToken},
		{"longer scheme", []string{"Bearers " + testToken}, "", cognitoguard.ErrNoToken},
		{"short value", []string{"Bear"}, "", cognitoguard.ErrNoToken},
		{"non-ASCII fold of scheme", []string{"Bearer\u00a0" + testToken}, "", cognitoguard.ErrNoToken},
		{"Unicode case fold", []string{"Bearer\u212a " + testToken}, "", cognitoguard.ErrNoToken},

		{"two headers", []string{"Bearer " + testToken, "Bearer " + testToken}, "", cognitoguard.ErrInvalidRequest},
		{"two headers, one empty", []string{"Bearer " + testToken, ""}, "", cognitoguard.ErrInvalidRequest},
		{"Bearer and Basic", []string{"Basic dXNlcjpwYXNz", "Bearer " + testToken}, "", cognitoguard.ErrInvalidRequest},

		{"space inside", []string{"Bearer abc def"}, "", cognitoguard.ErrMalformed},
		{"comma", []string{"Bearer abc,def"}, "", cognitoguard.ErrMalformed},
		{"quoted", []string{`Bearer "abc"`}, "", cognitoguard.ErrMalformed},
		{"auth-param form", []string{`Bearer token="abc"`}, "", cognitoguard.ErrMalformed},
		{"padding first", []string{"Bearer =abc"}, "", cognitoguard.ErrMalformed},
		{"padding only", []string{"Bearer =="}, "", cognitoguard.ErrMalformed},
		{"padding inside", []string{"Bearer ab=c"}, "", cognitoguard.ErrMalformed},
		{"non-ASCII", []string{"Bearer t\u00f6ken"}, "", cognitoguard.ErrMalformed},
		{"NUL", []string{"Bearer abc\x00"}, "", cognitoguard.ErrMalformed},
		{"CR LF", []string{"Bearer abc\r\nX-Injected: 1"}, "", cognitoguard.ErrMalformed},
		{"over 16 KiB", []string{"Bearer " + max + "A"}, "", cognitoguard.ErrMalformed},
		{"over 16 KiB, bad characters", []string{"Bearer " + strings.Repeat("$", 1<<20)}, "", cognitoguard.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.headers...)
			got, err := BearerToken(r)
			if tt.err == nil {
				if err != nil || got != tt.want {
					t.Fatalf("BearerToken = %.40q, %v; want %.40q", got, err, tt.want)
				}
				return
			}
			if got != "" {
				t.Errorf("token %.40q returned with error", got)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.err)
			}
			var e *cognitoguard.Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T is not a *cognitoguard.Error", err)
			}
			wantClass := cognitoguard.ErrNoToken
			if tt.err == cognitoguard.ErrMalformed {
				wantClass = cognitoguard.ErrInvalidToken
			}
			if c := cognitoguard.Class(err); c != wantClass {
				t.Errorf("Class = %v, want %v", c, wantClass)
			}
			if strings.Contains(err.Error(), testSig) {
				t.Errorf("error text contains the token: %v", err)
			}
		})
	}
}

// TestBearerTokenNoCopy: the token shares the header's memory.
func TestBearerTokenNoCopy(t *testing.T) {
	h := "Bearer " + testToken
	tok, err := BearerToken(request(h))
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(tok) != unsafe.StringData(h[len("Bearer "):]) {
		t.Fatal("the token is a copy, not a substring of the header")
	}
	if raceEnabled {
		return
	}
	r := request(h)
	if n := testing.AllocsPerRun(100, func() { _, _ = BearerToken(r) }); n != 0 {
		t.Errorf("BearerToken allocates %v times", n)
	}
}

func TestCookie(t *testing.T) {
	const name = "access_token"
	tests := []struct {
		name    string
		cfg     Config
		headers []string
		cookies []string // Cookie header values
		want    response
		got     string // token the Verifier must get
		err     error
	}{
		{"cookie only", Config{Cookie: name}, nil, []string{name + "=" + testToken},
			response{200, "", "", ""}, testToken, nil},
		{"cookie among others", Config{Cookie: name}, nil, []string{"a=b; " + name + "=" + testToken + "; c=d"},
			response{200, "", "", ""}, testToken, nil},
		{"quoted cookie value", Config{Cookie: name}, nil, []string{name + `="` + testToken + `"`},
			response{200, "", "", ""}, testToken, nil},
		{"header wins over cookie", Config{Cookie: name}, []string{"Bearer header.token.x"}, []string{name + "=" + testToken},
			response{200, "", "", ""}, "header.token.x", nil},
		{"Basic header: cookie not read", Config{Cookie: name}, []string{"Basic dXNlcjpwYXNz"}, []string{name + "=" + testToken},
			response{401, chNoToken, "", "unauthorized"}, "", cognitoguard.ErrNoToken},
		{"no cookie", Config{Cookie: name}, nil, []string{"other=" + testToken},
			response{401, chNoToken, "", "unauthorized"}, "", cognitoguard.ErrNoToken},
		{"empty cookie", Config{Cookie: name}, nil, []string{name + "="},
			response{401, chNoToken, "", "unauthorized"}, "", cognitoguard.ErrNoToken},
		{"two cookies", Config{Cookie: name}, nil, []string{name + "=" + testToken + "; " + name + "=other"},
			response{401, chInvalidRequest, "", "invalid_request"}, "", cognitoguard.ErrInvalidRequest},
		{"two Cookie headers", Config{Cookie: name}, nil, []string{name + "=" + testToken, name + "=other"},
			response{401, chInvalidRequest, "", "invalid_request"}, "", cognitoguard.ErrInvalidRequest},
		{"cookie not b64token", Config{Cookie: name}, nil, []string{name + "=abc%20def"},
			response{401, chInvalid("The access token is malformed"), "", "invalid_token"}, "", cognitoguard.ErrMalformed},
		{"cookie over MaxTokenSize", Config{Cookie: name, MaxTokenSize: 8}, nil, []string{name + "=abcdefghi"},
			response{401, chInvalid("The access token is malformed"), "", "invalid_token"}, "", cognitoguard.ErrMalformed},
		{"cookie not configured", Config{}, nil, []string{name + "=" + testToken},
			response{401, chNoToken, "", "unauthorized"}, "", cognitoguard.ErrNoToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.headers...)
			for _, c := range tt.cookies {
				r.Header.Add("Cookie", c)
			}
			var handled error
			tt.cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
				handled = err
				WriteError(w, r, err, "")
			}
			fv := &fakeVerifier{claims: &cognitoguard.Claims{}}
			rec := httptest.NewRecorder()
			New(fv, tt.cfg)(okHandler).ServeHTTP(rec, r)
			checkResponse(t, rec, tt.want)
			if got := fv.lastToken(); got != tt.got {
				t.Errorf("Verifier got %q, want %q", got, tt.got)
			}
			if tt.err != nil && !errors.Is(handled, tt.err) {
				t.Errorf("err = %v, want errors.Is %v", handled, tt.err)
			}
		})
	}
}

func TestExtract(t *testing.T) {
	// Extract reads as New does: the header, else the cookie when the
	// request has no Authorization header at all.
	tests := []struct {
		name    string
		cookie  string   // the cookie name given to Extract
		headers []string // Authorization values
		cookies []string // values of cookies named "tok"
		want    string
		err     error
	}{
		{"header", "tok", []string{"Bearer " + testToken}, []string{"other.t.k"}, testToken, nil},
		{"cookie", "tok", nil, []string{testToken}, testToken, nil},
		{"no cookie name: header only", "", nil, []string{testToken}, "", cognitoguard.ErrNoToken},
		{"Basic header: the cookie is not read", "tok", []string{"Basic YTpi"}, []string{testToken}, "", cognitoguard.ErrNoToken},
		{"two cookies", "tok", nil, []string{testToken, testToken}, "", cognitoguard.ErrInvalidRequest},
		{"malformed cookie", "tok", nil, []string{"a b"}, "", cognitoguard.ErrMalformed},
		{"nothing", "tok", nil, nil, "", cognitoguard.ErrNoToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			for _, v := range tc.cookies {
				r.AddCookie(&http.Cookie{Name: "tok", Value: v})
			}
			got, err := Extract(r, tc.cookie)
			if got != tc.want || (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Errorf("Extract = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestExtractor(t *testing.T) {
	errOdd := errors.New("reason-extractor broke")
	tests := []struct {
		name    string
		extract func(*http.Request) (string, error)
		want    response
		got     string
	}{
		{"query parameter", func(r *http.Request) (string, error) { return r.URL.Query().Get("t"), nil },
			response{200, "", "", ""}, "from-query"},
		{"no token", func(*http.Request) (string, error) { return "", nil },
			response{401, chNoToken, "", "unauthorized"}, ""},
		{"ErrNoToken", func(*http.Request) (string, error) { return "", cognitoguard.ErrNoToken },
			response{401, chNoToken, "", "unauthorized"}, ""},
		{"bare ErrMalformed", func(*http.Request) (string, error) { return "", cognitoguard.ErrMalformed },
			response{401, chInvalid("The access token is malformed"), "", "invalid_token"}, ""},
		{"unclassified error", func(*http.Request) (string, error) { return "", errOdd },
			response{503, "", "1", "temporarily_unavailable"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The Authorization header and the cookie are ignored.
			r := httptest.NewRequest(http.MethodGet, "/?t=from-query", nil)
			r.Header.Set("Authorization", "Bearer "+testToken)
			r.Header.Set("Cookie", "c="+testToken)
			fv := &fakeVerifier{claims: &cognitoguard.Claims{}}
			rec := httptest.NewRecorder()
			New(fv, Config{Extractor: tt.extract, Cookie: "c"})(okHandler).ServeHTTP(rec, r)
			checkResponse(t, rec, tt.want)
			if got := fv.lastToken(); got != tt.got {
				t.Errorf("Verifier got %q, want %q", got, tt.got)
			}
		})
	}
}

func BenchmarkExtract(b *testing.B) {
	r := request("Bearer " + testToken)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BearerToken(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMiddlewareOverhead measures the middleware around a Verifier
// that costs nothing: what New adds to Verify.
func BenchmarkMiddlewareOverhead(b *testing.B) {
	claims := &cognitoguard.Claims{Subject: "user-1"}
	v := verifierFunc(func(context.Context, string) (*cognitoguard.Claims, error) { return claims, nil })
	h := New(v, Config{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := request("Bearer " + testToken)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

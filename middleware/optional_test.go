package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/syncbuf"
)

// TestOptional: with Config.Optional a request without any credential
// passes without claims; every request with a credential is checked as
// without it.
func TestOptional(t *testing.T) {
	good := &fakeVerifier{claims: &cognitoguard.Claims{Subject: "u"}}
	expired := &fakeVerifier{err: cgErr(cognitoguard.ErrExpired, "exp")}
	extractNone := func(*http.Request) (string, error) { return "", nil }
	extractBad := func(*http.Request) (string, error) { return "", cognitoguard.ErrMalformed }
	tests := []struct {
		name     string
		v        Verifier
		cfg      Config
		headers  []string
		cookie   string
		want     int
		wantAnon bool // the handler ran without claims
	}{
		{"no credential", good, Config{Optional: true}, nil, "", 200, true},
		{"no credential, not optional", good, Config{}, nil, "", 401, false},
		{"valid token", good, Config{Optional: true}, []string{"Bearer " + testToken}, "", 200, false},
		{"expired token", expired, Config{Optional: true}, []string{"Bearer " + testToken}, "", 401, false},
		{"empty bearer", good, Config{Optional: true}, []string{"Bearer "}, "", 401, false},
		{"two headers", good, Config{Optional: true}, []string{"Bearer " + testToken, "Bearer " + testToken}, "", 401, false},
		{"other scheme", good, Config{Optional: true}, []string{"Basic dTpw"}, "", 401, false},
		{"cookie mode, nothing", good, Config{Optional: true, Cookie: "t"}, nil, "", 200, true},
		{"cookie mode, bad cookie", good, Config{Optional: true, Cookie: "t"}, nil, "t=" + testToken + "%00", 401, false},
		{"cookie mode, other cookie only", good, Config{Optional: true, Cookie: "t"}, nil, "u=1", 200, true},
		{"extractor finds nothing", good, Config{Optional: true, Extractor: extractNone}, nil, "", 200, true},
		{"extractor error", good, Config{Optional: true, Extractor: extractBad}, nil, "", 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran, anon bool
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				_, ok := cognitoguard.FromContext(r.Context())
				anon = !ok
			})
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			rec := httptest.NewRecorder()
			New(tt.v, tt.cfg)(next).ServeHTTP(rec, r)
			if rec.Code != tt.want || ran != (tt.want == 200) || anon != tt.wantAnon {
				t.Fatalf("status %d ran %v anonymous %v; want %d anonymous %v", rec.Code, ran, anon, tt.want, tt.wantAnon)
			}
		})
	}
}

// ExampleConfig_optional mounts public routes outside the middleware and
// lets one route serve anonymous and signed-in callers alike.
func ExampleConfig_optional() {
	v := &fakeVerifier{err: errors.New("unused")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {}) // no auth at all
	greet := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := cognitoguard.FromContext(r.Context()); ok {
			fmt.Fprintln(w, "hello", c.Username)
			return
		}
		fmt.Fprintln(w, "hello, guest")
	})
	mux.Handle("GET /greet", New(v, Config{Optional: true})(greet))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/greet", nil))
	fmt.Print(rec.Body)
	// Output: hello, guest
}

// loggingVerifier is a fake Verifier with a logger, as
// *cognitoguard.Verifier has.
type loggingVerifier struct {
	fakeVerifier
	log *slog.Logger
}

func (v *loggingVerifier) Logger() *slog.Logger { return v.log }

// TestLoggerFromVerifier: without Config.Logger the middleware logs where
// its Verifier logs, so a service sets its logger once.
func TestLoggerFromVerifier(t *testing.T) {
	var buf syncbuf.Buffer
	v := &loggingVerifier{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	v.err = cgErr(cognitoguard.ErrExpired, "exp")
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set("Authorization", "Bearer "+testToken)
	New(v, Config{})(okHandler).ServeHTTP(httptest.NewRecorder(), r)
	if !strings.Contains(buf.String(), "request rejected") {
		t.Fatalf("the Verifier's logger got %q", buf.String())
	}
}

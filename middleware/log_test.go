package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cognitoguard/cognitoguard/internal/syncbuf"

	"github.com/cognitoguard/cognitoguard"
)

// TestLogsNeverContainToken drives every kind of failure at Debug, in
// parallel, and checks that neither the token nor its signature segment
// appears in the logs, the response headers or the bodies.
func TestLogsNeverContainToken(t *testing.T) {
	var buf syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bearer := "Bearer " + testToken
	verifierErrs := []error{
		cgErr(cognitoguard.ErrMalformed, "bad segment"),
		cgErr(cognitoguard.ErrUnknownKey, "kid not in the issuer's key set"),
		cgErr(cognitoguard.ErrSignature, ""),
		cgErr(cognitoguard.ErrExpired, "exp 2025-01-01T00:00:00Z"),
		&cognitoguard.Error{Kind: cognitoguard.ErrRevoked, Reason: "user signed out, or session or app client revoked", Subject: "sub-123"},
		cgErr(cognitoguard.ErrInsufficientScope, "missing scope admin"),
		cgErr(cognitoguard.ErrUnavailable, "keys"),
		cognitoguard.ErrClient,
		errors.New("opaque"),
	}
	type request struct {
		v       Verifier
		mw      func(http.Handler) http.Handler
		headers []string
		cookie  string
	}
	var reqs []request
	for _, err := range verifierErrs {
		reqs = append(reqs, request{v: &fakeVerifier{err: err}, headers: []string{bearer}})
	}
	ok := &fakeVerifier{claims: &cognitoguard.Claims{Subject: "u"}}
	reqs = append(reqs,
		request{v: ok, headers: []string{bearer + "$"}},                         // not b64token
		request{v: ok, headers: []string{bearer + " " + testSig}},               // space inside
		request{v: ok, headers: []string{bearer + strings.Repeat("A", 17<<10)}}, // oversized
		request{v: ok, headers: []string{bearer, bearer}},                       // two headers
		request{v: ok, headers: []string{"Basic " + testToken}},                 // other scheme
		request{v: ok, headers: []string{"Bearer" + testToken}},                 // glued
		request{v: ok, cookie: "t=" + testToken + "; t=" + testToken},           // two cookies
		request{v: ok, cookie: "t=" + testToken + "%00"},                        // bad cookie
		request{v: ok, headers: []string{bearer}, mw: RequireScopes("admin")},
		request{v: ok, headers: []string{bearer}, mw: RequireGroups("admin")},
		request{v: ok, headers: []string{bearer}, mw: Require(func(*cognitoguard.Claims) error {
			return errors.New("refused " + testToken)
		})},
	)
	const rounds = 20
	var wg sync.WaitGroup
	for range rounds {
		for _, rq := range reqs {
			wg.Go(func() {
				next := http.Handler(okHandler)
				if rq.mw != nil {
					next = rq.mw(next)
				}
				r := httptest.NewRequest(http.MethodGet, "/orders/7?access_token="+testToken, nil)
				for _, h := range rq.headers {
					r.Header.Add("Authorization", h)
				}
				if rq.cookie != "" {
					r.Header.Set("Cookie", rq.cookie)
				}
				rec := httptest.NewRecorder()
				New(rq.v, Config{Logger: log, Cookie: "t"})(next).ServeHTTP(rec, r)
				if rec.Code == http.StatusOK {
					t.Errorf("request %v let through", rq.headers)
				}
				res := rec.Result()
				checkNoToken(t, "body", rec.Body.String())
				for k, vs := range res.Header {
					for _, v := range vs {
						checkNoToken(t, "header "+k, v)
					}
				}
			})
		}
	}
	wg.Wait()
	logs := buf.String()
	checkNoToken(t, "logs", logs)
	lines := strings.Count(logs, "\n")
	if want := rounds * len(reqs); lines != want {
		t.Errorf("%d log records, want one per request (%d)", lines, want)
	}
	for _, want := range []string{
		`"level":"DEBUG","msg":"middleware: request rejected","method":"GET","path":"/orders/7","class":"invalid_token","kind":"expired","reason":"exp 2025-01-01T00:00:00Z"`,
		`"level":"DEBUG","msg":"middleware: request rejected","method":"GET","path":"/orders/7","class":"invalid_token","kind":"revoked","reason":"user signed out, or session or app client revoked","sub":"sub-123"`,
		`"level":"DEBUG","msg":"middleware: request rejected","method":"GET","path":"/orders/7","class":"no_token","kind":"invalid_request","reason":"several Authorization headers"`,
		`"level":"DEBUG","msg":"middleware: request rejected","method":"GET","path":"/orders/7","class":"insufficient_scope","kind":"insufficient_scope","reason":"missing scope admin"`,
		`"level":"DEBUG","msg":"middleware: request rejected","method":"GET","path":"/orders/7","class":"insufficient_scope","kind":"insufficient_scope","reason":"check refused the request"`,
		`"level":"WARN","msg":"middleware: token verification unavailable","method":"GET","path":"/orders/7","class":"unavailable","kind":"unavailable","reason":"keys"`,
		`"level":"WARN","msg":"middleware: token verification unavailable","method":"GET","path":"/orders/7","class":"unavailable","kind":"unavailable","reason":"","error":"opaque"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

func checkNoToken(t *testing.T, where, s string) {
	t.Helper()
	if strings.Contains(s, testSig) {
		t.Errorf("%s contains the token's signature segment", where)
	}
}

// TestLogLevels: rejections are Debug, outages Warn, and a request whose
// client went away is no outage (Debug).
func TestLogLevels(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		canceled bool
		want     slog.Level
	}{
		{"rejected", cgErr(cognitoguard.ErrExpired, ""), false, slog.LevelDebug},
		{"unavailable", cgErr(cognitoguard.ErrUnavailable, ""), false, slog.LevelWarn},
		{"client gone", context.Canceled, true, slog.LevelDebug},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &levelRecorder{}
			r := request("Bearer " + testToken)
			if tt.canceled {
				ctx, cancel := context.WithCancel(r.Context())
				cancel()
				r = r.WithContext(ctx)
			}
			New(&fakeVerifier{err: tt.err}, Config{Logger: slog.New(h)})(okHandler).ServeHTTP(httptest.NewRecorder(), r)
			if len(h.levels) != 1 || h.levels[0] != tt.want {
				t.Errorf("levels = %v, want [%v]", h.levels, tt.want)
			}
		})
	}
}

type levelRecorder struct{ levels []slog.Level }

func (h *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *levelRecorder) Handle(_ context.Context, r slog.Record) error {
	h.levels = append(h.levels, r.Level)
	return nil
}
func (h *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *levelRecorder) WithGroup(string) slog.Handler      { return h }

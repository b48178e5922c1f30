package middleware

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/syncbuf"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// failingStore is a revocation store that is down.
type failingStore struct{}

func (failingStore) Revoked(context.Context, *cognitoguard.Claims) (bool, error) {
	return false, errors.New("redis: connection refused")
}

// TestContractRealTokens runs the contract with tokens minted by a
// cognitotest pool through a real cognitoguard.Verifier, and checks that
// no token appears in the responses or the Debug logs.
func TestContractRealTokens(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{ClientIDs: []string{"app", "other-app"}})
	t.Cleanup(pool.Close)
	alice := pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admin"}})
	mallory := pool.AddUser(cognitotest.User{Username: "mallory"})

	store := revocation.NewMemory(revocation.MemoryConfig{})
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	newVerifier := func(t *testing.T, cfg cognitoguard.Config) *cognitoguard.Verifier {
		cfg.Logger = logger
		v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{"app"}}}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = v.Close() })
		return v
	}
	v := newVerifier(t, cognitoguard.Config{Revocation: store})

	// mallory signed out after signing in: her tokens are revoked.
	malloryToken := pool.AccessToken("mallory")
	if err := store.RevokeUser(t.Context(), pool.PoolID(), mallory.Sub, time.Now()); err != nil {
		t.Fatal(err)
	}
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok := func(opts ...cognitotest.TokenOption) string { return pool.AccessToken("alice", opts...) }

	tests := []struct {
		name    string
		v       Verifier // default v
		token   string
		mw      func(http.Handler) http.Handler
		want    response
		errKind error
	}{
		{name: "valid access token", token: tok(cognitotest.WithScopes("read")),
			want: response{200, "", "", ""}},
		{name: "expired", token: tok(cognitotest.WithIssuedAt(now.Add(-2*time.Hour)), cognitotest.WithExpiry(now.Add(-time.Minute))),
			want: response{401, chInvalid("The access token expired"), "", "invalid_token"}, errKind: cognitoguard.ErrExpired},
		{name: "issued in the future", token: tok(cognitotest.WithIssuedAt(now.Add(time.Hour))),
			want: response{401, chInvalid("The access token is not yet valid"), "", "invalid_token"}, errKind: cognitoguard.ErrNotYetValid},
		{name: "other app client", token: tok(cognitotest.WithClient("other-app")),
			want: response{401, chInvalid("The access token was issued to another client"), "", "invalid_token"}, errKind: cognitoguard.ErrClient},
		{name: "ID token", token: pool.IDToken("alice"),
			want: response{401, chInvalid("The token type is not accepted"), "", "invalid_token"}, errKind: cognitoguard.ErrTokenUse},
		{name: "foreign signing key", token: tok(cognitotest.WithSigningKey(foreign)),
			want: response{401, chInvalid("The access token signature is invalid"), "", "invalid_token"}, errKind: cognitoguard.ErrSignature},
		{name: "unknown kid", token: tok(cognitotest.WithHeader(map[string]any{"kid": "not-a-kid"})),
			want: response{401, chInvalid("The access token is signed with an unknown key"), "", "invalid_token"}, errKind: cognitoguard.ErrUnknownKey},
		{name: "alg none", token: tok(cognitotest.WithHeader(map[string]any{"alg": "none"})),
			want: response{401, chInvalid("The access token is malformed"), "", "invalid_token"}, errKind: cognitoguard.ErrMalformed},
		{name: "other issuer", token: tok(cognitotest.WithClaims(map[string]any{"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil"})),
			want: response{401, chInvalid("The access token issuer is not accepted"), "", "invalid_token"}, errKind: cognitoguard.ErrIssuer},
		{name: "revoked (signed out)", token: malloryToken,
			want: response{401, chInvalid("Access Token has been revoked"), "", "invalid_token"}, errKind: cognitoguard.ErrRevoked},
		{name: "missing scope", token: tok(cognitotest.WithScopes("read")), mw: RequireScopes("read", "write"),
			want: response{403, chScope, "", "insufficient_scope"}, errKind: cognitoguard.ErrInsufficientScope},
		{name: "scopes present", token: tok(cognitotest.WithScopes("write", "read")), mw: RequireScopes("read", "write"),
			want: response{200, "", "", ""}},
		{name: "in group", token: tok(), mw: RequireGroups("admin"),
			want: response{200, "", "", ""}},
		{name: "not in group", token: tok(cognitotest.WithGroups("users")), mw: RequireGroups("admin"),
			want: response{403, chForbidden, "", "insufficient_scope"}, errKind: cognitoguard.ErrInsufficientScope},
		{name: "revocation store down", v: newVerifier(t, cognitoguard.Config{Revocation: failingStore{}}), token: tok(),
			want: response{503, "", "1", "temporarily_unavailable"}, errKind: cognitoguard.ErrUnavailable},
	}
	var minted []string
	for _, tt := range tests {
		minted = append(minted, tt.token)
		t.Run(tt.name, func(t *testing.T) {
			vv := Verifier(v)
			if tt.v != nil {
				vv = tt.v
			}
			var handled error
			cfg := Config{Logger: logger, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				handled = err
				WriteError(w, r, err, "")
			}}
			var sub string
			next := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, _ := cognitoguard.FromContext(r.Context())
				sub = c.Subject
			}))
			if tt.mw != nil {
				next = tt.mw(next)
			}
			rec := httptest.NewRecorder()
			New(vv, cfg)(next).ServeHTTP(rec, request("Bearer "+tt.token))
			checkResponse(t, rec, tt.want)
			checkNoTokenOf(t, "response", rec.Body.String()+rec.Header().Get("WWW-Authenticate"), tt.token)
			if tt.want.status == http.StatusOK {
				if sub != alice.Sub {
					t.Errorf("sub in context = %q, want %q", sub, alice.Sub)
				}
				return
			}
			if !errors.Is(handled, tt.errKind) {
				t.Errorf("err = %v, want errors.Is %v", handled, tt.errKind)
			}
		})
	}

	t.Run("JWKS unavailable", func(t *testing.T) {
		pool.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
		defer pool.SetJWKSHandler(nil)
		cold := newVerifier(t, cognitoguard.Config{})
		token := tok()
		minted = append(minted, token)
		rec := httptest.NewRecorder()
		New(cold, Config{Logger: logger, RetryAfter: 5 * time.Second})(okHandler).ServeHTTP(rec, request("Bearer "+token))
		checkResponse(t, rec, response{503, "", "5", "temporarily_unavailable"})
	})

	out := logs.String()
	for _, tk := range minted {
		checkNoTokenOf(t, "logs", out, tk)
	}
	if !strings.Contains(out, `"level":"WARN","msg":"middleware: token verification unavailable"`) {
		t.Error("no Warn record for the outage")
	}
}

// checkNoTokenOf fails if s contains token's signature segment.
func checkNoTokenOf(t *testing.T, where, s, token string) {
	t.Helper()
	sig := token[strings.LastIndexByte(token, '.')+1:]
	if len(sig) < 16 {
		t.Fatalf("token %q has no real signature", token)
	}
	if strings.Contains(s, sig) {
		t.Errorf("%s contain a token's signature segment", where)
	}
}

//go:build unix

package cognitolocal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

const password = "Secret-pa55word!"

// verifier returns a Verifier of p's tokens of the given use, issuer set
// explicitly (cognito-local's host), keys fetched from the emulator.
func verifier(t *testing.T, e *emulator, p pool, use cognitoguard.TokenUse, rev cognitoguard.RevocationChecker) *cognitoguard.Verifier {
	t.Helper()
	v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: p.ID, Issuers: []string{e.Issuer(p.ID)}, ClientIDs: []string{p.ClientID}}}, cognitoguard.Config{
		TokenUse:   use,
		Revocation: rev,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// tamperPayload replaces old with new in the token's payload, keeping the
// header and the signature.
func tamperPayload(t *testing.T, tok, old, new string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(payload, []byte(old)) {
		t.Fatalf("payload %s has no %q", payload, old)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(old), []byte(new), 1))
	return strings.Join(parts, ".")
}

// tamperSignature flips one bit in the middle of the signature.
func tamperSignature(t *testing.T, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0x01
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

// TestCognitoLocalVerify: tokens issued by an independent implementation
// verify, tampered ones do not, and pools that share a signing key are
// still told apart by iss.
func TestCognitoLocalVerify(t *testing.T) {
	t.Parallel()
	e := start(t)
	a := e.createPool(t, "pool-a")
	b := e.createPool(t, "pool-b")
	e.createUser(t, a, "alice", password)
	e.createUser(t, b, "bob", password)
	ta := e.signIn(t, a, "alice", password)
	tb := e.signIn(t, b, "bob", password)
	ctx := t.Context()

	access := verifier(t, e, a, cognitoguard.TokenUseAccess, nil)
	id := verifier(t, e, a, cognitoguard.TokenUseID, nil)

	t.Run("access token", func(t *testing.T) {
		c, err := access.Verify(ctx, aws.ToString(ta.AccessToken))
		if err != nil {
			t.Fatalf("Verify(access token) = %v", err)
		}
		if c.TokenUse != cognitoguard.TokenUseAccess || c.ClientID != a.ClientID || c.Issuer != e.Issuer(a.ID) ||
			c.Username != "alice" || c.Subject == "" || c.Expiry.IsZero() || c.AuthenticatedAt().IsZero() {
			t.Errorf("claims = %+v", c)
		}
	})
	t.Run("id token", func(t *testing.T) {
		c, err := id.Verify(ctx, aws.ToString(ta.IdToken))
		if err != nil {
			t.Fatalf("Verify(ID token) = %v", err)
		}
		if c.TokenUse != cognitoguard.TokenUseID || c.ClientID != a.ClientID || c.Username != "alice" ||
			c.Email != "alice@example.com" {
			t.Errorf("claims = %+v", c)
		}
	})
	t.Run("token use enforced", func(t *testing.T) {
		if _, err := access.Verify(ctx, aws.ToString(ta.IdToken)); !errors.Is(err, cognitoguard.ErrTokenUse) {
			t.Errorf("access verifier, ID token: err = %v, want ErrTokenUse", err)
		}
		if _, err := id.Verify(ctx, aws.ToString(ta.AccessToken)); !errors.Is(err, cognitoguard.ErrTokenUse) {
			t.Errorf("ID verifier, access token: err = %v, want ErrTokenUse", err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		tok := aws.ToString(ta.AccessToken)
		for name, bad := range map[string]string{
			"payload":   tamperPayload(t, tok, `"alice"`, `"admin"`),
			"signature": tamperSignature(t, tok),
		} {
			if _, err := access.Verify(ctx, bad); !errors.Is(err, cognitoguard.ErrSignature) {
				t.Errorf("%s tampered: err = %v, want ErrSignature", name, err)
			}
		}
	})
	t.Run("other pool, same key", func(t *testing.T) {
		// cognito-local signs every pool with one key: the JWKS of both
		// pools are the same, so the signature of b's token verifies with
		// a's keys and only iss stands between them.
		ja := fetch(t, e.Issuer(a.ID)+"/.well-known/jwks.json")
		jb := fetch(t, e.Issuer(b.ID)+"/.well-known/jwks.json")
		if !bytes.Equal(ja, jb) {
			t.Fatalf("the pools' key sets differ; the premise of this test is gone:\n%s\n%s", ja, jb)
		}
		if _, err := verifier(t, e, b, cognitoguard.TokenUseAccess, nil).Verify(ctx, aws.ToString(tb.AccessToken)); err != nil {
			t.Fatalf("b's token with b's verifier: %v", err)
		}
		if _, err := access.Verify(ctx, aws.ToString(tb.AccessToken)); !errors.Is(err, cognitoguard.ErrIssuer) {
			t.Errorf("b's access token with a's verifier: err = %v, want ErrIssuer", err)
		}
		if _, err := id.Verify(ctx, aws.ToString(tb.IdToken)); !errors.Is(err, cognitoguard.ErrIssuer) {
			t.Errorf("b's ID token with a's verifier: err = %v, want ErrIssuer", err)
		}
		// Even with b's iss written in, a's client list keeps b's token out
		// of a verifier that trusts b's issuer but only a's client.
		v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: b.ID, Issuers: []string{e.Issuer(b.ID)}, ClientIDs: []string{a.ClientID}}}, cognitoguard.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if _, err := v.Verify(ctx, aws.ToString(tb.AccessToken)); !errors.Is(err, cognitoguard.ErrClient) {
			t.Errorf("b's token, b's issuer, a's client: err = %v, want ErrClient", err)
		}
	})
}

// aliceSession is alice signed in to a fresh emulator, with access and ID
// verifiers sharing an in-process store, both tokens checked valid.
type aliceSession struct {
	e          *emulator
	p          pool
	tok        *types.AuthenticationResultType
	store      *revocation.Memory
	access, id *cognitoguard.Verifier
	claims     *cognitoguard.Claims // of the access token
}

func signedIn(t *testing.T) aliceSession {
	t.Helper()
	a := aliceSession{e: start(t), store: revocation.NewMemory(revocation.MemoryConfig{})}
	a.p = a.e.createPool(t, "pool")
	a.e.createUser(t, a.p, "alice", password)
	a.tok = a.e.signIn(t, a.p, "alice", password)
	a.access = verifier(t, a.e, a.p, cognitoguard.TokenUseAccess, a.store)
	a.id = verifier(t, a.e, a.p, cognitoguard.TokenUseID, a.store)
	var err error
	if a.claims, err = a.access.Verify(t.Context(), aws.ToString(a.tok.AccessToken)); err != nil {
		t.Fatalf("before sign-out: %v", err)
	}
	if _, err := a.id.Verify(t.Context(), aws.ToString(a.tok.IdToken)); err != nil {
		t.Fatalf("before sign-out, ID token: %v", err)
	}
	return a
}

// TestCognitoLocalGlobalSignOut: cognito-local does not implement
// GlobalSignOut; the helper reports the Cognito failure and the local
// record still revokes the user's access and ID tokens.
func TestCognitoLocalGlobalSignOut(t *testing.T) {
	t.Parallel()
	a := signedIn(t)
	e, p, tok, store, access, id, c := a.e, a.p, a.tok, a.store, a.access, a.id, a.claims
	ctx := t.Context()

	so, err := signout.New(e.Client, access, store, signout.Config{UserPoolID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	err = so.GlobalSignOut(ctx, aws.ToString(tok.AccessToken))
	if err == nil {
		t.Fatal("GlobalSignOut succeeded; cognito-local 5.3.0 does not implement it (has it changed?)")
	}
	if !errors.Is(err, signout.ErrCognito) || errors.Is(err, signout.ErrStore) {
		t.Errorf("err = %v, want ErrCognito and not ErrStore", err)
	}
	var se *signout.Error
	if !errors.As(err, &se) || !se.Recorded || se.Sub != c.Subject {
		t.Errorf("err = %#v, want a *SignOutError with Recorded and Sub %q", err, c.Subject)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
		t.Errorf("err = %v, want the SDK's HTTP 500", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || !strings.Contains(api.ErrorCode(), "Unsupported") {
		t.Errorf("err = %v, want cognito-local's CognitoLocal#Unsupported", err)
	}

	if at, ok, err := store.SignedOutAt(ctx, c.UserPoolID, c.Subject); err != nil || !ok || at.Before(c.AuthenticatedAt()) {
		t.Errorf("SignedOutAt = %v, %v, %v; want a record at or after auth_time %v", at, ok, err, c.AuthenticatedAt())
	}
	if _, err := access.Verify(ctx, aws.ToString(tok.AccessToken)); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("access token after sign-out: err = %v, want ErrRevoked", err)
	}
	if _, err := id.Verify(ctx, aws.ToString(tok.IdToken)); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("ID token after sign-out: err = %v, want ErrRevoked", err)
	}

	// The hole this library closes: the emulator, like every API but
	// Cognito's own, still takes the token.
	if _, err := e.Client.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken}); err != nil {
		t.Logf("GetUser after the failed sign-out: %v", err)
	}
}

// TestCognitoLocalRevokeSession: the session sign-out path (RevokeToken)
// works against cognito-local; its tokens carry no origin_jti, so the
// helper records the user's sign-out instead of the session's.
func TestCognitoLocalRevokeSession(t *testing.T) {
	t.Parallel()
	a := signedIn(t)
	e, p, tok, store, access, id, c := a.e, a.p, a.tok, a.store, a.access, a.id, a.claims
	ctx := t.Context()
	if c.OriginJTI != "" {
		t.Logf("cognito-local now sets origin_jti (%q): the session path is exercised", c.OriginJTI)
	}

	so, err := signout.New(e.Client, access, store, signout.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := so.RevokeSession(ctx, aws.ToString(tok.AccessToken), aws.ToString(tok.RefreshToken)); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if _, err := access.Verify(ctx, aws.ToString(tok.AccessToken)); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("access token after RevokeSession: err = %v, want ErrRevoked", err)
	}
	if _, err := id.Verify(ctx, aws.ToString(tok.IdToken)); !errors.Is(err, cognitoguard.ErrRevoked) {
		t.Errorf("ID token after RevokeSession: err = %v, want ErrRevoked", err)
	}
	// Cognito's side: the refresh token is gone.
	_, err = e.Client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(p.ClientID),
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(tok.RefreshToken)},
	})
	if err == nil {
		t.Error("REFRESH_TOKEN_AUTH with the revoked refresh token succeeded")
	}
}

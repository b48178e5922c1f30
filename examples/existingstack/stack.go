package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/MicahParks/jwkset"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"

	"github.com/cognitoguard/cognitoguard"
)

// JWTVerifier verifies tokens the way many services already do, with
// golang-jwt v5 and a keyfunc v3 key set, and then asks cognitoguard only
// what golang-jwt cannot know: is the token for this service (token_use,
// client_id), and did its user sign out? It implements
// middleware.Verifier, so middleware.New answers with RFC 6750 statuses.
type JWTVerifier struct {
	Keyfunc jwt.Keyfunc // keyfunc.Keyfunc's Keyfunc method
	Issuer  string      // the pool's issuer, checked by golang-jwt too
	// Guard holds the pool, its clients, the token use and the
	// revocation store; only its CheckClaims is called.
	Guard *cognitoguard.Verifier
}

// Verify parses and verifies raw with golang-jwt (RS256 only, issuer,
// exp required), then hands the verified claims to Guard.CheckClaims.
func (j *JWTVerifier) Verify(ctx context.Context, raw string) (*cognitoguard.Claims, error) {
	tok, err := jwt.Parse(raw, j.Keyfunc,
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(j.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	if err != nil {
		return nil, jwtError(err)
	}
	claims, ok := tok.Claims.(jwt.MapClaims)
	if !ok {
		return nil, fmt.Errorf("%w: claims of type %T", cognitoguard.ErrUnavailable, tok.Claims)
	}
	return j.Guard.CheckClaims(ctx, claims)
}

// jwtError classifies a golang-jwt error: a key set that could not be
// fetched is a 503 (fail closed, retry), any other failure a 401.
func jwtError(err error) error {
	if errors.Is(err, jwt.ErrTokenUnverifiable) && !errors.Is(err, jwkset.ErrKeyNotFound) {
		return fmt.Errorf("%w: keys: %w", cognitoguard.ErrUnavailable, err)
	}
	return fmt.Errorf("%w: golang-jwt: %w", cognitoguard.ErrInvalidToken, err)
}

// OIDCVerifier is the same with go-oidc. go-oidc checks aud, which
// Cognito access tokens do not have: it is built with SkipClientIDCheck,
// and CheckClaims checks client_id (access) or aud (ID tokens) instead.
type OIDCVerifier struct {
	OIDC  *oidc.IDTokenVerifier
	Guard *cognitoguard.Verifier
}

// Verify verifies raw with go-oidc, then hands its claims to
// Guard.CheckClaims. go-oidc does not tell a key-fetch failure from a bad
// token: both are 401 here.
func (o *OIDCVerifier) Verify(ctx context.Context, raw string) (*cognitoguard.Claims, error) {
	idt, err := o.OIDC.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: go-oidc: %w", cognitoguard.ErrInvalidToken, err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: go-oidc claims: %w", cognitoguard.ErrMalformed, err)
	}
	return o.Guard.CheckClaims(ctx, claims)
}

// NewOIDC returns a go-oidc verifier of issuer's tokens, keys fetched from
// jwksURL, RS256 only, any audience (see OIDCVerifier).
func NewOIDC(ctx context.Context, issuer, jwksURL string) *oidc.IDTokenVerifier {
	return oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, jwksURL), &oidc.Config{
		SkipClientIDCheck:    true,
		SupportedSigningAlgs: []string{oidc.RS256},
	})
}

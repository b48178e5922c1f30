// Package wording holds the client-facing texts that several adapters
// send for the same failure, so that HTTP, gRPC and Connect clients read
// the same words. The texts are fixed: a response never carries an
// error's own text, which may hold details meant for logs only.
package wording

import (
	"errors"

	"github.com/cognitoguard/cognitoguard"
)

// Cognito's own wording for a revoked token, by token use.
const (
	RevokedAccess = "Access Token has been revoked"
	RevokedID     = "Token has been revoked"
)

// Revoked returns Cognito's wording for a revoked token: [RevokedID] when
// err carries a [cognitoguard.Error] of an ID token, else [RevokedAccess].
func Revoked(err error) string {
	var e *cognitoguard.Error
	if errors.As(err, &e) && e.TokenUse == cognitoguard.TokenUseID {
		return RevokedID
	}
	return RevokedAccess
}

// Invalid is the short description of an invalid-token error for the RPC
// adapters (grpcguard, connectguard): the revoked wording above, "token
// expired", or "invalid token".
func Invalid(err error) string {
	switch {
	case errors.Is(err, cognitoguard.ErrRevoked):
		return Revoked(err)
	case errors.Is(err, cognitoguard.ErrExpired):
		return "token expired"
	}
	return "invalid token"
}

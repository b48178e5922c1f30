package otelguard

import (
	"errors"

	"github.com/cognitoguard/cognitoguard"
)

// Outcomes: "accepted" or the class of the error (cognitoguard.Class).
const (
	outcomeAccepted          = "accepted"
	outcomeNoToken           = "no_token"
	outcomeInvalidToken      = "invalid_token"
	outcomeInsufficientScope = "insufficient_scope"
	outcomeUnavailable       = "unavailable"
)

// reasons names the specific sentinels of the invalid-token class, in the
// order they are tried.
var reasons = [...]struct {
	err  error
	name string
}{
	{cognitoguard.ErrMalformed, "malformed"},
	{cognitoguard.ErrUnknownKey, "unknown_key"},
	{cognitoguard.ErrSignature, "signature"},
	{cognitoguard.ErrIssuer, "issuer"},
	{cognitoguard.ErrTokenUse, "token_use"},
	{cognitoguard.ErrClient, "client"},
	{cognitoguard.ErrExpired, "expired"},
	{cognitoguard.ErrNotYetValid, "not_yet_valid"},
	{cognitoguard.ErrRevoked, "revoked"},
}

// reason returns the attribute value naming why err failed: "" for nil,
// the specific check of an invalid token ("expired", …), else its class
// ("no_token", "invalid_token", "insufficient_scope", "unavailable").
func reason(err error) string {
	switch cognitoguard.Class(err) {
	case nil:
		return ""
	case cognitoguard.ErrNoToken:
		return outcomeNoToken
	case cognitoguard.ErrInsufficientScope:
		return outcomeInsufficientScope
	case cognitoguard.ErrUnavailable:
		return outcomeUnavailable
	}
	var e *cognitoguard.Error
	if errors.As(err, &e) {
		for _, r := range reasons {
			if e.Kind == r.err {
				return r.name
			}
		}
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return outcomeInvalidToken
}

// outcomeOf returns the outcome class of a reason.
func outcomeOf(reason string) string {
	switch reason {
	case "":
		return outcomeAccepted
	case outcomeNoToken, outcomeInsufficientScope, outcomeUnavailable:
		return reason
	}
	return outcomeInvalidToken
}

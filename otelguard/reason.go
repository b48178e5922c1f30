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

// reasonNames are the values of the reason attribute by index: 0 is
// accepted (no reason), then the classes, then the specific sentinels of
// the invalid-token class (reasonErrs, in the same order).
var reasonNames = [...]string{
	"", outcomeNoToken, outcomeInsufficientScope, outcomeUnavailable, outcomeInvalidToken,
	"malformed", "unknown_key", "signature", "issuer", "token_use", "client", "expired", "not_yet_valid", "revoked",
}

// firstSpecific is the index in reasonNames of reasonErrs[0].
const firstSpecific = 5

var reasonErrs = [...]error{
	cognitoguard.ErrMalformed, cognitoguard.ErrUnknownKey, cognitoguard.ErrSignature, cognitoguard.ErrIssuer,
	cognitoguard.ErrTokenUse, cognitoguard.ErrClient, cognitoguard.ErrExpired, cognitoguard.ErrNotYetValid, cognitoguard.ErrRevoked,
}

// reasonIndex returns the index in reasonNames of why err failed: 0 for
// nil, the specific check of an invalid token ("expired", …), else its
// class ("no_token", "invalid_token", "insufficient_scope",
// "unavailable").
func reasonIndex(err error) int {
	switch cognitoguard.Class(err) {
	case nil:
		return 0
	case cognitoguard.ErrNoToken:
		return 1
	case cognitoguard.ErrInsufficientScope:
		return 2
	case cognitoguard.ErrUnavailable:
		return 3
	}
	// Verify returns an *Error itself: no errors.As (nor its allocation).
	if e, ok := err.(*cognitoguard.Error); ok {
		for i, k := range reasonErrs {
			if e.Kind == k {
				return firstSpecific + i
			}
		}
	}
	for i, k := range reasonErrs {
		if errors.Is(err, k) {
			return firstSpecific + i
		}
	}
	return 4
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

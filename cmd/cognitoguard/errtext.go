package main

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// describe words err as the command's own: the Cognito operation and its
// exception, or what Redis did, without the library's package prefixes
// and the SDK's request plumbing. The error classes are printed apart
// (see classes).
func describe(err error) string {
	var se *signout.Error
	if errors.As(err, &se) {
		var parts []string
		state := "NOT recorded in Redis"
		switch {
		case errors.Is(se.Store, revocation.ErrUnconfirmed):
			state = "recorded in Redis, not confirmed"
		case se.Recorded:
			state = "recorded in Redis"
		}
		parts = append(parts, "sign-out of "+se.Sub+" "+state)
		if se.Store != nil {
			parts = append(parts, storeText(se.Store))
		}
		if se.Cognito != nil {
			parts = append(parts, cognitoText(se.Cognito))
		}
		return strings.Join(parts, "; ")
	}
	var ce *signout.CognitoError
	if errors.As(err, &ce) {
		// The context the command added ("resolving …"), then Cognito's
		// answer.
		if outer, _, ok := strings.Cut(err.Error(), ce.Error()); ok && outer != "" {
			return outer + cognitoText(ce)
		}
		return cognitoText(ce)
	}
	return storeText(err)
}

// cognitoText is "Cognito OPERATION: EXCEPTION: message" for an answer of
// Cognito, "Cognito OPERATION: cause" for a transport failure.
func cognitoText(err error) string {
	var api smithy.APIError
	var op *smithy.OperationError
	b := "Cognito"
	if errors.As(err, &op) {
		b += " " + op.Operation()
	}
	switch {
	case errors.As(err, &api):
		return b + ": " + api.ErrorCode() + ": " + api.ErrorMessage()
	case op != nil:
		return b + ": " + trimPrefixes(op.Err.Error())
	}
	return b + ": " + trimPrefixes(err.Error())
}

// storeText words a store or connection error.
func storeText(err error) string {
	s := err.Error()
	if errors.Is(err, revocation.ErrUnavailable) {
		s = strings.Replace(s, revocation.ErrUnavailable.Error(), "Redis unavailable", 1)
	}
	return trimPrefixes(s)
}

// trimPrefixes drops the library's package prefixes from s.
func trimPrefixes(s string) string {
	for _, p := range []string{"signout: cognito: ", "signout: ", "revocation: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

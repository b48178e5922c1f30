package signout

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
)

// Errors of the sign-out helper ([Helper]). A failed sign-out returns a
// [*Error] that matches [ErrStore] when the local record could not
// be written and [ErrCognito] when the Cognito call failed (both, when
// both failed). A Cognito failure also matches the sentinel of its
// exception, if it is one of those below, and keeps the SDK error
// reachable with errors.As (for example *types.NotAuthorizedException or
// smithy.APIError).
//
// A token that does not verify is not a sign-out failure: it is returned
// as the [cognitoguard.Error] of the Authenticator (errors.Is(err,
// cognitoguard.ErrInvalidToken), …), and nothing was recorded or called.
var (
	// ErrStore: the sign-out could not be recorded in the revocation store,
	// or was recorded but not confirmed as configured ([revocation.ErrUnconfirmed]:
	// replicas or instances missing). The signed-out tokens may still be
	// accepted by this library somewhere: retry.
	ErrStore = errors.New("signout: sign-out not recorded in the store")

	// ErrCognito is the class of every failed Cognito call: an exception
	// answered by Cognito, a transport error or a timeout.
	ErrCognito = errors.New("signout: cognito call failed")

	// ErrNotAuthorized: NotAuthorizedException (bad or revoked access
	// token, missing scope aws.cognito.signin.user.admin, client
	// authentication failed, IAM caller not allowed).
	ErrNotAuthorized = errors.New("signout: cognito: not authorized")
	// ErrInvalidParameter: InvalidParameterException.
	ErrInvalidParameter = errors.New("signout: cognito: invalid parameter")
	// ErrResourceNotFound: ResourceNotFoundException (unknown user pool or
	// app client).
	ErrResourceNotFound = errors.New("signout: cognito: resource not found")
	// ErrTooManyRequests: TooManyRequestsException (throttled; retry
	// later with backoff).
	ErrTooManyRequests = errors.New("signout: cognito: too many requests")
	// ErrUserNotFound: UserNotFoundException.
	ErrUserNotFound = errors.New("signout: cognito: user not found")
	// ErrCognitoInternal: InternalErrorException (a Cognito fault; retry).
	ErrCognitoInternal = errors.New("signout: cognito: internal error")
)

// CognitoError is a failed Cognito call, as returned by [MapCognitoError].
// It matches [ErrCognito] and, when the exception is one the sign-out
// calls document, Kind ([ErrNotAuthorized], …). Err is the SDK's error,
// reachable through Unwrap.
type CognitoError struct {
	// Kind is one of ErrNotAuthorized, ErrInvalidParameter,
	// ErrResourceNotFound, ErrTooManyRequests, ErrUserNotFound,
	// ErrCognitoInternal, or nil for any other failure (another
	// exception, a network error, a timeout).
	Kind error
	// Err is the error returned by the SDK.
	Err error
}

func (e *CognitoError) Error() string {
	if e.Err == nil {
		return ErrCognito.Error()
	}
	return "signout: cognito: " + e.Err.Error()
}

// Is reports whether target is [ErrCognito] or e's Kind.
func (e *CognitoError) Is(target error) bool {
	return target == ErrCognito || (e.Kind != nil && target == e.Kind)
}

// Unwrap returns the SDK error.
func (e *CognitoError) Unwrap() error { return e.Err }

// exceptionKinds maps the exception names (smithy error codes) of the
// sign-out calls to their sentinels.
var exceptionKinds = map[string]error{
	"NotAuthorizedException":      ErrNotAuthorized,
	"InvalidParameterException":   ErrInvalidParameter,
	"ResourceNotFoundException":   ErrResourceNotFound,
	"TooManyRequestsException":    ErrTooManyRequests,
	"UserNotFoundException":       ErrUserNotFound,
	"InternalErrorException":      ErrCognitoInternal,
	"InternalServerException":     ErrCognitoInternal,
	"InternalFailure":             ErrCognitoInternal,
	"ServiceUnavailable":          ErrCognitoInternal,
	"ServiceUnavailableException": ErrCognitoInternal,
}

// MapCognitoError classifies an error returned by a Cognito user pool
// call of aws-sdk-go-v2: the result matches [ErrCognito] and the sentinel
// of its exception (*types.NotAuthorizedException → [ErrNotAuthorized],
// and so on, recognised by type and, failing that, by the smithy
// ErrorCode, with or without a "#"-qualified prefix). The SDK error stays
// reachable through errors.As. MapCognitoError(nil) is nil, and an error
// that already is a [*CognitoError] is returned unchanged. It never
// panics, whatever the error holds.
func MapCognitoError(err error) error {
	if err == nil {
		return nil
	}
	var ce *CognitoError
	if errors.As(err, &ce) {
		return err
	}
	return &CognitoError{Kind: cognitoKind(err), Err: err}
}

func cognitoKind(err error) error {
	var (
		notAuth  *types.NotAuthorizedException
		invalid  *types.InvalidParameterException
		notFound *types.ResourceNotFoundException
		tooMany  *types.TooManyRequestsException
		noUser   *types.UserNotFoundException
		internal *types.InternalErrorException
	)
	switch {
	case errors.As(err, &notAuth):
		return ErrNotAuthorized
	case errors.As(err, &invalid):
		return ErrInvalidParameter
	case errors.As(err, &notFound):
		return ErrResourceNotFound
	case errors.As(err, &tooMany):
		return ErrTooManyRequests
	case errors.As(err, &noUser):
		return ErrUserNotFound
	case errors.As(err, &internal):
		return ErrCognitoInternal
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		if i := strings.LastIndexByte(code, '#'); i >= 0 {
			code = code[i+1:]
		}
		if i := strings.IndexByte(code, ':'); i >= 0 {
			code = code[:i]
		}
		return exceptionKinds[code]
	}
	return nil
}

// tokenRevoked reports whether err is Cognito's answer to a token it has
// already revoked: NotAuthorizedException "Access Token has been revoked".
func tokenRevoked(err error) bool {
	if !errors.Is(err, ErrNotAuthorized) {
		return false
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	return strings.Contains(strings.ToLower(api.ErrorMessage()), "has been revoked")
}

// Error is the error of a sign-out whose store write or Cognito
// call failed. Both steps are always attempted, so both may have failed.
// It matches [ErrStore] when Store is set, and whatever Cognito matches
// ([ErrCognito], [ErrNotAuthorized], …); Unwrap returns both causes.
type Error struct {
	// Op is the helper method: "GlobalSignOut", "RevokeSession",
	// "AdminSignOut", "AdminDisableUser", "AdminDeleteUser" or
	// "RevokeClient".
	Op string
	// Sub is the user whose sign-out failed (for "RevokeClient", the
	// app client ID).
	Sub string
	// Recorded reports whether the local sign-out record is in place
	// (written by this call or, for a retry, by an earlier one): the
	// user's tokens are already rejected by every Verifier sharing the
	// store, even though the sign-out as a whole failed. A Store error
	// matching [revocation.ErrUnconfirmed] leaves it false although the record is in
	// Redis: its confirmation (replicas, instances) is what failed.
	Recorded bool
	// Store is the store's error, nil if the record was written.
	Store error
	// Cognito is a [*CognitoError], nil if the Cognito call succeeded.
	Cognito error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("signout: ")
	b.WriteString(e.Op)
	b.WriteString(" of ")
	b.WriteString(e.Sub)
	if e.Recorded {
		b.WriteString(" (recorded)")
	} else {
		b.WriteString(" (not recorded)")
	}
	if e.Store != nil {
		b.WriteString(": store: ")
		b.WriteString(e.Store.Error())
	}
	if e.Cognito != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Cognito.Error(), "signout: "))
	}
	return b.String()
}

// Is reports whether target is [ErrStore] and the store write failed.
// The Cognito classes are matched through Unwrap.
func (e *Error) Is(target error) bool {
	return target == ErrStore && e.Store != nil
}

// Unwrap returns the store error and the Cognito error that are set.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Store != nil {
		errs = append(errs, e.Store)
	}
	if e.Cognito != nil {
		errs = append(errs, e.Cognito)
	}
	return errs
}

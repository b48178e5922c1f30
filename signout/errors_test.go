package signout_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognitoguard/cognitoguard/signout"
)

func TestMapCognitoError(t *testing.T) {
	msg := aws.String("m")
	opErr := func(err error) error {
		return &smithy.OperationError{ServiceID: "Cognito Identity Provider", OperationName: "GlobalSignOut", Err: err}
	}
	generic := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	tests := []struct {
		name string
		err  error
		want error // nil: ErrCognito only
	}{
		{"NotAuthorizedException", opErr(&types.NotAuthorizedException{Message: msg}), signout.ErrNotAuthorized},
		{"InvalidParameterException", opErr(&types.InvalidParameterException{Message: msg}), signout.ErrInvalidParameter},
		{"ResourceNotFoundException", opErr(&types.ResourceNotFoundException{Message: msg}), signout.ErrResourceNotFound},
		{"TooManyRequestsException", opErr(&types.TooManyRequestsException{Message: msg}), signout.ErrTooManyRequests},
		{"UserNotFoundException", opErr(&types.UserNotFoundException{Message: msg}), signout.ErrUserNotFound},
		{"InternalErrorException", opErr(&types.InternalErrorException{Message: msg}), signout.ErrCognitoInternal},
		{"typed, unwrapped", &types.UserNotFoundException{}, signout.ErrUserNotFound},
		{"generic code", opErr(generic("TooManyRequestsException")), signout.ErrTooManyRequests},
		{"generic qualified code", opErr(generic("com.amazonaws.cognito#UserNotFoundException")), signout.ErrUserNotFound},
		{"generic code with suffix", opErr(generic("NotAuthorizedException:http://internal.amazon.com/")), signout.ErrNotAuthorized},
		{"generic internal", generic("InternalErrorException"), signout.ErrCognitoInternal},
		{"unmodelled exception", opErr(&types.UnsupportedTokenTypeException{Message: msg}), nil},
		{"unknown code", opErr(generic("SomethingNewException")), nil},
		{"empty code", opErr(generic("")), nil},
		{"timeout", opErr(context.DeadlineExceeded), nil},
		{"plain error", errors.New("connection refused"), nil},
	}
	kinds := []error{signout.ErrNotAuthorized, signout.ErrInvalidParameter, signout.ErrResourceNotFound,
		signout.ErrTooManyRequests, signout.ErrUserNotFound, signout.ErrCognitoInternal}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := signout.MapCognitoError(tc.err)
			if !errors.Is(got, signout.ErrCognito) {
				t.Errorf("%v does not match ErrCognito", got)
			}
			for _, k := range kinds {
				if errors.Is(got, k) != (k == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, k, !(k == tc.want))
				}
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("the SDK error is not reachable from %v", got)
			}
			if errors.Is(got, signout.ErrStore) {
				t.Errorf("%v matches ErrStore", got)
			}
			if again := signout.MapCognitoError(got); again != got {
				t.Errorf("mapping twice changed %v into %v", got, again)
			}
			if wrapped := fmt.Errorf("ctx: %w", got); signout.MapCognitoError(wrapped) != wrapped {
				t.Error("a wrapped CognitoError was mapped again")
			}
		})
	}
	if signout.MapCognitoError(nil) != nil {
		t.Error("MapCognitoError(nil) != nil")
	}
}

func TestSignOutError(t *testing.T) {
	storeErr := errors.New("redis: connection refused")
	cog := signout.MapCognitoError(&types.TooManyRequestsException{Message: aws.String("Rate exceeded")})
	tests := []struct {
		name      string
		err       *signout.Error
		is, isNot []error
		text      string
	}{
		{"store", &signout.Error{Op: "GlobalSignOut", Sub: "s1", Store: storeErr},
			[]error{signout.ErrStore, storeErr}, []error{signout.ErrCognito},
			"signout: GlobalSignOut of s1 (not recorded): store: redis: connection refused"},
		{"cognito", &signout.Error{Op: "AdminSignOut", Sub: "s2", Recorded: true, Cognito: cog},
			[]error{signout.ErrCognito, signout.ErrTooManyRequests}, []error{signout.ErrStore, signout.ErrNotAuthorized},
			"signout: AdminSignOut of s2 (recorded): cognito: TooManyRequestsException: Rate exceeded"},
		{"both", &signout.Error{Op: "RevokeSession", Sub: "s3", Store: storeErr, Cognito: cog},
			[]error{signout.ErrStore, storeErr, signout.ErrCognito, signout.ErrTooManyRequests}, nil,
			"signout: RevokeSession of s3 (not recorded): store: redis: connection refused: cognito: TooManyRequestsException: Rate exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range tc.is {
				if !errors.Is(tc.err, target) {
					t.Errorf("errors.Is(%v, %v) = false", tc.err, target)
				}
			}
			for _, target := range tc.isNot {
				if errors.Is(tc.err, target) {
					t.Errorf("errors.Is(%v, %v) = true", tc.err, target)
				}
			}
			if got := tc.err.Error(); got != tc.text {
				t.Errorf("Error() = %q, want %q", got, tc.text)
			}
		})
	}
}

// FuzzMapCognitoError feeds arbitrary error responses (status, error type
// header, body) to the real SDK and checks that every resulting error is
// classified without panicking: it matches ErrCognito, keeps the SDK error,
// and a sentinel only when the reported code names it.
func FuzzMapCognitoError(f *testing.F) {
	f.Add(400, "NotAuthorizedException", `{"__type":"NotAuthorizedException","message":"Access Token has been revoked"}`)
	f.Add(400, "", `{"__type":"com.amazonaws.cognito#UserNotFoundException","message":"User does not exist."}`)
	f.Add(500, "InternalErrorException:http://internal.amazon.com/", `{}`)
	f.Add(400, "", `{"code":"TooManyRequestsException"}`)
	f.Add(503, "", `<html>`)
	f.Add(400, "", `{"__type":null,"message":7}`)
	f.Add(429, "ThrottlingException", "")

	var (
		mu     sync.Mutex
		status int
		etype  string
		body   string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s, e, b := status, etype, body
		mu.Unlock()
		if e != "" {
			w.Header().Set("X-Amzn-ErrorType", e)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(s)
		_, _ = w.Write([]byte(b))
	}))
	f.Cleanup(srv.Close)
	client := cip.New(cip.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("x", "x", ""),
		RetryMaxAttempts: 1,
	})

	f.Fuzz(func(t *testing.T, st int, et, b string) {
		if st < 400 || st > 599 || strings.ContainsAny(et, "\r\n\x00") || len(b) > 1<<16 {
			t.Skip()
		}
		mu.Lock()
		status, etype, body = st, et, b
		mu.Unlock()
		_, sdkErr := client.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: aws.String("t")})
		if sdkErr == nil {
			t.Fatalf("status %d gave no error", st)
		}
		err := signout.MapCognitoError(sdkErr)
		if !errors.Is(err, signout.ErrCognito) || !errors.Is(err, sdkErr) {
			t.Fatalf("MapCognitoError(%v) = %v", sdkErr, err)
		}
		_ = err.Error()
		var api smithy.APIError
		var ce *signout.CognitoError
		if !errors.As(err, &ce) {
			t.Fatalf("%v is not a *CognitoError", err)
		}
		if ce.Kind != nil && !errors.As(sdkErr, &api) {
			t.Fatalf("kind %v without an API error code: %v", ce.Kind, sdkErr)
		}
	})
}

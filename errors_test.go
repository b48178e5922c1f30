package cognitoguard_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cognitoguard/cognitoguard"
)

func TestClass(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{nil, nil},
		{cognitoguard.ErrNoToken, cognitoguard.ErrNoToken},
		{cognitoguard.ErrExpired, cognitoguard.ErrInvalidToken},
		{fmt.Errorf("wrapped: %w", cognitoguard.ErrRevoked), cognitoguard.ErrInvalidToken},
		{fmt.Errorf("wrapped: %w", cognitoguard.ErrMalformed), cognitoguard.ErrInvalidToken},
		{cognitoguard.ErrInvalidToken, cognitoguard.ErrInvalidToken},
		{&cognitoguard.Error{Kind: cognitoguard.ErrSignature}, cognitoguard.ErrInvalidToken},
		{&cognitoguard.Error{Kind: cognitoguard.ErrInsufficientScope}, cognitoguard.ErrInsufficientScope},
		{fmt.Errorf("x: %w", cognitoguard.ErrUnavailable), cognitoguard.ErrUnavailable},
		{errors.New("something unknown"), cognitoguard.ErrUnavailable},
	}
	for _, tt := range tests {
		if got := cognitoguard.Class(tt.err); got != tt.want {
			t.Errorf("Class(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	e := &cognitoguard.Error{Kind: cognitoguard.ErrExpired, Reason: "exp 2026", Err: errors.New("cause")}
	if !errors.Is(e, cognitoguard.ErrExpired) || !errors.Is(e, cognitoguard.ErrInvalidToken) || errors.Is(e, cognitoguard.ErrUnavailable) {
		t.Fatal("Error.Is does not match its kind and class only")
	}
	if got := e.Error(); got != "cognitoguard: token expired: exp 2026: cause" {
		t.Fatalf("Error() = %q", got)
	}
}

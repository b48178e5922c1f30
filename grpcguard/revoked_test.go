package grpcguard

import (
	"fmt"
	"testing"

	"github.com/cognitoguard/cognitoguard"
)

// TestInvalidTextRevoked: a revoked token's message is Cognito's wording
// for its token use.
func TestInvalidTextRevoked(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&cognitoguard.Error{Kind: cognitoguard.ErrRevoked, TokenUse: cognitoguard.TokenUseAccess}, "Access Token has been revoked"},
		{&cognitoguard.Error{Kind: cognitoguard.ErrRevoked, TokenUse: cognitoguard.TokenUseID}, "Token has been revoked"},
		{fmt.Errorf("wrapped: %w", &cognitoguard.Error{Kind: cognitoguard.ErrRevoked, TokenUse: cognitoguard.TokenUseID}), "Token has been revoked"},
		{cognitoguard.ErrRevoked, "Access Token has been revoked"},
		{&cognitoguard.Error{Kind: cognitoguard.ErrExpired, TokenUse: cognitoguard.TokenUseID}, "token expired"},
	} {
		if got := invalidText(tc.err); got != tc.want {
			t.Errorf("invalidText(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

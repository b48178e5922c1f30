package wording

import (
	"fmt"
	"testing"

	"github.com/cognitoguard/cognitoguard"
)

// TestInvalid: a revoked token's message is Cognito's wording
// for its token use.
func TestInvalid(t *testing.T) {
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
		if got := Invalid(tc.err); got != tc.want {
			t.Errorf("Invalid(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

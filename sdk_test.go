package cognitoguard_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// newSDK returns the real AWS SDK client pointed at the fake pool.
func newSDK(t *testing.T, p *cognitotest.Pool) *cip.Client {
	t.Helper()
	return p.Client()
}

type sdkTokens struct{ access, id, refresh string }

func signIn(t *testing.T, api *cip.Client, p *cognitotest.Pool, user, password, client string) sdkTokens {
	t.Helper()
	out, err := api.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(client),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password},
	})
	if err != nil {
		t.Fatalf("sign in %s: %v", user, err)
	}
	r := out.AuthenticationResult
	return sdkTokens{aws.ToString(r.AccessToken), aws.ToString(r.IdToken), aws.ToString(r.RefreshToken)}
}

func refresh(t *testing.T, api *cip.Client, refreshToken, client string) (sdkTokens, error) {
	t.Helper()
	out, err := api.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(client),
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
	})
	if err != nil {
		return sdkTokens{}, err
	}
	r := out.AuthenticationResult
	return sdkTokens{aws.ToString(r.AccessToken), aws.ToString(r.IdToken), refreshToken}, nil
}

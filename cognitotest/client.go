package cognitotest

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// Client returns the real AWS SDK Cognito client pointed at the pool:
// region us-east-1, BaseEndpoint [Pool.URL], static dummy credentials (the
// pool checks none) and a single attempt per call (RetryMaxAttempts 1), so
// that an injected failure ([Pool.FailNext]) surfaces at once. optFns
// adjust the options, for instance to restore the SDK's retries.
func (p *Pool) Client(optFns ...func(*cognitoidentityprovider.Options)) *cognitoidentityprovider.Client {
	return cognitoidentityprovider.New(cognitoidentityprovider.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(p.url),
		Credentials:      credentials.NewStaticCredentialsProvider("cognitotest", "cognitotest", ""),
		RetryMaxAttempts: 1,
	}, optFns...)
}

module github.com/cognitoguard/cognitoguard/connectguard

go 1.25.0

replace github.com/cognitoguard/cognitoguard => ../

require (
	connectrpc.com/connect v1.21.0
	github.com/cognitoguard/cognitoguard v0.0.0-00010101000000-000000000000
)

require (
	github.com/aws/aws-sdk-go-v2 v1.47.7 // indirect
	github.com/aws/aws-sdk-go-v2/credentials v1.20.15 // indirect
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.10 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.10 // indirect
	github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider v1.61.0 // indirect
	github.com/aws/smithy-go v1.28.8 // indirect
	google.golang.org/protobuf v1.36.11
)

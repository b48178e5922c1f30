// Package cognitolocal holds the independent-issuer suite: tests that run
// the Verifier and the sign-out helper against cognito-local (npm,
// pinned 5.3.0), an emulator of Amazon Cognito written by other people,
// through the real aws-sdk-go-v2 client. Tokens minted by a second
// implementation catch what a suite that only checks its own fake
// (package cognitotest) cannot: a shared misreading of the token format.
//
// # Running
//
// The tests look for the package in $COGNITO_LOCAL_DIR (a directory
// holding node_modules/cognito-local), else in
// $HOME/.cache/cognitoguard/cognito-local. To install it there:
//
//	mkdir -p ~/.cache/cognitoguard/cognito-local
//	cd ~/.cache/cognitoguard/cognito-local
//	npm init -y >/dev/null && npm install cognito-local@5.3.0
//
// Each test starts its own emulator in a temporary directory on a free
// port of 127.0.0.1 and stops it (its whole process group) when it ends.
// Without node or the package the tests are skipped, unless
// COGNITOGUARD_INTEGRATION=1, which makes that a failure.
//
// # What cognito-local differs in
//
// It signs every pool with one static key (kid "CognitoLocal"), so only
// the iss check separates pools; its tokens carry no origin_jti nor
// version; it answers GlobalSignOut and AdminUserGlobalSignOut with HTTP
// 500 CognitoLocal#Unsupported, which the SDK would retry three times
// (the client here is built with RetryMaxAttempts 1).
//
// The package has no non-test code.
package cognitolocal

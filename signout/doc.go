// Package signout signs Amazon Cognito users out in both places that
// matter: the revocation store shared by the services' Verifiers (package
// revocation), which makes every service reject the user's unexpired
// access and ID tokens at once, and Cognito, which revokes the refresh
// tokens. Cognito alone is not enough: every API other than Cognito's own
// keeps accepting a signed-out user's tokens until they expire.
//
// This package is the one that imports the AWS SDK; package revocation,
// which only stores and answers sign-outs, does not.
//
// # Quick start
//
//	client := cognitoidentityprovider.NewFromConfig(awsCfg)
//	so, err := signout.New(client, verifier, store, signout.Config{})
//	if err != nil {
//		return err
//	}
//	mux.Handle("POST /logout", signout.NewLogoutHandler(so, signout.LogoutConfig{}))
//
// # What it offers
//
//   - [Helper]: GlobalSignOut (the user's own access token), RevokeSession
//     (one sign-in, by its refresh token), and with IAM credentials
//     AdminSignOut, AdminDisableUser and AdminDeleteUser (by username).
//     Each records first, then calls Cognito; any failure is a typed error
//     ([Error], [CognitoError]) and a retry is safe. RevokeClient revokes
//     every token issued to an app client so far (a leaked M2M secret);
//     Cognito has no such call, so it only records. A client-credentials
//     token cannot sign out ([ErrNotUserToken]).
//   - [NewLogoutHandler]: the HTTP "sign out" route of a web app or API.
//   - [LogoutURL]: the hosted UI (managed login) logout address, the only
//     way to end that session's cookie.
//   - [MapCognitoError]: the classes of the Cognito exceptions.
package signout

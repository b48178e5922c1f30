// Package events honours sign-outs made through Cognito's API anywhere:
// the single-page app's GlobalSignOut (Amplify signOut({global: true})),
// the console's "Sign out user" and "Disable user", other backends'
// AdminUserGlobalSignOut, a user's DeleteUser. Cognito records every
// user-pool call in CloudTrail; an EventBridge rule delivers those records
// to a queue (SQS), and a [Consumer] records each sign-out through the
// same Recorder as package signout's helper (the revocation store), keyed
// (pool ID, sub), at T = the event's eventTime, never its arrival time.
//
// This package is the transport-free core: decoding, policy, attribution,
// and a consumer loop over a small [Queue] interface, with an in-process
// [MemQueue]. The SQS queue, the Lambda handler, backfill through
// CloudTrail LookupEvents and the CloudFormation template live in the
// awsevents module.
//
// # Quick start
//
//	c, err := events.New(store, []events.Pool{{ID: "eu-west-1_AbCdEf123"}}, events.Config{Logger: logger})
//	if err != nil {
//		return err
//	}
//	return c.Run(ctx, queue) // until ctx is done
//
// # Policy
//
// Always honoured: GlobalSignOut, AdminUserGlobalSignOut, AdminDisableUser,
// AdminDeleteUser, DeleteUser. With [Config.Passwords]: ChangePassword,
// ConfirmForgotPassword, AdminSetUserPassword, AdminResetUserPassword.
// With [Config.Sessions]: RevokeToken, RevokeUserSession,
// AdminRevokeUserSession, as a sign-out of the whole user (the record
// hides the token). A failed call (errorCode not empty) signs nobody out.
// Not covered, because Cognito's records cannot tell whom they concern or
// there is no record at all: /oauth2/revoke (a hosted-UI service event
// with the token hidden), session-limit evictions, upstream identity
// provider sign-outs, and the hosted-UI /logout (which revokes no token).
//
// # Attribution
//
// The pool is requestParameters.userPoolId (Admin calls) or a user pool
// ARN among the resources. Without either (GlobalSignOut, DeleteUser and
// the other token-authorised calls), the sub is recorded under every
// configured pool whose home or replica region is the event's awsRegion:
// subs are UUIDs, so a record under the wrong pool matches nobody.
// Events of pools not configured are acknowledged and counted, never
// recorded.
//
// # Time
//
// T is eventTime, whole seconds. Tokens are revoked when their auth_time
// is at or before T, so a sign-in within the same second as the sign-out
// is rejected too (safe: the user signs in again). An eventTime more than
// [MaxFuture] (5 minutes) ahead of [Config.Now] is malformed; one older
// than the record TTL is acknowledged as [Expired]. The store keeps the
// latest T of a user, so a later sign-out recorded by the helper survives
// an older event arriving late.
//
// # Nothing lost, nothing silent
//
// A message is deleted only once its record is durable (the Recorder
// returned nil). While the store fails, [Consumer.Run] stops receiving,
// keeps the messages in hand hidden by extending their visibility, and
// retries with backoff: an outage consumes no receive counts, so no valid
// sign-out reaches the dead-letter queue however long it lasts. A
// malformed message (unparsable, or an honoured event without a sub) is
// logged at Error, counted, and left for the queue's redrive policy.
// Duplicates and redeliveries are harmless; several consumers may share a
// queue. Every message's [Result] goes to [Config.OnEvent] (the otelguard
// module counts them by outcome and records the lag, now − eventTime);
// [Consumer.OldestUnapplied] reports the age of the oldest event in hand.
//
// # Security
//
// Whoever can send messages to the queue can sign users out (never in):
// grant SendMessage only to the EventBridge rule.
package events

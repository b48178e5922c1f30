// Package awsevents is the AWS side of cognitoguard's consumer of sign-outs
// made elsewhere (package [events] of the root module): the SQS queue the
// EventBridge rule fills ([SQS]), the Lambda handler ([NewHandler]), the
// CloudTrail backfill ([Backfill]) and the CloudFormation template that
// deploys the pipeline ([Template]). The command
// awsevents/cmd/cognitoguard-events runs it.
//
// It is a module of its own so that the root module never requires the
// SQS, CloudTrail or Lambda packages of the AWS SDK.
//
// # Pipeline
//
// Every Cognito user-pool API call is a CloudTrail management event. With a
// trail logging, an EventBridge rule (source aws.cognito-idp, detail-type
// "AWS API Call via CloudTrail", the honoured event names, no errorCode)
// sends them to an SQS queue with a redrive policy; the consumer long-polls
// it and records each sign-out (pool ID, sub, T = eventTime) through the
// same store the services read. A message is deleted only once its record
// is durable; a store outage stops receiving and keeps the messages in
// hand hidden, so that no valid sign-out reaches the dead-letter queue.
//
// # Security
//
// SendMessage rights on the queue are sign-out rights: the template's queue
// policy lets only events.amazonaws.com, from its own rule, send. The
// consumer needs sqs:ReceiveMessage, sqs:DeleteMessage,
// sqs:ChangeMessageVisibility, sqs:GetQueueAttributes and
// cloudtrail:LookupEvents, nothing else.
package awsevents

package awsevents

import _ "embed"

// Template is the CloudFormation template (JSON) of the pipeline, also in
// template/cognitoguard-events.json. Deployed in the user pool's home
// region (parameter HomeRegion) it creates a multi-Region trail (unless
// CreateTrail is false), the EventBridge rule of the honoured Cognito
// calls with its own dead-letter queue and retry policy, the SQS queue
// with its redrive policy and dead-letter queue, a queue policy that lets
// only events.amazonaws.com send, and only from that rule, and the
// consumer's managed IAM policy (exactly the operations it calls).
// Deployed in a replica region with the same HomeRegion, it creates only
// a rule forwarding the same events to the home region's default event
// bus. The rule drops failed calls (a non-empty errorCode).
//
//go:embed template/cognitoguard-events.json
var Template []byte

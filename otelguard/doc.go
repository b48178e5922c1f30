// Package otelguard records OpenTelemetry metrics and traces of
// cognitoguard. It is a separate module, so that the core's dependencies
// stay as they are, as go-redis keeps redisotel apart.
//
//	tel, err := otelguard.New(otelguard.Config{}) // the global providers
//	v, err := cognitoguard.New(pools, cognitoguard.Config{
//		Revocation: store,
//		OnVerify:   tel.OnVerify,
//	})
//	tel.ObserveVerifier(v)   // key fetchers: fetches, failures, keys, age
//	tel.ObserveRedis(store)  // revocation view: size, trust, freshness, data losses
//	so, err := signout.New(tel.Cognito(api), v, tel.Recorder(store), cfg) // Cognito calls; sign-outs recorded / unconfirmed / failed
//	onEvent, err := tel.Events() // events.Config{OnEvent: onEvent}: sign-out events by outcome, lag
//	tel.ObserveEvents(consumer)  // events received and not yet applied, oldest's age
//	defer tel.Close()        // unregisters the Observe callbacks
//
// # Metrics
//
// Synchronous, recorded on the verifying goroutine by [Telemetry.OnVerify]:
//
//	cognitoguard.verifications          counter    outcome, reason, token_use, operation
//	cognitoguard.verification.duration  histogram  seconds; outcome, operation, cached
//	cognitoguard.cache.hits             counter    answered from the token cache
//	cognitoguard.signouts               counter    signout.scope, signout.outcome ([Telemetry.Recorder])
//	cognitoguard.cognito.calls          counter    cognito.operation, cognito.outcome ([Telemetry.Cognito])
//	cognitoguard.events                 counter    event.outcome, event.name ([Telemetry.Events])
//	cognitoguard.events.lag             histogram  seconds from eventTime; event.outcome
//
// The outcome is "accepted" or the class of the error (no_token,
// invalid_token, insufficient_scope, unavailable); the reason names the
// failed check of an invalid token (malformed, unknown_key, signature,
// issuer, token_use, client, expired, not_yet_valid, revoked). Every
// attribute takes its value from a small fixed set: no token, claim or
// user appears in a metric.
//
// Asynchronous, read from the Verifier and the stores at each collection:
// cognitoguard.jwks.* ([Telemetry.ObserveVerifier]),
// cognitoguard.revocation.* ([Telemetry.ObserveRedis],
// [Telemetry.ObserveMemory]), cognitoguard.events.unapplied and
// .oldest_unapplied ([Telemetry.ObserveEvents]).
//
// # Traces
//
// When the context of a verification carries a recording span (a request
// traced by otelhttp, say), OnVerify adds a child span
// "cognitoguard.Verify" (or "cognitoguard.Authenticate") covering the
// call, with the outcome, reason and cached attributes and, for an
// accepted token, its token use, user pool ID and issuer. It never starts
// a trace of its own, and never records the token, its claims or the
// error text; the sub only with [Config.RecordSubject]. Its status is
// Error only when the verification was unavailable (a fault of the
// service or its dependencies), not for a client's bad token.
//
// # Cost
//
// OnVerify reads the clock once per call only when it records a span; the
// attribute sets are built once and reused. A nil OnVerify costs the core
// nothing.
package otelguard

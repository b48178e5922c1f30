package otelguard

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/signout"
)

// Recorder returns the sign-out helper's [signout.Recorder] rec counting its sign-out records in the counter
// cognitoguard.signouts, by cognitoguard.signout.scope (user for
// RevokeUser, session for RevokeSession, client for RevokeClient) and cognitoguard.signout.outcome:
// recorded, unconfirmed (the error matches [revocation.ErrUnconfirmed]:
// recorded, but not on the replicas or instances configured) or failed.
// Give the result to the sign-out helper in place of the store; the
// Verifier keeps the store itself. SignedOutAt is passed through. When rec
// also records retried sign-outs in one write (RevokeUserSince, as the
// stores of package revocation do), so does the result, counted as a user
// sign-out. The result is a [signout.ClientRecorder]: its RevokeClient
// records through rec, or fails with [signout.ErrNoClientRecorder] when rec
// cannot record app-client revocations.
func (t *Telemetry) Recorder(rec signout.Recorder) signout.Recorder {
	r := &recorder{rec: rec, t: t}
	if s, ok := rec.(sinceRecorder); ok {
		return &recorderSince{recorder: r, since: s}
	}
	return r
}

// sinceRecorder is the optional one-write retry of a sign-out
// (signout.SinceRecorder).
type sinceRecorder interface {
	RevokeUserSince(ctx context.Context, poolID, sub string, since, at time.Time) (time.Time, bool, error)
}

type recorderSince struct {
	*recorder
	since sinceRecorder
}

func (r *recorderSince) RevokeUserSince(ctx context.Context, poolID, sub string, since, at time.Time) (time.Time, bool, error) {
	got, kept, err := r.since.RevokeUserSince(ctx, poolID, sub, since, at)
	r.count(ctx, "user", err)
	return got, kept, err
}

// Sign-out attribute keys.
const (
	AttrSignOutScope   = attribute.Key("cognitoguard.signout.scope")   // user, session or client
	AttrSignOutOutcome = attribute.Key("cognitoguard.signout.outcome") // recorded, unconfirmed or failed
)

var signOutSets = func() (m map[[2]string]metric.AddOption) {
	m = make(map[[2]string]metric.AddOption)
	for _, scope := range []string{"user", "session", "client"} {
		for _, outcome := range []string{"recorded", "unconfirmed", "failed"} {
			m[[2]string{scope, outcome}] = metric.WithAttributeSet(attribute.NewSet(
				AttrSignOutScope.String(scope), AttrSignOutOutcome.String(outcome)))
		}
	}
	return m
}()

type recorder struct {
	rec signout.Recorder
	t   *Telemetry
}

func (r *recorder) RevokeUser(ctx context.Context, poolID, sub string, at time.Time) error {
	err := r.rec.RevokeUser(ctx, poolID, sub, at)
	r.count(ctx, "user", err)
	return err
}

func (r *recorder) RevokeSession(ctx context.Context, poolID, sub, originJTI string, at time.Time) error {
	err := r.rec.RevokeSession(ctx, poolID, sub, originJTI, at)
	r.count(ctx, "session", err)
	return err
}

func (r *recorder) RevokeClient(ctx context.Context, poolID, clientID string, at time.Time) error {
	cr, ok := r.rec.(signout.ClientRecorder)
	if !ok {
		return signout.ErrNoClientRecorder
	}
	err := cr.RevokeClient(ctx, poolID, clientID, at)
	r.count(ctx, "client", err)
	return err
}

func (r *recorder) SignedOutAt(ctx context.Context, poolID, sub string) (time.Time, bool, error) {
	return r.rec.SignedOutAt(ctx, poolID, sub)
}

func (r *recorder) count(ctx context.Context, scope string, err error) {
	outcome := "recorded"
	switch {
	case errors.Is(err, revocation.ErrUnconfirmed):
		outcome = "unconfirmed"
	case err != nil:
		outcome = "failed"
	}
	r.t.signOuts.Add(ctx, 1, signOutSets[[2]string{scope, outcome}])
}

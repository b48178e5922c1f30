package cognitoguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognitoguard/cognitoguard/jwks"
)

// Ready reports whether v can verify tokens now: the keys of each pool's
// home issuer are in memory (fetched now, under ctx, when none are), and
// the revocation store, if it has a Ready(ctx) error method, is ready
// (trusted). Other issuers are never fetched here: a pool may not be
// reachable through them. The error matches [ErrUnavailable]. Ready is
// safe for concurrent use; readiness probes may call it on every request.
func (v *Verifier) Ready(ctx context.Context) error {
	for i, k := range v.home {
		s, ok := k.(*jwks.Set)
		if !ok || s.Stats().Keys > 0 {
			continue
		}
		if err := s.Refresh(ctx); err != nil {
			return newError(ErrUnavailable, fmt.Sprintf("keys of pool %s", v.poolIDs[i]), err)
		}
	}
	if r, ok := v.rev.(interface{ Ready(context.Context) error }); ok {
		if err := r.Ready(ctx); err != nil {
			return newError(ErrUnavailable, "revocation store", err)
		}
	}
	return nil
}

// WarmUp calls [Verifier.Ready] until it succeeds or ctx ends, waiting
// between attempts with an exponential backoff (250 ms doubling up to
// 10 s) and logging each failure at Warn. It returns nil once ready, else
// the last error joined with ctx's.
func (v *Verifier) WarmUp(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	for {
		err := v.Ready(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		v.log.LogAttrs(ctx, slog.LevelWarn, "cognitoguard: not ready yet",
			slog.String("error", err.Error()), slog.String("retry_in", backoff.String()))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// KeyStats returns the counters of the key fetchers v created, by issuer
// (issuers served by a [Pool.Keys] source are absent).
func (v *Verifier) KeyStats() map[string]jwks.Stats {
	out := make(map[string]jwks.Stats, len(v.issuers))
	for iss, is := range v.issuers {
		if s, ok := is.keys.(*jwks.Set); ok {
			out[iss] = s.Stats()
		}
	}
	return out
}

// Logger returns the logger of v's Config (a discarding one when none was
// set), so that the adapters built on v log where v does.
func (v *Verifier) Logger() *slog.Logger { return v.log }

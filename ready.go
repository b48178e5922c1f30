package cognitoguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognitoguard/cognitoguard/jwks"
)

// Readier is an optional interface of a [KeySource] and of a
// [RevocationChecker]: Ready reports whether it can answer now, and may do
// the work that makes it so (a key source fetching its keys), within ctx.
// [Verifier.Ready] calls it. [*jwks.Set] and the stores of package
// revocation implement it; a source without it is taken as ready.
type Readier interface {
	Ready(ctx context.Context) error
}

// KeyVersioner is an optional interface of a [KeySource]: KeysVersion
// returns a number that moves whenever the keys the source serves change.
// The Verifier then re-checks a cached token's key only after it moved,
// not on every request. [*jwks.Set] implements it; a source without it is
// asked for the key at every cache hit.
type KeyVersioner interface {
	KeysVersion() uint64
}

// KeyRefresher is an optional interface of a [KeySource]: Refresh fetches
// its keys now. [Verifier.Refresh] calls it; [*jwks.Set] implements it.
type KeyRefresher interface {
	Refresh(ctx context.Context) error
}

// keyStatser is a key source with the counters of package jwks, for
// [Verifier.KeyStats].
type keyStatser interface {
	Stats() jwks.Stats
}

// Ready reports whether v can verify tokens now: the key source of each
// pool's home issuer is ready (a [*jwks.Set] has keys in memory, fetched
// now, under ctx, when it has none; a custom [KeySource] is asked when it
// implements [Readier]), and so is the revocation store when it implements
// Readier. Other issuers are never fetched here: a pool may not be
// reachable through them. The error matches [ErrUnavailable]. Ready is
// safe for concurrent use; readiness probes may call it on every request.
func (v *Verifier) Ready(ctx context.Context) error {
	for i, k := range v.home {
		r, ok := k.(Readier)
		if !ok {
			continue
		}
		if err := r.Ready(ctx); err != nil {
			return newError(ErrUnavailable, fmt.Sprintf("keys of pool %s", v.poolIDs[i]), err)
		}
	}
	if r, ok := v.rev.(Readier); ok {
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

// KeyStats returns the counters of the key sources that keep them (the
// key fetchers v created, and any [Pool.Keys] source with a
// Stats() jwks.Stats method), by issuer; other issuers are absent.
func (v *Verifier) KeyStats() map[string]jwks.Stats {
	out := make(map[string]jwks.Stats, len(v.issuers))
	for iss, is := range v.issuers {
		if s, ok := is.keys.(keyStatser); ok {
			out[iss] = s.Stats()
		}
	}
	return out
}

// Logger returns the logger of v's Config (a discarding one when none was
// set), so that the adapters built on v log where v does.
func (v *Verifier) Logger() *slog.Logger { return v.log }

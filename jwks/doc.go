// Package jwks fetches a JSON Web Key Set (RFC 7517) over HTTP(S), keeps its
// RSA signature keys in memory and looks them up by key ID ("kid").
//
// It is the key source of cognitoguard but knows nothing of Cognito or of
// token claims: it answers "which RSA public key has this kid?", and whether a
// negative answer means "no such key" ([ErrKeyNotFound], a bad token) or "the
// key set cannot be loaded" ([ErrUnavailable], fail closed and retry later).
//
// # Quick start
//
//	set, err := jwks.New("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example/.well-known/jwks.json", jwks.Config{})
//	if err != nil {
//		return err
//	}
//	defer set.Close()
//	if err := set.Refresh(ctx); err != nil { // optional: fetch eagerly at start-up
//		log.Printf("keys not loaded yet: %v", err)
//	}
//	pub, err := set.Key(ctx, kid) // kid from the token header
//	switch {
//	case errors.Is(err, jwks.ErrKeyNotFound):
//		// invalid token: 401
//	case errors.Is(err, jwks.ErrUnavailable):
//		// cannot tell: 503 with Retry-After
//	case err == nil:
//		// verify the RS256 signature with pub
//	}
//
// # Fetching and refetching
//
// [New] fetches nothing. The first [Set.Key] (or [Set.Refresh]) fetches the
// set; later lookups of known kids are served from memory, lock-free and
// without allocation. A lookup of an unknown kid refetches the set if the last
// fetch started at least Cooldown ago (default 10s); otherwise it fails at
// once, with [ErrKeyNotFound] if the last fetch succeeded and with
// [ErrUnavailable] if it failed (the kid may be a rotated key that the failed
// fetch would have brought). A kid still unknown after a refetch is
// [ErrKeyNotFound]. An attacker sending random kids thus causes at most one
// fetch per Cooldown.
//
// A successful fetch replaces the whole set: keys removed from the document
// stop being served. A *rsa.PublicKey whose kid and key material are unchanged
// keeps its pointer identity across refetches, so callers may cache per key.
//
// # Failures
//
// A fetch fails on a network error, a timeout (FetchTimeout, default 5s), a
// status other than 200, a body over MaxBodySize (default 1 MiB, never read
// beyond it), invalid JSON, a duplicate kid, no usable key, or more than
// MaxKeys usable keys (default 64). Failures are counted in [Stats] and logged
// at Warn with the URL and the error. A failed fetch never drops cached keys:
// they keep serving while the endpoint is down. With no key cached (cold
// start), lookups fail with [ErrUnavailable] and further fetches wait for a
// backoff that starts at 250ms and doubles with each failure, capped at
// Cooldown; lookups during the backoff fail at once without a fetch.
// [Set.Refresh] ignores both the cooldown and the backoff.
//
// # Key filter
//
// Only RSA signature keys usable for RS256 are kept: kty "RSA"; use "sig" or
// absent; key_ops, if present, containing "verify"; alg "RS256" or absent; a
// non-empty kid; no private key members; an odd modulus of 2048 to 8192 bits;
// an odd exponent in [3, 2^31-1]. Other keys are skipped and logged at Debug.
// [Parse] applies the same filter to a document held in memory.
//
// # Concurrency and lifetime
//
// A [Set] is safe for concurrent use. Concurrent lookups that need a fetch
// share one in-flight fetch; each waiter returns when the fetch ends or when
// its own context ends, whichever comes first, and a waiter leaving does not
// cancel the fetch. The fetch runs in a goroutine owned by the Set, with the
// context values (not the cancellation) of the caller that started it, and
// ends within FetchTimeout. There is no background refresher: Cognito rotates
// keys rarely, and an unknown kid triggers the refetch. [Set.Close] cancels
// and waits for an in-flight fetch; no goroutine of the Set outlives it.
//
// # Security
//
// The URL MUST be configuration, never taken from a token, and MUST use https
// outside tests. The package never sees tokens; key IDs passed to [Set.Key]
// are attacker-controlled and are never logged.
package jwks

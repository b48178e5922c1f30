// Package benchmarks measures cognitoguard next to its peers and to the
// physical floor of verifying an RS256 token (SHA-256 and one RSA-2048
// public-key operation), on the same realistic Cognito access token.
//
// It is a separate module so that the peers (jwx, golang-jwt with
// keyfunc, auth0's go-jwt-middleware, go-oidc) never become dependencies
// of the library. run.sh regenerates every figure and BENCHMARKS.md;
// ci.sh runs each benchmark once so that none of them rots. cmd/scale
// measures the Redis store's sign-out fan-out for fleets of 10 to 500
// instances, on one redis-server and on a 3-master Cluster.
//
//	go test -run XXX -bench . -benchmem        # Go benchmarks
//	./run.sh                                   # everything, writes ../BENCHMARKS.md
//	go run ./cmd/scale -md ../BENCHMARKS.md    # the fan-out section alone
//
// The tokens come from testdata/ (see package internal/fixture), which the
// benchmarks regenerate when it is missing or about to expire.
package benchmarks

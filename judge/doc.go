// Package judge holds the differential fuzz target that puts cognitoguard's
// hand-written token parser beside two independent JOSE implementations,
// github.com/lestrrat-go/jwx/v3 and github.com/golang-jwt/jwt/v5.
//
// It is a separate module so that the peers never reach the go.sum of
// cognitoguard's users. It has no API: the work is in its tests. Run the
// target with
//
//	go test -run '^$' -fuzz '^FuzzJudge$' -fuzztime 100000x -parallel 1
//
// Every case where cognitoguard is deliberately stricter than a peer is
// listed in one table, stricter, in judge_test.go, and in SECURITY.md.
package judge

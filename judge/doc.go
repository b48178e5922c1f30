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
//
// TestWycheproofRS256 and TestWycheproofES256 run Project Wycheproof's
// known-answer vectors (RSA PKCS#1 v1.5 SHA-256 with 2048-bit keys; ECDSA
// P-256 SHA-256 in IEEE P1363 form, as the ALB signs) through the RS256
// and ES256 checks the verifiers call (internal/signature). The vectors'
// module declares the path github.com/c2sp/wycheproof while the proxy
// serves it as github.com/C2SP/wycheproof, so it cannot be a requirement:
// the tests download one pinned version with the go command and check its
// hash and the files'. "Acceptable" vectors are refused (see
// refusedAcceptable).
package judge

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/awstest"
)

// groupsOf returns n group names of about size bytes each.
func groupsOf(n, size int) []string {
	g := make([]string, n)
	for i := range g {
		g[i] = fmt.Sprintf("group-%03d-%s", i, strings.Repeat("x", size-10))
	}
	return g
}

// bigToken returns an access token of alice with groups g, which the test
// wants between min and max bytes long.
func bigToken(t *testing.T, pool *cognitotest.Pool, g []string, min, max int) string {
	t.Helper()
	tok := pool.AccessToken("alice", cognitotest.WithGroups(g...))
	if len(tok) < min || len(tok) > max {
		t.Fatalf("token of %d groups is %d bytes, want %d to %d", len(g), len(tok), min, max)
	}
	return tok
}

// TestProxiesLargeIdentity: behind the shipped configurations, every token
// the library accepts (up to 16 KiB) passes with its whole identity: the
// proxies' buffers hold the Authorization header and the check's answer
// (nginx answered a 4 KiB identity with 503 and Retry-After: 1, forever).
// An identity beyond -max-identity-bytes is 403 with a description of its
// own, never a 5xx.
func TestProxiesLargeIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx, Caddy and node: not with -short")
	}
	checkGoroutines(t)
	awstest.Isolate(t)
	pool := newPool(t)
	upstream := startUpstream(t)
	type proxy struct{ name, url string }
	behind := func(in *instance) []proxy {
		a := addrs{check: in.check, signout: fmt.Sprintf("127.0.0.1:%d", freePort(t)), upstream: upstream}
		return []proxy{{"nginx", startNginx(t, a, "", "")}, {"caddy", startCaddy(t, a)}}
	}

	forty := groupsOf(40, 100) // 4 KiB of groups
	most := groupsOf(100, 112) // a token just under 16 KiB
	fortyTok := bigToken(t, pool, forty, 5<<10, 8<<10)
	mostTok := bigToken(t, pool, most, 15<<10, cognitoguard.DefaultMaxTokenSize)
	for _, p := range behind(start(t, poolArgs(pool)...)) {
		t.Run(p.name+": 40 groups", func(t *testing.T) {
			wantIdentity(t, send(t, "GET", p.url+"/", fortyTok), map[string]string{"X-Auth-Groups": strings.Join(forty, " ")})
		})
		t.Run(p.name+": a token of 16 KiB", func(t *testing.T) {
			wantIdentity(t, send(t, "GET", p.url+"/", mostTok), map[string]string{"X-Auth-Groups": strings.Join(most, " ")})
		})
	}

	limited := behind(start(t, poolArgs(pool, "-max-identity-bytes", "4096")...))
	for _, p := range limited {
		t.Run(p.name+": beyond -max-identity-bytes", func(t *testing.T) {
			wantRefused(t, send(t, "GET", p.url+"/", fortyTok), 403,
				`error="insufficient_scope", error_description="The identity is too large to forward"`, "")
			thirty := groupsOf(30, 100)
			wantIdentity(t, send(t, "GET", p.url+"/", pool.AccessToken("alice", cognitotest.WithGroups(thirty...))),
				map[string]string{"X-Auth-Groups": strings.Join(thirty, " ")})
		})
	}
}

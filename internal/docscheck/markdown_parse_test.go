package docscheck

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMarkdown(t *testing.T) {
	md := parseMarkdown("R.md", strings.Join([]string{
		"# Title `Ignored`",          // 1
		"",                           // 2
		"Text `a.B` over `two",       // 3
		"lines` end.",                // 4
		"```go",                      // 5
		"func f() {}",                // 6
		"```",                        // 7
		"```",                        // 8
		"not `go`",                   // 9
		"```",                        // 10
		"## Settings (`pkg.Config`)", // 11
		"| field | meaning |",        // 12
		"|---|---|",                  // 13
		"| `Leeway`, `Now` | uses `x.Y` and `a|b` |", // 14
	}, "\n"))
	if want := []goBlock{{file: "R.md", line: 6, lang: "go", heading: "Title `Ignored`", code: "func f() {}\n"}}; !reflect.DeepEqual(md.goBlocks(), want) {
		t.Errorf("Go blocks = %+v, want %+v", md.goBlocks(), want)
	}
	type got struct {
		text, fieldOf string
		line          int
	}
	var spans []got
	for _, s := range md.spans {
		spans = append(spans, got{s.text, s.fieldOf, s.line})
	}
	want := []got{
		{"a.B", "", 3}, {"two lines", "", 3},
		{"Leeway", "pkg.Config", 14}, {"Now", "pkg.Config", 14}, {"x.Y", "", 14}, {"a|b", "", 14},
	}
	if !reflect.DeepEqual(spans, want) {
		t.Errorf("spans = %+v\nwant    %+v", spans, want)
	}
}

func TestGoChains(t *testing.T) {
	for _, tc := range []struct {
		text string
		want [][]string
	}{
		{"cognitoguard.Config.Leeway", [][]string{{"cognitoguard", "Config", "Leeway"}}},
		{"*redis.ClusterClient", [][]string{{"redis", "ClusterClient"}}},
		{"middleware.Config{Optional: true}", [][]string{{"middleware", "Config", "Optional"}, {"middleware", "Config"}}},
		{"claims, err := v.Verify(ctx, token)", [][]string{{"v", "Verify"}}},
		{"NewVerifier(poolID, …)", nil},
		{"/.well-known/jwks.json", nil},
		{"x-amzn-oidc.data and revocation.Store here", [][]string{{"revocation", "Store"}}},
	} {
		if got := goChains(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("goChains(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestSlug(t *testing.T) {
	for h, want := range map[string]string{
		"Scale: sizing Redis for a fleet":               "scale-sizing-redis-for-a-fleet",
		"Forward auth (nginx, Caddy, Envoy, Traefik)":   "forward-auth-nginx-caddy-envoy-traefik",
		"Configuration (root `Config`; zero value = x)": "configuration-root-config-zero-value--x",
		"Why not just …":                                "why-not-just-",
	} {
		if got := slug(h); got != want {
			t.Errorf("slug(%q) = %q, want %q", h, got, want)
		}
	}
}

func TestCheckLinks(t *testing.T) {
	repo := repoRoot(t)
	text := "[ok](../README.md#install) [web](https://example.com/x.md)\n[bad anchor](../README.md#nope) [gone](missing.md)\n"
	errs := checkLinks(repo, "docs/x.md", text)
	if len(errs) != 2 || !strings.Contains(errs[0], "#nope") || !strings.Contains(errs[1], "missing.md") {
		t.Errorf("checkLinks = %q, want the bad anchor and the missing file", errs)
	}
}

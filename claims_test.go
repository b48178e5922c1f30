package cognitoguard_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// withMembers returns an access token of alice for client-a whose payload
// JSON gets extra appended before its closing brace, re-signed with the
// pool's access key: a token Cognito's key really signed.
func withMembers(t *testing.T, f *fixture, extra string) string {
	t.Helper()
	h, pl, _ := segments(f.pool.AccessToken("alice", cognitotest.WithClient("client-a"),
		cognitotest.WithClaims(map[string]any{"custom:role": "user"})))
	raw, err := base64.RawURLEncoding.DecodeString(pl)
	if err != nil {
		t.Fatal(err)
	}
	js := strings.TrimSuffix(string(raw), "}") + extra + "}"
	return resign(t, h, b64(js), f.pool.AccessSigningKey())
}

// TestClaimsSeenAreClaimsChecked: what Claims.Decode and Claims.Custom hand
// the caller is what the verifier checked. encoding/json matches names
// ignoring case and keeps the last duplicate, so every payload with two
// names equal up to case (any depth), or a case variant of a claim the
// verifier reads, is refused.
func TestClaimsSeenAreClaimsChecked(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, cognitoguard.Config{})
	refused := []struct{ name, extra string }{
		{"SUB beside sub", `,"SUB":"evil"`},
		{"Sub beside sub", `,"Sub":"evil"`},
		{"long s folds to s", `,"ſub":"evil"`},
		{"case variant alone", `,"EMAIL":"evil@example.com"`},
		{"variant of cognito:groups", `,"Cognito:Groups":["admin"]`},
		{"duplicate custom claim", `,"custom:role":"admin"`},
		{"case duplicate custom claim", `,"CUSTOM:ROLE":"admin"`},
		{"escaped duplicate", `,"custom:r\u006fle":"admin"`},
		{"duplicate unknown member", `,"x":1,"x":2`},
		{"nested duplicate", `,"identities":[{"userId":"a","userId":"b"}]`},
		{"nested case duplicate", `,"identities":[{"userId":"a","USERID":"b"}]`},
		{"deep case duplicate", `,"o":{"p":{"q":[{"k":1,"\u212a":2}]}}`},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(t.Context(), withMembers(t, f, tt.extra))
			if err == nil {
				var dec struct {
					Sub  string `json:"sub"`
					Role string `json:"custom:role"`
				}
				_ = c.Decode(&dec)
				role, _ := c.Custom("role")
				t.Fatalf("accepted: Subject %q, Decode sub %q role %q, Custom role %q", c.Subject, dec.Sub, dec.Role, role)
			}
			if !errors.Is(err, cognitoguard.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}

	t.Run("distinct names accepted, Decode and Custom agree with the checked claims", func(t *testing.T) {
		c, err := v.Verify(t.Context(), withMembers(t, f, `,"identities":[{"userId":"a"},{"userId":"b"}],"custom:tier":"gold"`))
		if err != nil {
			t.Fatal(err)
		}
		var dec struct {
			Sub        string `json:"sub"`
			Role       string `json:"custom:role"`
			Identities []struct {
				UserID string `json:"userId"`
			} `json:"identities"`
		}
		if err := c.Decode(&dec); err != nil {
			t.Fatal(err)
		}
		role, ok := c.Custom("custom:role")
		tier, _ := c.Custom("tier")
		if dec.Sub != c.Subject || dec.Role != "user" || !ok || role != "user" || tier != "gold" || len(dec.Identities) != 2 {
			t.Fatalf("Decode %+v, Custom role %q %v tier %q, Subject %q", dec, role, ok, tier, c.Subject)
		}
		if _, ok := c.Custom("ROLE"); ok {
			t.Fatal("Custom matched a name in another case")
		}
	})
}

// TestErrorsQuoteClientText: a member name chosen by the client never
// reaches err.Error() raw, where an application logging %v would print
// forged lines or terminal escapes.
func TestErrorsQuoteClientText(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, cognitoguard.Config{})
	evil := "x\ninjected line \x1b[31mred\u202e" + strings.Repeat("A", 200)
	h, pl, _ := segments(f.pool.AccessToken("alice", cognitotest.WithClient("client-a")))
	rawH, _ := base64.RawURLEncoding.DecodeString(h)
	jsName := strings.NewReplacer("\n", `\n`, "\x1b", `\u001b`).Replace(evil)
	tokens := map[string]string{
		"header member of the wrong type":       resign(t, b64(strings.TrimSuffix(string(rawH), "}")+`,"`+jsName+`":tru}`), pl, f.pool.AccessSigningKey()),
		"header member with a nested duplicate": resign(t, b64(strings.TrimSuffix(string(rawH), "}")+`,"`+jsName+`":{"a":1,"a":2}}`), pl, f.pool.AccessSigningKey()),
		"claim of the wrong kind":               withMembers(t, f, `,"`+jsName+`":[1,}`),
		"duplicate claim":                       withMembers(t, f, `,"`+jsName+`":1,"`+jsName+`":2`),
	}
	for name, tok := range tokens {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tok)
			if !errors.Is(err, cognitoguard.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			msg := err.Error()
			for _, bad := range []string{"\n", "\x1b", "\u202e", strings.Repeat("A", 40)} {
				if strings.Contains(msg, bad) {
					t.Fatalf("error text %q contains %q", msg, bad)
				}
			}
			if len(msg) > 200 {
				t.Fatalf("error text is %d bytes: %q", len(msg), msg)
			}
		})
	}
}

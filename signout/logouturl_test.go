package signout_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/signout"
)

func TestLogoutURL(t *testing.T) {
	const client = "1example23456789"
	tests := []struct {
		name, domain, clientID, logoutURI string
		want                              string // "" means an error
	}{
		{"prefix domain", "myapp.auth.eu-west-1.amazoncognito.com", client, "https://app.example.com/signed-out",
			"https://myapp.auth.eu-west-1.amazoncognito.com/logout?client_id=1example23456789&logout_uri=https%3A%2F%2Fapp.example.com%2Fsigned-out"},
		{"custom domain, upper case", "Auth.Example.COM", client, "https://app.example.com/",
			"https://auth.example.com/logout?client_id=1example23456789&logout_uri=https%3A%2F%2Fapp.example.com%2F"},
		{"logout URI with query", "auth.example.com", client, "https://app.example.com/bye?a=1&b=2",
			"https://auth.example.com/logout?client_id=1example23456789&logout_uri=https%3A%2F%2Fapp.example.com%2Fbye%3Fa%3D1%26b%3D2"},
		{"loopback http", "auth.example.com", client, "http://localhost:3000/bye",
			"https://auth.example.com/logout?client_id=1example23456789&logout_uri=http%3A%2F%2Flocalhost%3A3000%2Fbye"},
		{"loopback IPv4", "auth.example.com", client, "http://127.0.0.1:8080/",
			"https://auth.example.com/logout?client_id=1example23456789&logout_uri=http%3A%2F%2F127.0.0.1%3A8080%2F"},
		{"loopback IPv6", "auth.example.com", client, "http://[::1]:8080/",
			"https://auth.example.com/logout?client_id=1example23456789&logout_uri=http%3A%2F%2F%5B%3A%3A1%5D%3A8080%2F"},

		{"empty domain", "", client, "https://app.example.com/", ""},
		{"domain with scheme", "https://auth.example.com", client, "https://app.example.com/", ""},
		{"domain with path", "auth.example.com/logout", client, "https://app.example.com/", ""},
		{"domain with port", "auth.example.com:443", client, "https://app.example.com/", ""},
		{"domain with user info", "evil.com@auth.example.com", client, "https://app.example.com/", ""},
		{"domain with query", "auth.example.com?x=1", client, "https://app.example.com/", ""},
		{"domain trailing dot", "auth.example.com.", client, "https://app.example.com/", ""},
		{"domain empty label", "auth..example.com", client, "https://app.example.com/", ""},
		{"domain hyphen label", "-auth.example.com", client, "https://app.example.com/", ""},
		{"domain IP", "192.0.2.1", client, "https://app.example.com/", ""},
		{"domain space", "auth example.com", client, "https://app.example.com/", ""},
		{"domain unicode", "äuth.example.com", client, "https://app.example.com/", ""},
		{"domain label too long", strings.Repeat("a", 64) + ".example.com", client, "https://app.example.com/", ""},
		{"empty client", "auth.example.com", "", "https://app.example.com/", ""},
		{"client with ampersand", "auth.example.com", "a&logout_uri=https://evil", "https://app.example.com/", ""},
		{"empty logout URI", "auth.example.com", client, "", ""},
		{"relative logout URI", "auth.example.com", client, "/signed-out", ""},
		{"http logout URI", "auth.example.com", client, "http://app.example.com/", ""},
		{"http logout URI, localhost lookalike", "auth.example.com", client, "http://localhost.evil.com/", ""},
		{"javascript logout URI", "auth.example.com", client, "javascript:alert(1)", ""},
		{"logout URI with fragment", "auth.example.com", client, "https://app.example.com/#x", ""},
		{"logout URI with user info", "auth.example.com", client, "https://user@app.example.com/", ""},
		{"scheme-relative logout URI", "auth.example.com", client, "//app.example.com/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := signout.LogoutURL(tc.domain, tc.clientID, tc.logoutURI)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("LogoutURL = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("LogoutURL: %v", err)
			}
			if got != tc.want {
				t.Errorf("LogoutURL =\n%s\nwant\n%s", got, tc.want)
			}
			u, err := url.Parse(got)
			if err != nil || u.Query().Get("logout_uri") != tc.logoutURI || u.Query().Get("client_id") != tc.clientID {
				t.Errorf("LogoutURL %q does not round-trip: %v", got, err)
			}
		})
	}
}

package cognitoguard_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/jwks"
)

func TestPoolRegion(t *testing.T) {
	tests := []struct {
		id, region string
	}{
		{"eu-west-1_AbCdEf123", "eu-west-1"},
		{"us-gov-west-1_X1", "us-gov-west-1"},
		{"ap-southeast-2_zZ9", "ap-southeast-2"},
		{"", ""},
		{"AbCdEf", ""},
		{"eu-west-1_", ""},
		{"eu-west-1_Ab/c", ""},
		{"EU-west-1_Ab", ""},
		{"local_AbC", ""},
	}
	for _, tt := range tests {
		got, err := cognitoguard.PoolRegion(tt.id)
		if got != tt.region || (err == nil) != (tt.region != "") {
			t.Errorf("PoolRegion(%q) = %q, %v; want %q", tt.id, got, err, tt.region)
		}
		if err != nil && !errors.Is(err, cognitoguard.ErrPoolID) {
			t.Errorf("PoolRegion(%q): %v is not ErrPoolID", tt.id, err)
		}
	}
}

func TestDefaultIssuers(t *testing.T) {
	got, err := cognitoguard.DefaultIssuers("us-east-1_AbC", "us-west-2", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC",
		"https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC",
		"https://cognito-idp.us-west-2.amazonaws.com/us-east-1_AbC",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("DefaultIssuers = %q, want %q", got, want)
	}
	if _, err := cognitoguard.DefaultIssuers("us-east-1_AbC", "us-west-2/evil"); err == nil {
		t.Fatal("a malformed region was accepted")
	}
}

// awsHosts is an http.RoundTripper standing in for the AWS key endpoints:
// it answers each host's JWKS path with the configured status and body and
// counts the requests per host.
type awsHosts struct {
	mu     sync.Mutex
	status map[string]int // by host; absent: 404
	body   []byte
	hits   map[string]int
}

func (h *awsHosts) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hits[r.URL.Host]++
	code, ok := h.status[r.URL.Host]
	if !ok {
		code = http.StatusNotFound
	}
	body := []byte(`{"message":"refused"}`)
	if code == http.StatusOK {
		body = h.body
	}
	return &http.Response{StatusCode: code, Status: http.StatusText(code), Header: http.Header{},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

func (h *awsHosts) count(host string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[host]
}

// TestPoolIssuers: one pool is reached through every issuer Cognito uses
// for it (original format, updated format, replica regions); each token
// carries the pool's ID whatever its issuer; an updated-format endpoint
// refusing a pool that has not opted in makes its tokens invalid, not the
// service unavailable; Refresh warms only the home issuer.
func TestPoolIssuers(t *testing.T) {
	c := newClock()
	p := cognitotest.NewPool(cognitotest.Config{Now: c.Now})
	t.Cleanup(p.Close)
	p.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	id := p.PoolID()
	const (
		home    = "cognito-idp.us-east-1.amazonaws.com"
		updated = "issuer-cognito-idp.us-east-1.amazonaws.com"
		replica = "cognito-idp.us-west-2.amazonaws.com"
	)
	for _, optedIn := range []bool{true, false} {
		hosts := &awsHosts{body: p.JWKS(), hits: map[string]int{},
			status: map[string]int{home: 200, replica: 200, updated: http.StatusForbidden}}
		if optedIn {
			hosts.status[updated] = 200
		}
		v, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: id, Regions: []string{"us-west-2"}, ClientIDs: []string{p.ClientID()}}},
			cognitoguard.Config{Now: c.Now, JWKS: jwks.Config{HTTPClient: &http.Client{Transport: hosts}}, TokenUse: cognitoguard.TokenUseAny})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		if err := v.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		if hosts.count(home) != 1 || hosts.count(updated) != 0 || hosts.count(replica) != 0 {
			t.Fatalf("Refresh fetched %v, want the home issuer only", hosts.hits)
		}
		for _, host := range []string{home, updated, replica} {
			iss := "https://" + host + "/" + id
			for _, tok := range []string{
				p.AccessToken("alice", cognitotest.WithClaims(map[string]any{"iss": iss})),
				p.IDToken("alice", cognitotest.WithClaims(map[string]any{"iss": iss})),
			} {
				got, err := v.Verify(t.Context(), tok)
				if host == updated && !optedIn {
					if !errors.Is(err, cognitoguard.ErrUnknownKey) || errors.Is(err, cognitoguard.ErrUnavailable) {
						t.Errorf("pool not opted in, token of %s: err = %v, want ErrUnknownKey (401), not unavailable", host, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("opted in %v, token of %s: %v", optedIn, host, err)
					continue
				}
				if got.UserPoolID != id || got.Issuer != iss {
					t.Errorf("token of %s: UserPoolID %q, Issuer %q", host, got.UserPoolID, got.Issuer)
				}
			}
		}
		// A token naming the same pool through a host that is not one of its
		// issuers is refused before any fetch.
		other := p.AccessToken("alice", cognitotest.WithClaims(map[string]any{"iss": "https://cognito-idp.eu-west-1.amazonaws.com/" + id}))
		if _, err := v.Verify(t.Context(), other); !errors.Is(err, cognitoguard.ErrIssuer) {
			t.Errorf("unconfigured region: err = %v, want ErrIssuer", err)
		}
	}
}

// TestPoolIDDerived: explicit AWS-format issuers name their pool.
func TestPoolIDDerived(t *testing.T) {
	v, err := cognitoguard.New([]cognitoguard.Pool{{
		Issuers:   []string{"https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"},
		ClientIDs: []string{"c"},
	}}, cognitoguard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if got := v.UserPoolIDs(); !slices.Equal(got, []string{"eu-west-1_Abc"}) {
		t.Fatalf("UserPoolIDs = %q", got)
	}
}

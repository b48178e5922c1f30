package cognitoguard_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/jwks"
)

// TestPartitionIssuers: a pool's default issuers, original and updated
// format, are on its partition's DNS suffix, for every partition.
func TestPartitionIssuers(t *testing.T) {
	tests := []struct {
		pool, partition, suffix string
	}{
		{"eu-west-1_AbC1", "aws", "amazonaws.com"},
		{"cn-north-1_AbC1", "aws-cn", "amazonaws.com.cn"},
		{"cn-northwest-1_AbC1", "aws-cn", "amazonaws.com.cn"},
		{"us-gov-west-1_AbC1", "aws-us-gov", "amazonaws.com"},
		{"eusc-de-east-1_AbC1", "aws-eusc", "amazonaws.eu"},
		{"us-iso-east-1_AbC1", "aws-iso", "c2s.ic.gov"},
		{"us-isob-east-1_AbC1", "aws-iso-b", "sc2s.sgov.gov"},
		{"eu-isoe-west-1_AbC1", "aws-iso-e", "cloud.adc-e.uk"},
		{"us-isof-south-1_AbC1", "aws-iso-f", "csp.hci.ic.gov"},
	}
	for _, tt := range tests {
		t.Run(tt.partition+"/"+tt.pool, func(t *testing.T) {
			region, err := cognitoguard.PoolRegion(tt.pool)
			if err != nil {
				t.Fatalf("PoolRegion: %v", err)
			}
			got, err := cognitoguard.DefaultIssuers(tt.pool)
			if err != nil {
				t.Fatalf("DefaultIssuers: %v", err)
			}
			want := []string{
				"https://cognito-idp." + region + "." + tt.suffix + "/" + tt.pool,
				"https://issuer-cognito-idp." + region + "." + tt.suffix + "/" + tt.pool,
			}
			if !slices.Equal(got, want) {
				t.Errorf("DefaultIssuers(%q) = %q, want %q", tt.pool, got, want)
			}
		})
	}
}

// TestRegionPartition: a region's partition, as in the SDK's data.
func TestRegionPartition(t *testing.T) {
	for region, want := range map[string]cognitoguard.Partition{
		"us-east-1":       {ID: "aws", DNSSuffix: "amazonaws.com"},
		"cn-north-1":      {ID: "aws-cn", DNSSuffix: "amazonaws.com.cn"},
		"us-gov-east-1":   {ID: "aws-us-gov", DNSSuffix: "amazonaws.com"},
		"eusc-de-east-1":  {ID: "aws-eusc", DNSSuffix: "amazonaws.eu"},
		"us-iso-west-1":   {ID: "aws-iso", DNSSuffix: "c2s.ic.gov"},
		"us-isob-east-1":  {ID: "aws-iso-b", DNSSuffix: "sc2s.sgov.gov"},
		"eu-isoe-west-1":  {ID: "aws-iso-e", DNSSuffix: "cloud.adc-e.uk"},
		"us-isof-south-1": {ID: "aws-iso-f", DNSSuffix: "csp.hci.ic.gov"},
	} {
		if got, err := cognitoguard.RegionPartition(region); err != nil || got != want {
			t.Errorf("RegionPartition(%q) = %+v, %v; want %+v", region, got, err, want)
		}
	}
	for _, region := range []string{"", "mars-north-1", "us_east-1", "US-EAST-1", "us-east-1.evil"} {
		if _, err := cognitoguard.RegionPartition(region); !errors.Is(err, cognitoguard.ErrRegion) {
			t.Errorf("RegionPartition(%q): %v; want ErrRegion", region, err)
		}
	}
}

// TestPoolRegionRefused: regions of no known partition, and names that are
// not one lowercase DNS label, are not pool IDs.
func TestPoolRegionRefused(t *testing.T) {
	for _, id := range []string{
		"xx-west-1_AbC",      // no partition's pattern
		"eusc-fr-east-1_AbC", // aws-eusc knows only de
		"cn-north_1_AbC",
		"eu-west-1-_AbC",
		"-eu-west-1_AbC",
		"eu-WEST-1_AbC",
		"eu--1_AbC",
		"us-gov-west-1.evil_AbC",
	} {
		if r, err := cognitoguard.PoolRegion(id); !errors.Is(err, cognitoguard.ErrPoolID) {
			t.Errorf("PoolRegion(%q) = %q, %v; want ErrPoolID", id, r, err)
		}
		if _, err := cognitoguard.DefaultIssuers(id); !errors.Is(err, cognitoguard.ErrPoolID) {
			t.Errorf("DefaultIssuers(%q): %v; want ErrPoolID", id, err)
		}
	}
}

// TestReplicaPartition: replication stays inside a partition, so a replica
// region of another partition is a configuration error; one of the same
// partition gets the original format on that partition's suffix.
func TestReplicaPartition(t *testing.T) {
	got, err := cognitoguard.DefaultIssuers("cn-north-1_AbC", "cn-northwest-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://cognito-idp.cn-northwest-1.amazonaws.com.cn/cn-north-1_AbC"; len(got) != 3 || got[2] != want {
		t.Errorf("DefaultIssuers = %q, want a third issuer %q", got, want)
	}
	for _, r := range []string{"us-east-1", "eusc-de-east-1", "Cn-northwest-1"} {
		if _, err := cognitoguard.DefaultIssuers("cn-north-1_AbC", r); !errors.Is(err, cognitoguard.ErrRegion) {
			t.Errorf("replica %q of a China pool: %v; want ErrRegion", r, err)
		}
	}
}

// TestPartitionPoolsVerify: pools of the European Sovereign Cloud and of
// China verify through their default issuers (keys fetched from the
// partition's hosts) and through an explicitly configured AWS-format
// issuer, which names the pool.
func TestPartitionPoolsVerify(t *testing.T) {
	for _, tt := range []struct{ pool, suffix string }{
		{"eusc-de-east-1_Sov3reign", "amazonaws.eu"},
		{"cn-north-1_Beijing1", "amazonaws.com.cn"},
	} {
		t.Run(tt.pool, func(t *testing.T) {
			c := newClock()
			p := cognitotest.NewPool(cognitotest.Config{PoolID: tt.pool, Now: c.Now})
			t.Cleanup(p.Close)
			p.AddUser(cognitotest.User{Username: "alice"})
			region, _, _ := strings.Cut(tt.pool, "_")
			home := "cognito-idp." + region + "." + tt.suffix
			updated := "issuer-cognito-idp." + region + "." + tt.suffix
			hosts := &awsHosts{body: p.JWKS(), hits: map[string]int{}, status: map[string]int{home: 200, updated: 200}}
			cfg := cognitoguard.Config{Now: c.Now, JWKS: jwks.Config{HTTPClient: &http.Client{Transport: hosts}}, TokenUse: cognitoguard.TokenUseAny}

			byID, err := cognitoguard.New([]cognitoguard.Pool{{UserPoolID: tt.pool, ClientIDs: []string{p.ClientID()}}}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { byID.Close() })
			byIssuer, err := cognitoguard.New([]cognitoguard.Pool{{Issuers: []string{"https://" + home + "/" + tt.pool}, ClientIDs: []string{p.ClientID()}}}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { byIssuer.Close() })
			if got := byIssuer.UserPoolIDs(); !slices.Equal(got, []string{tt.pool}) {
				t.Errorf("UserPoolIDs of the explicit issuer = %q", got)
			}
			for _, h := range []string{home, updated} {
				iss := "https://" + h + "/" + tt.pool
				tok := p.AccessToken("alice", cognitotest.WithClaims(map[string]any{"iss": iss}))
				vs := map[string]*cognitoguard.Verifier{"default issuers": byID}
				if h == home {
					vs["explicit issuer"] = byIssuer
				}
				for name, v := range vs {
					got, err := v.Verify(t.Context(), tok)
					if err != nil {
						t.Errorf("%s, token of %s: %v", name, h, err)
						continue
					}
					if got.UserPoolID != tt.pool || got.Issuer != iss {
						t.Errorf("%s, token of %s: UserPoolID %q, Issuer %q", name, h, got.UserPoolID, got.Issuer)
					}
				}
				if hosts.count(h) == 0 {
					t.Errorf("no key fetch from %s", h)
				}
			}
			// The commercial partition's host is not an issuer of the pool.
			wrong := p.AccessToken("alice", cognitotest.WithClaims(map[string]any{"iss": "https://cognito-idp." + region + ".amazonaws.com/" + tt.pool}))
			if _, err := byID.Verify(t.Context(), wrong); !errors.Is(err, cognitoguard.ErrIssuer) {
				t.Errorf("token on amazonaws.com: %v; want ErrIssuer", err)
			}
		})
	}
}

func ExampleRegionPartition() {
	for _, pool := range []string{"eu-west-1_AbC", "cn-north-1_AbC", "eusc-de-east-1_AbC"} {
		region, _ := cognitoguard.PoolRegion(pool)
		p, _ := cognitoguard.RegionPartition(region)
		issuers, _ := cognitoguard.DefaultIssuers(pool)
		fmt.Println(p.ID, issuers[0])
	}
	// Output:
	// aws https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC
	// aws-cn https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC
	// aws-eusc https://cognito-idp.eusc-de-east-1.amazonaws.eu/eusc-de-east-1_AbC
}

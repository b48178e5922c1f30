package cognitoguard

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ErrPoolID reports a user pool ID that is not of the form region_id, such
// as "eu-west-1_AbCdEf123", with a region of a known AWS partition.
var ErrPoolID = errors.New("cognitoguard: user pool ID is not of the form region_id")

var (
	// poolIDRe splits a pool ID; RegionPartition checks the region.
	poolIDRe = regexp.MustCompile(`^([a-z0-9-]+)_[0-9A-Za-z]+$`)
	// loosePoolIDRe accepts emulator pool IDs such as local_AbC123, allowed
	// when the issuers are explicit.
	loosePoolIDRe = regexp.MustCompile(`^[\w-]+_[0-9A-Za-z]+$`)
)

// PoolRegion returns the home region of a Cognito user pool ID:
// "eu-west-1" for "eu-west-1_AbCdEf123", "eusc-de-east-1" for
// "eusc-de-east-1_AbC". The region must be of a partition
// [RegionPartition] knows. It is the one place that parses pool IDs; the
// error matches [ErrPoolID].
func PoolRegion(userPoolID string) (string, error) {
	m := poolIDRe.FindStringSubmatch(userPoolID)
	if m == nil {
		return "", fmt.Errorf("%w: %q", ErrPoolID, userPoolID)
	}
	if _, err := RegionPartition(m[1]); err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrPoolID, userPoolID, err)
	}
	return m[1], nil
}

// DefaultIssuers returns the issuers Amazon Cognito uses for a pool, the
// home one first: the original format in the home region
// (https://cognito-idp.{region}.{dnsSuffix}/{pool}), the updated format
// (https://issuer-cognito-idp.{region}.{dnsSuffix}/{pool}, which names
// the home region even for tokens minted in a replica), and the original
// format in each replica region of multi-Region replication. dnsSuffix is
// the region's partition's ([RegionPartition]): amazonaws.com,
// amazonaws.com.cn in China, amazonaws.eu in the European Sovereign Cloud.
// Replica regions must be of the home region's partition; an error about
// one matches [ErrRegion].
func DefaultIssuers(userPoolID string, replicaRegions ...string) ([]string, error) {
	home, err := PoolRegion(userPoolID)
	if err != nil {
		return nil, err
	}
	p, _ := RegionPartition(home) // PoolRegion checked it
	out := []string{
		"https://cognito-idp." + home + "." + p.DNSSuffix + "/" + userPoolID,
		"https://issuer-cognito-idp." + home + "." + p.DNSSuffix + "/" + userPoolID,
	}
	for _, r := range replicaRegions {
		rp, err := RegionPartition(r)
		if err != nil {
			return nil, err
		}
		if rp != p {
			return nil, fmt.Errorf("%w: replica region %q is not in pool %q's partition %s", ErrRegion, r, userPoolID, p.ID)
		}
		if r == home {
			continue
		}
		out = append(out, "https://cognito-idp."+r+"."+p.DNSSuffix+"/"+userPoolID)
	}
	return out, nil
}

// poolIDOfIssuer returns the pool ID an AWS-format issuer names (its last
// path segment), or "" when iss is not on a Cognito host of an AWS
// partition.
func poolIDOfIssuer(iss string) string {
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "https" {
		return ""
	}
	h := u.Hostname()
	if !isPartitionHost(h) ||
		!(strings.HasPrefix(h, "cognito-idp.") || strings.HasPrefix(h, "issuer-cognito-idp.")) {
		return ""
	}
	id := strings.TrimPrefix(u.Path, "/")
	if _, err := PoolRegion(id); err != nil {
		return ""
	}
	return id
}

// checkIssuer validates the shape of a configured issuer.
func checkIssuer(iss string) error {
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q is not an absolute http(s) URL", iss)
	}
	if strings.HasSuffix(iss, "/") {
		return fmt.Errorf("issuer %q ends with a slash; Cognito issuers never do", iss)
	}
	return nil
}

package cognitoguard

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ErrPoolID reports a user pool ID that is not of the form region_id, such
// as "eu-west-1_AbCdEf123".
var ErrPoolID = errors.New("cognitoguard: user pool ID is not of the form region_id")

var (
	poolIDRe = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$`)
	regionRe = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-\d+$`)
	// loosePoolIDRe accepts emulator pool IDs such as local_AbC123, allowed
	// when the issuers are explicit.
	loosePoolIDRe = regexp.MustCompile(`^[\w-]+_[0-9A-Za-z]+$`)
)

// PoolRegion returns the home region of a Cognito user pool ID:
// "eu-west-1" for "eu-west-1_AbCdEf123". It is the one place that parses
// pool IDs; the error matches [ErrPoolID].
func PoolRegion(userPoolID string) (string, error) {
	m := poolIDRe.FindStringSubmatch(userPoolID)
	if m == nil {
		return "", fmt.Errorf("%w: %q", ErrPoolID, userPoolID)
	}
	return m[1], nil
}

// DefaultIssuers returns the issuers Amazon Cognito uses for a pool, the
// home one first: the original format in the home region
// (https://cognito-idp.{region}.amazonaws.com/{pool}), the updated format
// (https://issuer-cognito-idp.{region}.amazonaws.com/{pool}, which names
// the home region even for tokens minted in a replica), and the original
// format in each replica region of multi-Region replication.
func DefaultIssuers(userPoolID string, replicaRegions ...string) ([]string, error) {
	home, err := PoolRegion(userPoolID)
	if err != nil {
		return nil, err
	}
	out := []string{
		"https://cognito-idp." + home + ".amazonaws.com/" + userPoolID,
		"https://issuer-cognito-idp." + home + ".amazonaws.com/" + userPoolID,
	}
	for _, r := range replicaRegions {
		if !regionRe.MatchString(r) {
			return nil, fmt.Errorf("cognitoguard: region %q is not an AWS region name", r)
		}
		if r == home {
			continue
		}
		out = append(out, "https://cognito-idp."+r+".amazonaws.com/"+userPoolID)
	}
	return out, nil
}

// poolIDOfIssuer returns the pool ID an AWS-format issuer names (its last
// path segment), or "" when iss is not on an amazonaws.com Cognito host.
func poolIDOfIssuer(iss string) string {
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "https" {
		return ""
	}
	h := u.Hostname()
	if !strings.HasSuffix(h, ".amazonaws.com") ||
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

// Pool IDs, issuers and pool registration: the one place that parses a
// user pool ID, derives a pool's issuers and registers them with a
// Verifier. The partitions a region may belong to are in partition.go.

package cognitoguard

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/cognitoguard/cognitoguard/jwks"
)

// ErrPoolID reports a user pool ID that is not of the form region_id, such
// as "eu-west-1_AbCdEf123", with a region of a known AWS partition.
var ErrPoolID = errors.New("cognitoguard: user pool ID is not of the form region_id")

// The pool-ID patterns are compiled on first use, not when a program
// that imports the package starts (see partitionRes).
var (
	// poolIDRe splits a pool ID; RegionPartition checks the region.
	poolIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([a-z0-9-]+)_[0-9A-Za-z]+$`) })
	// loosePoolIDRe accepts emulator pool IDs such as local_AbC123, allowed
	// when the issuers are explicit.
	loosePoolIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w-]+_[0-9A-Za-z]+$`) })
)

// PoolRegion returns the home region of a Cognito user pool ID:
// "eu-west-1" for "eu-west-1_AbCdEf123", "eusc-de-east-1" for
// "eusc-de-east-1_AbC". The region must be of a partition
// [RegionPartition] knows. It is the one place that parses pool IDs; the
// error matches [ErrPoolID].
func PoolRegion(userPoolID string) (string, error) {
	m := poolIDRe().FindStringSubmatch(userPoolID)
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

// pool is a configured user pool.
type pool struct {
	id      string
	clients map[string]struct{} // nil: any client
}

// issuer is one accepted iss value and where its keys come from.
type issuer struct {
	pool *pool
	keys KeySource
	// optional marks a default issuer other than the home one: a pool may
	// not be reachable through it (4xx from its key endpoint).
	optional bool
}

// Issuers returns the accepted issuers, sorted.
func (v *Verifier) Issuers() []string {
	return slices.Sorted(maps.Keys(v.issuers))
}

// UserPoolIDs returns the IDs of the configured pools, in configuration
// order.
func (v *Verifier) UserPoolIDs() []string { return slices.Clone(v.poolIDs) }

// lastPoolID is the ID of the pool addPool added last.
func (v *Verifier) lastPoolID() string { return v.poolIDs[len(v.poolIDs)-1] }

// addPool validates pc and registers its issuers.
func (v *Verifier) addPool(pc Pool, jc jwks.Config) error {
	id, issuers, err := poolIssuers(pc)
	if err != nil {
		return err
	}
	p := &pool{id: id}
	if !pc.AnyClient {
		if len(pc.ClientIDs) == 0 {
			return errors.New("no client IDs (set AnyClient to accept every app client)")
		}
		p.clients = make(map[string]struct{}, len(pc.ClientIDs))
		for _, c := range pc.ClientIDs {
			if c == "" {
				return errors.New("empty client ID")
			}
			p.clients[c] = struct{}{}
		}
	}
	v.poolIDs = append(v.poolIDs, id)
	for i, iss := range issuers {
		if _, dup := v.issuers[iss]; dup {
			return fmt.Errorf("issuer %q configured twice", iss)
		}
		keys := pc.Keys
		if keys == nil {
			set, err := jwks.New(iss+"/.well-known/jwks.json", jc)
			if err != nil {
				return err
			}
			v.owned = append(v.owned, set)
			keys = set
		}
		if i == 0 {
			v.home = append(v.home, keys)
		}
		v.issuers[iss] = &issuer{pool: p, keys: keys, optional: i > 0 && len(pc.Issuers) == 0}
	}
	return nil
}

// poolIssuers returns the pool ID and the issuers of pc, home first.
func poolIssuers(pc Pool) (string, []string, error) {
	if len(pc.Issuers) == 0 {
		issuers, err := DefaultIssuers(pc.UserPoolID, pc.Regions...)
		return pc.UserPoolID, issuers, err
	}
	id := pc.UserPoolID
	for _, iss := range pc.Issuers {
		if err := checkIssuer(iss); err != nil {
			return "", nil, err
		}
		aws := poolIDOfIssuer(iss)
		switch {
		case aws != "" && id == "":
			id = aws
		case aws != "" && aws != id:
			return "", nil, fmt.Errorf("issuer %q is not of user pool %q", iss, id)
		}
	}
	switch {
	case id == "":
		return "", nil, errors.New("no user pool ID (required with non-AWS issuers)")
	case !loosePoolIDRe().MatchString(id):
		return "", nil, fmt.Errorf("%w: %q", ErrPoolID, id)
	}
	return id, pc.Issuers, nil
}

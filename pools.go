package cognitoguard

import (
	"errors"
	"fmt"

	"github.com/cognitoguard/cognitoguard/jwks"
)

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
	case !loosePoolIDRe.MatchString(id):
		return "", nil, fmt.Errorf("%w: %q", ErrPoolID, id)
	}
	return id, pc.Issuers, nil
}

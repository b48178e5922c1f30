package cognitoguard

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/alias"
	"github.com/cognitoguard/cognitoguard/internal/jsonscan"
)

// TokenUse is the Cognito token_use claim: "access" or "id".
type TokenUse string

// Token uses. The zero value of [Config.TokenUse] means [TokenUseAccess].
const (
	TokenUseAccess TokenUse = "access"
	TokenUseID     TokenUse = "id"
	// TokenUseAny accepts access and ID tokens alike. Handlers then MUST
	// look at [Claims.TokenUse] before trusting token-specific claims.
	TokenUseAny TokenUse = "any"
)

// Claims are the verified claims of a Cognito access or ID token.
//
// The Verifier hands every caller its own copy of the struct, but the
// slices (Scopes, Groups) and the raw payload may be shared with other
// callers of the same token: treat them as read-only.
type Claims struct {
	Issuer string // iss, one of the configured issuers
	// UserPoolID is the configured pool whose issuer matched iss, never a
	// value read from the token. Sign-outs are keyed by (UserPoolID, Subject).
	UserPoolID string
	Subject    string   // sub, the user's stable id
	Username   string   // username (access) or cognito:username (id)
	TokenUse   TokenUse // token_use: access or id
	ClientID   string   // client_id (access) or aud (id)
	Scopes     []string // scope, split on spaces (access tokens)
	Groups     []string // cognito:groups
	Email      string   // email (id tokens)

	// EmailVerified is email_verified (id tokens).
	EmailVerified bool

	AuthTime  time.Time // auth_time; zero if absent
	IssuedAt  time.Time // iat
	Expiry    time.Time // exp
	NotBefore time.Time // nbf; zero if absent (Cognito sets none)

	JTI       string // jti; empty if absent
	OriginJTI string // origin_jti: the sign-in session; empty if absent
	EventID   string // event_id; empty if absent

	// from is what the claims keep of their token, shared by every copy
	// and never written: one pointer, so that the copy each verification
	// returns stays in a smaller allocation class.
	from *origin
}

// origin is the verified token behind a Claims: its payload JSON, and the
// key that verified the signature and where it came from (a cached token
// is accepted only while its key source still serves that key).
type origin struct {
	raw  []byte
	kid  string
	key  *rsa.PublicKey
	keys KeySource
	// versions is keys as a KeyVersioner, or nil; version is a value it
	// returned before a lookup that found key still served.
	versions KeyVersioner
	version  atomic.Uint64
}

// payload is the verified payload JSON, or nil for a Claims not made by a
// Verifier.
func (c *Claims) payload() []byte {
	if c.from == nil {
		return nil
	}
	return c.from.raw
}

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool { return slices.Contains(c.Scopes, s) }

// InGroup reports whether the user is in group g.
func (c *Claims) InGroup(g string) bool { return slices.Contains(c.Groups, g) }

// AuthenticatedAt is the moment the revocation rule compares with a
// sign-out: auth_time, or iat when the token has no auth_time.
func (c *Claims) AuthenticatedAt() time.Time {
	if !c.AuthTime.IsZero() {
		return c.AuthTime
	}
	return c.IssuedAt
}

// Decode unmarshals the whole verified payload into v with encoding/json,
// for claims the struct does not carry (custom:* attributes, identities,
// …). encoding/json matches member names to struct fields ignoring case;
// the Verifier refuses every token in which two member names of one object
// (at any depth) differ at most in case, and every member named like a
// claim it reads in another case ("SUB"), so each field receives the one
// member the Verifier saw. Decode of a Claims not made by a Verifier fails.
func (c *Claims) Decode(v any) error { return json.Unmarshal(c.payload(), v) }

// Raw returns a copy of the verified payload JSON.
func (c *Claims) Raw() []byte { return slices.Clone(c.payload()) }

// Custom returns the string value of custom attribute name (with or
// without its "custom:" prefix) and whether it is present as a string. The
// name is matched exactly (case included); a verified token holds at most
// one member of that name.
func (c *Claims) Custom(name string) (string, bool) {
	if !strings.HasPrefix(name, "custom:") {
		name = "custom:" + name
	}
	var sc jsonscan.Scanner
	sc.Reset(alias.String(c.payload()))
	for {
		key, ok, err := sc.Next()
		if err != nil || !ok {
			return "", false
		}
		if key == name {
			if sc.Peek() != jsonscan.String {
				return "", false
			}
			s, err := sc.String()
			return strings.Clone(s), err == nil
		}
		if sc.Skip() != nil {
			return "", false
		}
	}
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying c.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the claims stored by [NewContext] (the middleware
// stores them for every request it lets through).
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(ctxKey{}).(*Claims)
	return c, ok && c != nil
}

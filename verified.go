package cognitoguard

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/jsonscan"
)

// CheckClaims is for services that already verify Cognito tokens with
// another library (golang-jwt with keyfunc, go-oidc, …) and want only to
// honour sign-outs. Given the claims of a token whose signature that
// library verified, it applies every rule of [Verifier.Verify] except the
// signature, in the same order and with the same errors: iss is one of the
// configured issuers (its Pool names the user pool the sign-out is looked
// up in, never the token); token_use is [Config.TokenUse]; client_id (access
// tokens, which have no aud) or aud (ID tokens) is one of the pool's
// ClientIDs; exp, nbf, iat and auth_time as Verify checks them (with
// [Config.Leeway] and [Config.Now]); RequiredScopes, RequiredGroups and
// Check; and finally [Config.Revocation]: a token whose user signed out,
// or whose session was revoked, fails with [ErrRevoked], and a store that
// cannot answer fails with [ErrUnavailable] (fail closed, unless
// [Config.RevocationFailOpen]).
//
// claims is the payload as a JSON decoder gives it: jwt.MapClaims of
// golang-jwt v5 (numbers float64, or json.Number with WithJSONNumber) or
// the map go-oidc's IDToken.Claims fills. A claim of the wrong JSON type,
// or a NumericDate that is not whole seconds in range, fails with
// [ErrMalformed]. Errors are [*Error]s, as Verify's.
//
// On success it returns the claims as Verify would (UserPoolID from the
// configured pool), except that [Claims.Decode], [Claims.Raw] and
// [Claims.Custom] see no payload: read other claims from claims itself.
// Nothing is fetched (no keys are needed), nothing is cached, and
// [Config.OnVerify] is not called.
//
// Security: claims MUST come from a token whose RS256 signature was
// verified with the keys of the issuer it names, and the other library
// SHOULD also refuse other algorithms. CheckClaims cannot tell a forged
// payload from a genuine one; it is safe for concurrent use.
func (v *Verifier) CheckClaims(ctx context.Context, claims map[string]any) (*Claims, error) {
	p, err := parsedFromMap(claims)
	if err != nil {
		return nil, err
	}
	c := &p.claims
	is, ok := v.issuers[c.Issuer]
	if !ok {
		return nil, newError(ErrIssuer, "issuer not configured", nil)
	}
	c.UserPoolID = is.pool.id
	now := v.now()
	if e := v.checkClaims(c, p, is.pool, now); e != nil {
		e.Subject = c.Subject
		return nil, e
	}
	if err := v.authorize(ctx, c); err != nil {
		return nil, err
	}
	if e := v.revoked(ctx, c, now); e != nil {
		e.Subject = c.Subject
		return nil, e
	}
	return c, nil
}

// parsedFromMap reads the claims the Verifier reads from an already
// decoded payload, with the types parseToken requires.
func parsedFromMap(m map[string]any) (*parsed, error) {
	if m == nil {
		return nil, malformed("no claims")
	}
	p := &parsed{}
	c := &p.claims
	var txt claimText
	strs := []struct {
		name string
		dst  *string
	}{
		{"iss", &c.Issuer}, {"sub", &c.Subject}, {"client_id", &p.clientID}, {"aud", &p.aud},
		{"scope", &txt.scope}, {"username", &txt.username}, {"cognito:username", &txt.cognitoUsername},
		{"email", &c.Email}, {"jti", &c.JTI}, {"origin_jti", &c.OriginJTI}, {"event_id", &c.EventID},
	}
	for _, s := range strs {
		if err := mapString(m, s.name, s.dst); err != nil {
			return nil, err
		}
	}
	var use string
	if err := mapString(m, "token_use", &use); err != nil {
		return nil, err
	}
	c.TokenUse = TokenUse(use)
	dates := []struct {
		name string
		dst  *time.Time
		set  *bool
	}{
		{"exp", &c.Expiry, &p.hasExp}, {"iat", &c.IssuedAt, nil}, {"nbf", &c.NotBefore, nil}, {"auth_time", &c.AuthTime, nil},
	}
	for _, d := range dates {
		ok, err := mapDate(m, d.name, d.dst)
		if err != nil {
			return nil, err
		}
		if d.set != nil {
			*d.set = ok
		}
	}
	if err := mapGroups(m, c); err != nil {
		return nil, err
	}
	if err := mapBool(m, "email_verified", &c.EmailVerified); err != nil {
		return nil, err
	}
	c.Username = txt.username
	if c.Username == "" {
		c.Username = txt.cognitoUsername
	}
	if txt.scope != "" {
		c.Scopes = strings.Fields(txt.scope)
	}
	return p, nil
}

// wrongType is the error of a claim of another JSON type than expected.
func wrongType(name, want string) error {
	return malformed("claim " + quoteName(name) + " is not " + want)
}

func mapString(m map[string]any, name string, dst *string) error {
	v, ok := m[name]
	if !ok {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return wrongType(name, "a string")
	}
	*dst = s
	return nil
}

// mapDate reads a NumericDate of whole seconds in [0, jsonscan.MaxNumericDate],
// as the Verifier's own parser does.
func mapDate(m map[string]any, name string, dst *time.Time) (bool, error) {
	v, ok := m[name]
	if !ok {
		return false, nil
	}
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return false, wrongType(name, "a NumericDate of whole seconds")
		}
		n = float64(i)
	case int64:
		n = float64(x)
	case int:
		n = float64(x)
	default:
		return false, wrongType(name, "a NumericDate")
	}
	if n != math.Trunc(n) || n < 0 || n > jsonscan.MaxNumericDate {
		return false, wrongType(name, "a NumericDate of whole seconds")
	}
	*dst = time.Unix(int64(n), 0)
	return true, nil
}

func mapGroups(m map[string]any, c *Claims) error {
	v, ok := m["cognito:groups"]
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case []string:
		c.Groups = append([]string(nil), x...)
	case []any:
		c.Groups = make([]string, 0, len(x))
		for _, g := range x {
			s, ok := g.(string)
			if !ok {
				return wrongType("cognito:groups", "an array of strings")
			}
			c.Groups = append(c.Groups, s)
		}
	default:
		return wrongType("cognito:groups", "an array of strings")
	}
	return nil
}

// mapBool reads true or false, or the strings "true" and "false" some
// issuers send, as the Verifier's parser does.
func mapBool(m map[string]any, name string, dst *bool) error {
	v, ok := m[name]
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case bool:
		*dst = x
	case string:
		if x != "true" && x != "false" {
			return wrongType(name, "a boolean")
		}
		*dst = x == "true"
	default:
		return wrongType(name, "a boolean")
	}
	return nil
}

package judge

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/cognitoguard/cognitoguard"
)

// policy is what every judge enforces: RS256 by a key of the pool named by
// the header kid, the pool's issuer, token_use access (client_id) or id
// (aud) of the one allowed client, exp required, exp/nbf/iat against a
// fixed clock with no leeway.
type policy struct {
	issuer string
	client string
	keys   map[string]*rsa.PublicKey // by kid
	now    time.Time
}

// verdict is one judge's answer: the error, or the claims every judge must
// agree on. Times are whole seconds; an absent auth_time is -1, one that
// is not a whole number -2.
type verdict struct {
	err      error
	sub      string
	exp      int64
	authTime int64
	tokenUse string
	client   string
}

func (v verdict) String() string {
	if v.err != nil {
		return "refused: " + v.err.Error()
	}
	return fmt.Sprintf("accepted sub=%q exp=%d auth_time=%d token_use=%q client=%q", v.sub, v.exp, v.authTime, v.tokenUse, v.client)
}

func (v verdict) same(w verdict) bool {
	return v.err == nil && w.err == nil && v.sub == w.sub && v.exp == w.exp &&
		v.authTime == w.authTime && v.tokenUse == w.tokenUse && v.client == w.client
}

func refused(err error) verdict { return verdict{err: err} }

// judgeCognitoguard asks the library under test.
func judgeCognitoguard(ctx context.Context, v *cognitoguard.Verifier, tok string) verdict {
	c, err := v.Verify(ctx, tok)
	if err != nil {
		return refused(err)
	}
	at := int64(-1)
	if !c.AuthTime.IsZero() {
		at = c.AuthTime.Unix()
	}
	return verdict{sub: c.Subject, exp: c.Expiry.Unix(), authTime: at, tokenUse: string(c.TokenUse), client: c.ClientID}
}

// judgeJWX asks lestrrat-go/jwx v3. The key is given with an explicit
// RS256 (jwt.WithKey), never as a key set: with a key set jwx ignores the
// header alg (FACTS.md). The kid is read by jwx's own header parser.
func judgeJWX(p *policy, tok string) verdict {
	msg, err := jws.Parse([]byte(tok), jws.WithCompact())
	if err != nil {
		return refused(err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return refused(errors.New("not one signature"))
	}
	kid, _ := sigs[0].ProtectedHeaders().KeyID()
	key, ok := p.keys[kid]
	if !ok {
		return refused(errors.New("kid not in the key set"))
	}
	clock := jwt.WithClock(jwt.ClockFunc(func() time.Time { return p.now }))
	t, err := jwt.Parse([]byte(tok), jwt.WithKey(jwa.RS256(), key), jwt.WithValidate(true),
		jwt.WithIssuer(p.issuer), jwt.WithRequiredClaim(jwt.ExpirationKey), clock, jwt.WithAcceptableSkew(0))
	if err != nil {
		return refused(err)
	}
	var use string
	if err := t.Get("token_use", &use); err != nil {
		return refused(err)
	}
	v := verdict{tokenUse: use, authTime: -1}
	switch use {
	case "access":
		err = jwt.Validate(t, clock, jwt.WithClaimValue("client_id", p.client))
		v.client = p.client
	case "id":
		err = jwt.Validate(t, clock, jwt.WithAudience(p.client))
		v.client = p.client
	default:
		err = errors.New("token_use is neither access nor id")
	}
	if err != nil {
		return refused(err)
	}
	v.sub, _ = t.Subject()
	exp, _ := t.Expiration()
	v.exp = exp.Unix()
	if t.Has("auth_time") {
		var at any
		if err := t.Get("auth_time", &at); err != nil {
			return refused(err)
		}
		v.authTime = wholeSeconds(at)
	}
	return v
}

// judgeGolangJWT asks golang-jwt/jwt v5 with WithValidMethods RS256,
// WithIssuedAt and WithExpirationRequired.
func judgeGolangJWT(p *policy, tok string) verdict {
	opts := []gjwt.ParserOption{
		gjwt.WithValidMethods([]string{"RS256"}), gjwt.WithIssuedAt(), gjwt.WithExpirationRequired(),
		gjwt.WithIssuer(p.issuer), gjwt.WithTimeFunc(func() time.Time { return p.now }), gjwt.WithLeeway(0),
		gjwt.WithJSONNumber(),
	}
	claims := gjwt.MapClaims{}
	_, err := gjwt.NewParser(opts...).ParseWithClaims(tok, claims, func(t *gjwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := p.keys[kid]; ok {
			return k, nil
		}
		return nil, errors.New("kid not in the key set")
	})
	if err != nil {
		return refused(err)
	}
	use, _ := claims["token_use"].(string)
	v := verdict{tokenUse: use, authTime: -1}
	switch use {
	case "access":
		if id, _ := claims["client_id"].(string); id != p.client {
			return refused(errors.New("client_id not allowed"))
		}
		v.client = p.client
	case "id":
		if err := gjwt.NewValidator(append(opts, gjwt.WithAudience(p.client))...).Validate(claims); err != nil {
			return refused(err)
		}
		v.client = p.client
	default:
		return refused(errors.New("token_use is neither access nor id"))
	}
	v.sub, _ = claims["sub"].(string)
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return refused(fmt.Errorf("exp: %v", err))
	}
	v.exp = exp.Unix()
	if at, ok := claims["auth_time"]; ok {
		v.authTime = wholeSeconds(at)
	}
	return v
}

// wholeSeconds reads a peer's decoded auth_time as whole seconds; -2 when
// it is not a whole number (the peers do not check auth_time).
func wholeSeconds(v any) int64 {
	switch n := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return i
		}
	case float64:
		if n == math.Trunc(n) && math.Abs(n) <= 1<<53 {
			return int64(n)
		}
	}
	return -2
}

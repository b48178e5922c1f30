package cognitoguard

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unsafe"

	"github.com/cognitoguard/cognitoguard/internal/jsonscan"
)

const (
	maxHeaderLen   = 1024 // encoded header segment
	maxKidLen      = 256
	maxSigLen      = 1024 // 8192-bit RSA
	maxNumericDate = 1e11 // year 5138: anything later is an error, not a date
)

var b64 = base64.RawURLEncoding.Strict()

// parsed is a token split and decoded, its signature not yet checked.
type parsed struct {
	claims    Claims
	kid       string
	clientID  string
	aud       string
	hasExp    bool
	signedLen int    // len(header) + 1 + len(payload)
	sig       string // the signature segment, still encoded
}

func malformed(reason string) error { return newError(ErrMalformed, reason, nil) }

// parseToken splits a compact JWS and decodes its header and claims. It
// checks shape only; the caller decodes and checks the signature (once the
// issuer and key are known) and the claim values.
func parseToken(token string) (*parsed, error) {
	i1 := strings.IndexByte(token, '.')
	if i1 < 0 {
		return nil, malformed("not a compact JWS (want 3 segments)")
	}
	rest := token[i1+1:]
	i2 := strings.IndexByte(rest, '.')
	if i2 < 0 || strings.IndexByte(rest[i2+1:], '.') >= 0 {
		return nil, malformed("not a compact JWS (want 3 segments)")
	}
	h, pl, s := token[:i1], rest[:i2], rest[i2+1:]
	if h == "" || pl == "" || s == "" {
		return nil, malformed("empty segment")
	}
	if len(h) > maxHeaderLen {
		return nil, malformed("header too large")
	}
	// The decoder skips CR and LF; a token must not contain them.
	if strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		return nil, malformed("line break in token")
	}
	if b64.DecodedLen(len(s)) > maxSigLen {
		return nil, malformed("signature too large")
	}
	p := &parsed{signedLen: i1 + 1 + i2, sig: s}

	hl, pll := b64.DecodedLen(len(h)), b64.DecodedLen(len(pl))
	buf := make([]byte, hl+pll)
	hn, err := b64.Decode(buf, []byte(h))
	if err != nil {
		return nil, malformed("header is not base64url")
	}
	pn, err := b64.Decode(buf[hl:], []byte(pl))
	if err != nil {
		return nil, malformed("payload is not base64url")
	}
	// buf is never written again, so strings may alias it.
	hdr := unsafe.String(unsafe.SliceData(buf), hn)
	payload := buf[hl : hl+pn]
	if err := p.parseHeader(hdr); err != nil {
		return nil, err
	}
	p.claims.raw = payload
	if err := p.parseClaims(unsafe.String(unsafe.SliceData(payload), len(payload))); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parsed) parseHeader(src string) error {
	var sc jsonscan.Scanner
	sc.Reset(src)
	var alg string
	var seen uint8
	for {
		key, ok, err := sc.Next()
		if err != nil {
			return malformed("header is not a JSON object")
		}
		if !ok {
			break
		}
		var bit uint8
		switch key {
		case "alg":
			bit = 1
			alg, err = sc.String()
		case "kid":
			bit = 2
			p.kid, err = sc.String()
		case "crit":
			// No extension is understood, so a critical one must fail
			// (RFC 7515 §4.1.11).
			return malformed("crit header not supported")
		default:
			err = sc.Skip()
		}
		if err != nil {
			return malformed("header field " + key + " has the wrong type")
		}
		if seen&bit != 0 {
			return malformed("duplicate header field " + key)
		}
		seen |= bit
	}
	if alg != "RS256" {
		return malformed("alg is not RS256")
	}
	if p.kid == "" || len(p.kid) > maxKidLen {
		return malformed("kid missing or too long")
	}
	return nil
}

// claim bits, for duplicate detection.
const (
	cIss = 1 << iota
	cSub
	cTokenUse
	cClientID
	cAud
	cScope
	cUsername
	cCognitoUsername
	cGroups
	cEmail
	cEmailVerified
	cAuthTime
	cIat
	cExp
	cNbf
	cJTI
	cOriginJTI
	cEventID
)

func (p *parsed) parseClaims(src string) error {
	var sc jsonscan.Scanner
	sc.Reset(src)
	c := &p.claims
	var seen uint32
	var username, cognitoUsername, scope string
	for {
		key, ok, err := sc.Next()
		if err != nil {
			return malformed("payload is not a JSON object")
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "iss":
			bit = cIss
			c.Issuer, err = sc.String()
		case "sub":
			bit = cSub
			c.Subject, err = sc.String()
		case "token_use":
			bit = cTokenUse
			var s string
			s, err = sc.String()
			c.TokenUse = TokenUse(s)
		case "client_id":
			bit = cClientID
			p.clientID, err = sc.String()
		case "aud":
			bit = cAud
			p.aud, err = sc.String()
		case "scope":
			bit = cScope
			scope, err = sc.String()
		case "username":
			bit = cUsername
			username, err = sc.String()
		case "cognito:username":
			bit = cCognitoUsername
			cognitoUsername, err = sc.String()
		case "cognito:groups":
			bit = cGroups
			c.Groups, err = sc.Strings(nil)
		case "email":
			bit = cEmail
			c.Email, err = sc.String()
		case "email_verified":
			bit = cEmailVerified
			c.EmailVerified, err = boolish(&sc)
		case "auth_time":
			bit = cAuthTime
			c.AuthTime, err = numericDate(&sc)
		case "iat":
			bit = cIat
			c.IssuedAt, err = numericDate(&sc)
		case "exp":
			bit = cExp
			c.Expiry, err = numericDate(&sc)
			p.hasExp = err == nil
		case "nbf":
			bit = cNbf
			c.NotBefore, err = numericDate(&sc)
		case "jti":
			bit = cJTI
			c.JTI, err = sc.String()
		case "origin_jti":
			bit = cOriginJTI
			c.OriginJTI, err = sc.String()
		case "event_id":
			bit = cEventID
			c.EventID, err = sc.String()
		default:
			err = sc.Skip()
		}
		if err != nil {
			if errors.Is(err, errBadDate) {
				return malformed("claim " + key + " is not a valid NumericDate")
			}
			return malformed("claim " + key + " has the wrong type")
		}
		if seen&bit != 0 {
			return malformed("duplicate claim " + key)
		}
		seen |= bit
	}
	c.Username = username
	if c.Username == "" {
		c.Username = cognitoUsername
	}
	if scope != "" {
		c.Scopes = strings.Fields(scope)
	}
	return nil
}

var errBadDate = errors.New("bad NumericDate")

// numericDate reads a NumericDate: Cognito writes whole seconds, so a
// fraction, an exponent, a negative value or a year past 5000 is refused.
func numericDate(sc *jsonscan.Scanner) (time.Time, error) {
	if sc.Peek() != jsonscan.Number {
		return time.Time{}, errBadDate
	}
	n, err := sc.Int()
	if err != nil || n < 0 || n > maxNumericDate {
		return time.Time{}, errBadDate
	}
	return time.Unix(n, 0), nil
}

// boolish reads true/false, or the strings "true"/"false" some IdPs emit.
func boolish(sc *jsonscan.Scanner) (bool, error) {
	if sc.Peek() == jsonscan.String {
		s, err := sc.String()
		switch {
		case err != nil:
			return false, err
		case s == "true":
			return true, nil
		case s == "false":
			return false, nil
		}
		return false, jsonscan.ErrSyntax
	}
	return sc.Bool()
}

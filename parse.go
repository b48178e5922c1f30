package cognitoguard

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cognitoguard/cognitoguard/internal/alias"
	"github.com/cognitoguard/cognitoguard/internal/jose"
	"github.com/cognitoguard/cognitoguard/internal/jsonscan"
	"github.com/cognitoguard/cognitoguard/internal/signature"
)

const (
	maxHeaderLen = 1024 // encoded header segment
	maxKidLen    = 256
	maxSigLen    = signature.MaxRSASize
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
	raw       []byte // the payload JSON
	sig       string // the signature segment, still encoded
}

func malformed(reason string) error { return newError(ErrMalformed, reason, nil) }

// maxQuoted bounds how much of a client-chosen name an error reason shows.
const maxQuoted = 32

// quoteName renders a member name taken from a token for an error reason:
// at most maxQuoted bytes (on a rune boundary), quoted with every
// non-ASCII or control character escaped, so a name can forge neither log
// lines nor terminal escapes.
func quoteName(s string) string {
	if len(s) > maxQuoted {
		i := maxQuoted
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return strconv.QuoteToASCII(s[:i]) + "…"
	}
	return strconv.QuoteToASCII(s)
}

// objectError turns a scanner error from Next into a reason.
func objectError(what string, err error) error {
	if errors.Is(err, jsonscan.ErrDuplicate) {
		return malformed(what + " has two members whose names differ at most in case")
	}
	return malformed(what + " is not a JSON object")
}

// memberError turns an error reading the value of member key into a
// reason, the name quoted.
func memberError(what, key string, err error) error {
	switch {
	case errors.Is(err, jsonscan.ErrDuplicate):
		return malformed(what + " " + quoteName(key) + " holds an object with two members whose names differ at most in case")
	case errors.Is(err, jsonscan.ErrRange):
		return malformed(what + " " + quoteName(key) + " holds a number beyond float64's range")
	case errors.Is(err, jsonscan.ErrNumericDate):
		return malformed(what + " " + quoteName(key) + " is not a valid NumericDate")
	case errors.Is(err, errCaseVariant):
		return malformed(what + " " + quoteName(key) + " differs from a known claim only in case")
	}
	return malformed(what + " " + quoteName(key) + " has the wrong type")
}

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
	// buf is never written again (alias's invariant), so strings may
	// alias it.
	payload := buf[hl : hl+pn]
	if err := p.parseHeader(alias.String(buf[:hn])); err != nil {
		return nil, err
	}
	p.raw = payload
	if err := p.parseClaims(alias.String(payload)); err != nil {
		return nil, err
	}
	return p, nil
}

// parseHeader applies the header policy of internal/jose, then the
// core's rules: alg exactly RS256, a kid of at most maxKidLen bytes.
func (p *parsed) parseHeader(src string) error {
	h, err := jose.ParseHeader(src, nil)
	if err != nil {
		return headerError(err)
	}
	if h.Alg != "RS256" {
		return malformed("alg is not RS256")
	}
	if h.Kid == "" || len(h.Kid) > maxKidLen {
		return malformed("kid missing or too long")
	}
	p.kid = h.Kid
	return nil
}

// headerError turns an error of jose.ParseHeader into a reason.
func headerError(err error) error {
	var me *jose.MemberError
	switch {
	case !errors.As(err, &me):
		return objectError("header", err)
	case errors.Is(me.Err, jose.ErrCrit):
		return malformed("crit header not supported")
	case errors.Is(me.Err, jose.ErrRefused):
		// Key is one of the policy's fixed names: no client text.
		return malformed("header field " + me.Key + " not supported")
	}
	return memberError("header field", me.Key, me.Err)
}

// knownClaims are the payload members the verifier reads. A member whose
// name differs from one of them only in case is refused: encoding/json
// (Claims.Decode) would match it to the same struct field.
var knownClaims = [...]string{
	"iss", "sub", "token_use", "client_id", "aud", "scope", "username",
	"cognito:username", "cognito:groups", "email", "email_verified",
	"auth_time", "iat", "exp", "nbf", "jti", "origin_jti", "event_id",
}

func caseVariantOfKnown(key string) bool {
	for _, k := range knownClaims {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

// claimText holds the string claims parseClaims combines after the loop.
type claimText struct{ username, cognitoUsername, scope string }

func (p *parsed) parseClaims(src string) error {
	var sc jsonscan.Scanner
	sc.Reset(src)
	var txt claimText
	for {
		key, ok, err := sc.Next()
		if err != nil {
			return objectError("payload", err)
		}
		if !ok {
			break
		}
		if err := p.claim(&sc, key, &txt); err != nil {
			return memberError("claim", key, err)
		}
	}
	c := &p.claims
	c.Username = txt.username
	if c.Username == "" {
		c.Username = txt.cognitoUsername
	}
	if txt.scope != "" {
		c.Scopes = strings.Fields(txt.scope)
	}
	return nil
}

// errCaseVariant marks a member named like a known claim in another case.
var errCaseVariant = errors.New("case variant of a known claim")

// claim reads the value of member key. Duplicates were refused by the
// scanner, so each known claim is set at most once.
func (p *parsed) claim(sc *jsonscan.Scanner, key string, txt *claimText) error {
	c := &p.claims
	var err error
	switch key {
	case "iss":
		c.Issuer, err = sc.String()
	case "sub":
		c.Subject, err = sc.String()
	case "token_use":
		var s string
		s, err = sc.String()
		c.TokenUse = TokenUse(s)
	case "client_id":
		p.clientID, err = sc.String()
	case "aud":
		p.aud, err = sc.String()
	case "scope":
		txt.scope, err = sc.String()
	case "username":
		txt.username, err = sc.String()
	case "cognito:username":
		txt.cognitoUsername, err = sc.String()
	case "cognito:groups":
		c.Groups, err = sc.Strings(nil)
	case "email":
		c.Email, err = sc.String()
	case "email_verified":
		c.EmailVerified, err = sc.LooseBool()
	case "auth_time":
		c.AuthTime, err = sc.NumericDate()
	case "iat":
		c.IssuedAt, err = sc.NumericDate()
	case "exp":
		c.Expiry, err = sc.NumericDate()
		p.hasExp = err == nil
	case "nbf":
		c.NotBefore, err = sc.NumericDate()
	case "jti":
		c.JTI, err = sc.String()
	case "origin_jti":
		c.OriginJTI, err = sc.String()
	case "event_id":
		c.EventID, err = sc.String()
	default:
		if caseVariantOfKnown(key) {
			return errCaseVariant
		}
		err = sc.Skip()
	}
	return err
}

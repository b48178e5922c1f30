package alb

import (
	"errors"
	"strings"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/jose"
	"github.com/cognitoguard/cognitoguard/internal/jsonscan"
	"github.com/cognitoguard/cognitoguard/internal/signature"
)

// Segment bounds.
const (
	maxHeaderLen = 2048 // encoded header
)

// segments is a token split and decoded, its signature not yet checked.
type segments struct {
	header, payload []byte
	sig             []byte
	signedLen       int // len(header) + 1 + len(payload), encoded
}

// split cuts a compact JWS into its three decoded segments.
func split(token string) (*segments, error) {
	if strings.ContainsAny(token, "\r\n") {
		// The base64 decoders skip line breaks; a token must not have any.
		return nil, malformed("line break in token")
	}
	h, rest, ok1 := strings.Cut(token, ".")
	pl, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return nil, malformed("not a compact JWS (want 3 segments)")
	}
	if h == "" || pl == "" || s == "" {
		return nil, malformed("empty segment")
	}
	if len(h) > maxHeaderLen {
		return nil, malformed("header too large")
	}
	t := &segments{signedLen: len(h) + 1 + len(pl)}
	var err error
	if t.header, err = signature.DecodeSegment(h); err != nil {
		return nil, malformed("header is not base64url")
	}
	if t.payload, err = signature.DecodeSegment(pl); err != nil {
		return nil, malformed("payload is not base64url")
	}
	if t.sig, err = signature.DecodeES256(s); err == signature.ErrTooLarge {
		return nil, malformed("signature too large")
	} else if err != nil {
		return nil, malformed("signature is not 64 bytes of base64url (raw R‖S)")
	}
	return t, nil
}

// header is what the header says beyond the Claims fields.
type header struct {
	iss    string
	exp    time.Time
	hasExp bool
}

// parseHeader reads the header under the policy of internal/jose (the
// core's: crit, b64, jku, jwk and x5* refused; names unique), then the
// ALB's rules: alg exactly ES256, a kid of the ALB format, signer present.
func parseHeader(src []byte, c *Claims) (*header, error) {
	h := &header{}
	jh, err := jose.ParseHeader(string(src), func(sc *jsonscan.Scanner, key string) (bool, error) {
		var err error
		switch key {
		case "signer":
			c.Signer, err = sc.String()
		case "client":
			c.ClientID, err = sc.String()
		case "iss":
			h.iss, err = sc.String()
		case "exp":
			h.exp, err = sc.NumericDate()
			h.hasExp = true
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return nil, headerError(err)
	}
	if jh.Alg != "ES256" {
		return nil, malformed("alg is not ES256")
	}
	c.KeyID = jh.Kid
	if !kidRe().MatchString(c.KeyID) {
		return nil, newError(cognitoguard.ErrMalformed, "kid missing or not a UUID", ErrKeyID)
	}
	if c.Signer == "" {
		return nil, newError(cognitoguard.ErrIssuer, "no signer", ErrSigner)
	}
	return h, nil
}

// headerError turns an error of jose.ParseHeader into a reason that names
// no member a client chose.
func headerError(err error) error {
	var me *jose.MemberError
	if !errors.As(err, &me) {
		return malformed("header is not a JSON object")
	}
	switch me.Key {
	case "alg", "kid", "signer", "client", "iss", "exp", "typ", "cty":
	default:
		if errors.Is(me.Err, jose.ErrCrit) || errors.Is(me.Err, jose.ErrRefused) {
			return malformed("header field " + me.Key + " not supported") // a fixed name
		}
		return malformed("a header field has the wrong type")
	}
	return malformed("header field " + me.Key + " has the wrong type")
}

// parsePayload reads the claims the struct carries; exp is required.
// Member names are unique: the scanner refuses repeats.
func parsePayload(src []byte, c *Claims) error {
	var sc jsonscan.Scanner
	sc.Reset(string(src))
	hasExp := false
	for {
		key, ok, err := sc.Next()
		if err != nil {
			return malformed("payload is not a JSON object")
		}
		if !ok {
			break
		}
		switch key {
		case "sub":
			c.Subject, err = sc.String()
		case "username":
			c.Username, err = sc.String()
		case "email":
			c.Email, err = sc.String()
		case "email_verified":
			c.EmailVerified, err = sc.LooseBool()
		case "iss":
			c.Issuer, err = sc.String()
		case "exp":
			c.Expiry, err = sc.NumericDate()
			hasExp = true
		default:
			err = sc.Skip()
			key = ""
		}
		if err != nil {
			return malformed("claim " + key + " has the wrong type")
		}
	}
	if !hasExp {
		return newError(cognitoguard.ErrExpired, "no exp", nil)
	}
	if c.Subject == "" {
		return malformed("no sub")
	}
	return nil
}

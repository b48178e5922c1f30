package alb

import (
	"strings"
	"time"

	"github.com/cognitoguard/cognitoguard"
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

// parseHeader reads the header fields into c and h: alg must be ES256,
// kid of the ALB format, signer present; a known field must not repeat.
func parseHeader(src []byte, c *Claims) (*header, error) {
	var sc jsonscan.Scanner
	sc.Reset(string(src))
	h := &header{}
	var alg string
	seen := map[string]bool{}
	for {
		key, ok, err := sc.Next()
		if err != nil {
			return nil, malformed("header is not a JSON object")
		}
		if !ok {
			break
		}
		switch key {
		case "alg":
			alg, err = sc.String()
		case "kid":
			c.KeyID, err = sc.String()
		case "signer":
			c.Signer, err = sc.String()
		case "client":
			c.ClientID, err = sc.String()
		case "iss":
			h.iss, err = sc.String()
		case "exp":
			h.exp, err = sc.NumericDate()
			h.hasExp = true
		case "crit":
			return nil, malformed("crit header not supported")
		default:
			err = sc.Skip()
			key = ""
		}
		if err != nil {
			return nil, malformed("header field " + key + " has the wrong type")
		}
		if key != "" && seen[key] {
			return nil, malformed("duplicate header field " + key)
		}
		seen[key] = true
	}
	if alg != "ES256" {
		return nil, malformed("alg is not ES256")
	}
	if !kidRe.MatchString(c.KeyID) {
		return nil, newError(cognitoguard.ErrMalformed, "kid missing or not a UUID", ErrKeyID)
	}
	if c.Signer == "" {
		return nil, newError(cognitoguard.ErrIssuer, "no signer", ErrSigner)
	}
	return h, nil
}

// parsePayload reads the claims the struct carries; exp is required.
func parsePayload(src []byte, c *Claims) error {
	var sc jsonscan.Scanner
	sc.Reset(string(src))
	seen := map[string]bool{}
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
		default:
			err = sc.Skip()
			key = ""
		}
		if err != nil {
			return malformed("claim " + key + " has the wrong type")
		}
		if key != "" && seen[key] {
			return malformed("duplicate claim " + key)
		}
		seen[key] = true
	}
	if !seen["exp"] {
		return newError(cognitoguard.ErrExpired, "no exp", nil)
	}
	if c.Subject == "" {
		return malformed("no sub")
	}
	return nil
}

package jose

import (
	"errors"
	"testing"

	"github.com/cognitoguard/cognitoguard/internal/jsonscan"
)

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		want   Header
		member string // "": no *MemberError
		err    error  // nil: accepted, unless member is set
		object bool   // an object-level error
	}{
		{name: "alg and kid", src: `{"alg":"RS256","kid":"k1","typ":"JWT","cty":null,"x":[1,{"y":2}]}`, want: Header{Alg: "RS256", Kid: "k1"}},
		{name: "crit", src: `{"alg":"RS256","crit":["b64"]}`, member: "crit", err: ErrCrit},
		{name: "b64", src: `{"b64":false}`, member: "b64", err: ErrRefused},
		{name: "jku", src: `{"jku":"https://evil"}`, member: "jku", err: ErrRefused},
		{name: "jwk", src: `{"jwk":{}}`, member: "jwk", err: ErrRefused},
		{name: "x5u", src: `{"x5u":"https://evil"}`, member: "x5u", err: ErrRefused},
		{name: "x5c", src: `{"x5c":[]}`, member: "x5c", err: ErrRefused},
		{name: "x5t", src: `{"x5t":""}`, member: "x5t", err: ErrRefused},
		{name: "x5t#S256", src: `{"x5t#S256":""}`, member: "x5t#S256", err: ErrRefused},
		{name: "alg a number", src: `{"alg":1}`, member: "alg"},
		{name: "typ an object", src: `{"typ":{}}`, member: "typ"},
		{name: "duplicate alg", src: `{"alg":"RS256","alg":"none"}`, object: true},
		{name: "case variant", src: `{"alg":"RS256","ALG":"none"}`, object: true},
		{name: "not an object", src: `[]`, object: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHeader(tc.src, nil)
			var me *MemberError
			switch {
			case tc.object:
				if err == nil || errors.As(err, &me) {
					t.Fatalf("err = %v, want an object-level error", err)
				}
			case tc.member != "":
				if !errors.As(err, &me) || me.Key != tc.member || (tc.err != nil && !errors.Is(err, tc.err)) {
					t.Fatalf("err = %v, want member %s (%v)", err, tc.member, tc.err)
				}
			case err != nil || h != tc.want:
				t.Fatalf("ParseHeader = %+v, %v; want %+v", h, err, tc.want)
			}
		})
	}
}

func TestParseHeaderExtra(t *testing.T) {
	var signer string
	h, err := ParseHeader(`{"alg":"ES256","kid":"k","signer":"arn","other":true}`, func(sc *jsonscan.Scanner, key string) (bool, error) {
		if key != "signer" {
			return false, nil
		}
		var err error
		signer, err = sc.String()
		return true, err
	})
	if err != nil || h.Alg != "ES256" || signer != "arn" {
		t.Fatalf("%+v, %q, %v", h, signer, err)
	}
	// The policy's refusals come before the caller's members.
	_, err = ParseHeader(`{"jku":"x"}`, func(*jsonscan.Scanner, string) (bool, error) {
		t.Error("extra offered a refused member")
		return false, nil
	})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v", err)
	}
}

// Package signature holds the signature checks of cognitoguard's two token
// formats: RS256 over Cognito's tokens (the root package) and ES256 over an
// Application Load Balancer's data tokens (alb), from the encoded
// signature segment to the verdict: decoding, lengths, ranges, hashing.
//
// They live here, not in their packages, so that the known-answer tests of
// the judge module (Project Wycheproof's vectors) run the very code the
// verifiers run. The callers map the errors to their own.
package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
)

const (
	// MaxRSASize bounds a decoded RS256 signature: 8192-bit RSA.
	MaxRSASize = 1024
	// ES256Size is the length of a raw R‖S ES256 signature (IEEE P1363).
	ES256Size = 64
	// maxES256Segment bounds an encoded ES256 signature segment, padded
	// (88 characters) or not (86), with room to spare.
	maxES256Segment = 90
)

// Errors of the checks.
var (
	// ErrTooLarge: the segment is longer than any accepted signature.
	ErrTooLarge = errors.New("signature: too large")
	// ErrEncoding: the segment is not base64url as the format requires.
	ErrEncoding = errors.New("signature: not base64url")
	// ErrLength: the decoded signature's length is not the key's.
	ErrLength = errors.New("signature: length does not match the key")
	// ErrVerify: the signature does not verify.
	ErrVerify = errors.New("signature: does not verify")
)

var (
	padded   = base64.URLEncoding.Strict()
	unpadded = base64.RawURLEncoding.Strict()
)

// RS256 checks seg, the signature segment of a compact JWS (unpadded
// base64url, strictly decoded), as an RSASSA-PKCS1-v1_5 SHA-256 signature
// of signingInput by key. The decoded signature must be exactly as long as
// the modulus; crypto/rsa refuses a value not below it and any encoding
// but DigestInfo with SHA-256's OID and a NULL parameter. key MUST NOT be
// nil.
func RS256(key *rsa.PublicKey, signingInput, seg string) error {
	if unpadded.DecodedLen(len(seg)) > MaxRSASize {
		return ErrTooLarge
	}
	var buf [MaxRSASize]byte // on the stack
	n, err := unpadded.Decode(buf[:], []byte(seg))
	if err != nil {
		return ErrEncoding
	}
	if n != key.Size() {
		return ErrLength
	}
	sum := sha256.Sum256([]byte(signingInput))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], buf[:n]) != nil {
		return ErrVerify
	}
	return nil
}

// DecodeSegment decodes base64url with its "=" padding, as the ALB writes
// it, or without any; a wrong padding is refused.
func DecodeSegment(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return padded.DecodeString(s)
	}
	return unpadded.DecodeString(s)
}

// DecodeES256 decodes an ALB data token's signature segment
// ([DecodeSegment]), which must hold exactly [ES256Size] bytes.
func DecodeES256(seg string) ([]byte, error) {
	if len(seg) > maxES256Segment {
		return nil, ErrTooLarge
	}
	sig, err := DecodeSegment(seg)
	switch {
	case err != nil:
		return nil, ErrEncoding
	case len(sig) != ES256Size:
		return nil, ErrLength
	}
	return sig, nil
}

// ES256 checks sig, a raw R‖S signature ([ES256Size] bytes, each half
// big-endian), as an ECDSA P-256 SHA-256 signature of signingInput by key.
// crypto/ecdsa refuses R or S outside [1, N-1]. key MUST NOT be nil.
func ES256(key *ecdsa.PublicKey, signingInput string, sig []byte) error {
	if len(sig) != ES256Size {
		return ErrLength
	}
	sum := sha256.Sum256([]byte(signingInput))
	r, s := new(big.Int).SetBytes(sig[:ES256Size/2]), new(big.Int).SetBytes(sig[ES256Size/2:])
	if !ecdsa.Verify(key, sum[:], r, s) {
		return ErrVerify
	}
	return nil
}

// P256PEM reads a PEM "PUBLIC KEY" block (PKIX) holding an ECDSA P-256
// key, as the ALB's key endpoint serves it.
func P256PEM(b []byte) (*ecdsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM PUBLIC KEY")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key")
	}
	return key, nil
}

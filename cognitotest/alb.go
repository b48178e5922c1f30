package cognitotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultALBARN is the ARN of an [ALB] whose config sets none.
const DefaultALBARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/cognitotest/50dc6c495c0c9188"

// DefaultALBDataTTL is the lifetime of the data tokens an [ALB] mints.
const DefaultALBDataTTL = 2 * time.Minute

// ALBConfig configures an [ALB]. Its zero value is usable.
type ALBConfig struct {
	// ARN is the load balancer's ARN, the signer of its data tokens.
	// Default DefaultALBARN.
	ARN string
	// Now is the clock of exp. Default time.Now.
	Now func() time.Time
	// DataTTL is the lifetime of data tokens. Default DefaultALBDataTTL.
	DataTTL time.Duration
}

// ALB is a fake Application Load Balancer with Cognito authentication: it
// mints the x-amzn-oidc-data tokens an ALB adds to the requests it
// authenticated — ES256, base64url segments with their "=" padding, the
// raw 64-byte R‖S signature, header fields alg, kid, signer, iss, client
// and exp, the user's claims as Cognito's userinfo gives them (sub,
// email_verified as a string, email, username, exp, iss) — and serves its
// public keys as PEM on an httptest server at KeyURL() + "/" + kid, as
// https://public-keys.auth.elb.{region}.amazonaws.com does (404 for an
// unknown kid). All methods are safe for concurrent use. An ALB MUST be
// closed with [ALB.Close].
type ALB struct {
	arn  string
	now  func() time.Time
	ttl  time.Duration
	srv  *httptest.Server
	hits atomic.Int64

	mu   sync.Mutex
	kid  string
	key  *ecdsa.PrivateKey
	pems map[string][]byte // every key ever used, by kid
}

// NewALB starts the key server of a fake load balancer on 127.0.0.1 and
// generates its first P-256 key. The caller MUST call [ALB.Close].
func NewALB(cfg ALBConfig) *ALB {
	a := &ALB{arn: cfg.ARN, now: cfg.Now, ttl: cfg.DataTTL, pems: map[string][]byte{}}
	if a.arn == "" {
		a.arn = DefaultALBARN
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.ttl <= 0 {
		a.ttl = DefaultALBDataTTL
	}
	a.RotateKey()
	a.srv = httptest.NewServer(http.HandlerFunc(a.serveKey))
	return a
}

// Close stops the key server.
func (a *ALB) Close() { a.srv.Close() }

// ARN returns the load balancer's ARN, the signer header of its tokens.
func (a *ALB) ARN() string { return a.arn }

// KeyURL returns the base URL of the key server, without a trailing slash:
// the key of kid is at KeyURL() + "/" + kid. Configure verifiers with it
// instead of the AWS endpoint.
func (a *ALB) KeyURL() string { return a.srv.URL }

// KeyID returns the kid of the current signing key.
func (a *ALB) KeyID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.kid
}

// KeyHits returns how many requests the key server received.
func (a *ALB) KeyHits() int64 { return a.hits.Load() }

// RotateKey signs the next tokens with a new P-256 key under a new kid.
// The old keys stay served, as AWS keeps them.
func (a *ALB) RotateKey() {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("cognitotest: generating ECDSA key: " + err.Error())
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic("cognitotest: encoding ECDSA key: " + err.Error())
	}
	kid := newUUID()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.kid, a.key = kid, k
	a.pems[kid] = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func (a *ALB) serveKey(w http.ResponseWriter, r *http.Request) {
	a.hits.Add(1)
	a.mu.Lock()
	b, ok := a.pems[strings.TrimPrefix(r.URL.Path, "/")]
	a.mu.Unlock()
	if r.Method != http.MethodGet || !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(b)
}

// DataToken mints the x-amzn-oidc-data token the load balancer would add
// for a user of p signed in through p's default client (usernameOrSub is
// resolved as by [Pool.SignIn]; an unknown name adds a user).
// email_verified is present, as a string, only when the user has it. Options:
// [WithClaims] and [WithHeader] override, add or delete payload claims and
// header fields (the signature stays valid over the exact bytes),
// [WithExpiry] sets exp (payload and header) and [WithClient] the client
// header field; the others are ignored.
func (a *ALB) DataToken(p *Pool, usernameOrSub string, opts ...TokenOption) string {
	o := buildOptions(opts)
	u := p.mintUser(usernameOrSub)
	exp := a.now().Add(a.ttl)
	if !o.exp.IsZero() {
		exp = o.exp
	}
	client := p.ClientID()
	if o.clientID != "" {
		client = o.clientID
	}
	a.mu.Lock()
	kid, key := a.kid, a.key
	a.mu.Unlock()
	var h object
	h.set("typ", "JWT")
	h.set("kid", kid)
	h.set("alg", "ES256")
	h.set("iss", p.Issuer())
	h.set("client", client)
	h.set("signer", a.arn)
	h.set("exp", exp.Unix())
	h.apply(o.header)
	var c object
	c.set("sub", u.Sub)
	if v, ok := u.Attributes["email_verified"]; ok {
		c.set("email_verified", v)
	}
	if u.Email != "" {
		c.set("email", u.Email)
	}
	c.set("username", u.Username)
	c.set("exp", exp.Unix())
	c.set("iss", p.Issuer())
	c.apply(o.claims)
	return signES256(key, h.encode(), c.encode())
}

// signES256 returns the compact JWS of header and payload in the ALB's
// encoding: padded base64url, raw R‖S signature.
func signES256(k *ecdsa.PrivateKey, header, payload []byte) string {
	enc := base64.URLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
	if err != nil {
		panic(fmt.Sprintf("cognitotest: signing data token: %v", err))
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig)
}

// SetHeaders sets on h the headers the load balancer adds to a request of
// a user of p it authenticated: x-amzn-oidc-accesstoken (an access token
// of the user's current session, [Pool.AccessToken]), x-amzn-oidc-identity
// (the sub) and x-amzn-oidc-data ([ALB.DataToken]). It replaces any value
// the client sent, as the load balancer does.
func (a *ALB) SetHeaders(h http.Header, p *Pool, usernameOrSub string) {
	data := a.DataToken(p, usernameOrSub)
	u, _ := p.User(usernameOrSub)
	h.Set("X-Amzn-Oidc-Accesstoken", p.AccessToken(usernameOrSub))
	h.Set("X-Amzn-Oidc-Identity", u.Sub)
	h.Set("X-Amzn-Oidc-Data", data)
}

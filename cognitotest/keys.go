package cognitotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"sync"
)

// signingKey is a key of the pool's JWKS with its key ID.
type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

// newKeyPair generates the access-token and ID-token keys concurrently.
func newKeyPair() (access, id signingKey) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); access = newSigningKey() }()
	go func() { defer wg.Done(); id = newSigningKey() }()
	wg.Wait()
	return access, id
}

// newSigningKey generates an RSA-2048 key whose kid, like Cognito's, is a
// base64 string of 32 bytes (here the SHA-256 of the public key).
func newSigningKey() signingKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("cognitotest: generating RSA key: " + err.Error())
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic("cognitotest: encoding RSA key: " + err.Error())
	}
	sum := sha256.Sum256(der)
	return signingKey{kid: base64.StdEncoding.EncodeToString(sum[:]), key: k}
}

// RotateKeys replaces both signing keys (access and ID) with new RSA-2048
// keys with new kids. The old keys are removed from the JWKS at once, so
// tokens signed with them no longer verify against it (nor against the
// pool's own API). It takes a few hundred milliseconds.
func (p *Pool) RotateKeys() {
	access, id := newKeyPair()
	p.mu.Lock()
	p.accessKey, p.idKey = access, id
	p.mu.Unlock()
}

// AccessSigningKey returns the current private key of access tokens, whose
// kid is [Pool.AccessKeyID]. Tests MUST NOT mutate it.
func (p *Pool) AccessSigningKey() *rsa.PrivateKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accessKey.key
}

// IDSigningKey returns the current private key of ID tokens, whose kid is
// [Pool.IDKeyID]. Tests MUST NOT mutate it.
func (p *Pool) IDSigningKey() *rsa.PrivateKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idKey.key
}

// AccessKeyID returns the kid of the current access-token key.
func (p *Pool) AccessKeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accessKey.kid
}

// IDKeyID returns the kid of the current ID-token key.
func (p *Pool) IDKeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idKey.kid
}

// jwk is a public key in the member order of Cognito's JWKS.
type jwk struct {
	Alg string `json:"alg"`
	E   string `json:"e"`
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	N   string `json:"n"`
	Use string `json:"use"`
}

func publicJWK(k signingKey) jwk {
	b64 := base64.RawURLEncoding.EncodeToString
	return jwk{
		Alg: "RS256",
		E:   b64(big.NewInt(int64(k.key.E)).Bytes()),
		Kid: k.kid,
		Kty: "RSA",
		N:   b64(k.key.N.Bytes()),
		Use: "sig",
	}
}

// JWKS returns the JSON Web Key Set the pool currently serves at
// [Pool.JWKSURL] when healthy: {"keys":[access key, ID key]}.
func (p *Pool) JWKS() []byte {
	p.mu.Lock()
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{publicJWK(p.accessKey), publicJWK(p.idKey)}}
	p.mu.Unlock()
	b, err := json.Marshal(set)
	if err != nil {
		panic("cognitotest: encoding JWKS: " + err.Error())
	}
	return b
}

// SetJWKSHandler makes h answer the requests to the JWKS endpoint, for
// example to fail with a status, serve garbage, an oversized body or a
// slow response. A nil h
// restores the default handler. Requests answered by h still count in
// [Pool.JWKSHits]. A slow h SHOULD return when its request's context is
// done, or [Pool.Close] waits for it.
func (p *Pool) SetJWKSHandler(h http.Handler) {
	p.mu.Lock()
	p.jwksHandler = h
	p.mu.Unlock()
}

// JWKSHits returns how many requests reached the JWKS endpoint, whatever
// their outcome.
func (p *Pool) JWKSHits() int64 { return p.jwksHits.Load() }

func (p *Pool) serveJWKS(w http.ResponseWriter, r *http.Request) {
	p.jwksHits.Add(1)
	p.mu.Lock()
	h := p.jwksHandler
	p.mu.Unlock()
	switch {
	case h != nil:
		h.ServeHTTP(w, r)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		body := p.JWKS()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	}
}

func (p *Pool) serveOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	doc := struct {
		AuthorizationEndpoint            string   `json:"authorization_endpoint"`
		IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
		Issuer                           string   `json:"issuer"`
		JWKSURI                          string   `json:"jwks_uri"`
		ResponseTypesSupported           []string `json:"response_types_supported"`
		RevocationEndpoint               string   `json:"revocation_endpoint"`
		ScopesSupported                  []string `json:"scopes_supported"`
		SubjectTypesSupported            []string `json:"subject_types_supported"`
		TokenEndpoint                    string   `json:"token_endpoint"`
		TokenEndpointAuthMethods         []string `json:"token_endpoint_auth_methods_supported"`
		UserInfoEndpoint                 string   `json:"userinfo_endpoint"`
	}{
		p.url + "/oauth2/authorize", []string{"RS256"}, p.issuer, p.JWKSURL(), []string{"code"},
		p.url + "/oauth2/revoke", []string{"openid", "email", "phone", "profile"}, []string{"public"},
		p.url + "/oauth2/token", []string{"client_secret_basic", "client_secret_post"}, p.url + "/oauth2/userInfo",
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func (p *Pool) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if p.refuseForeign(w, r) || p.cors(w, r) {
		return
	}
	switch r.URL.Path {
	case p.jwksPath:
		p.serveJWKS(w, r)
	case p.oidcConfigPath:
		p.serveOpenIDConfiguration(w, r)
	case "/oauth2/authorize":
		p.serveAuthorize(w, r)
	case "/login":
		p.serveLogin(w, r)
	case "/oauth2/token":
		p.serveToken(w, r)
	case "/logout":
		p.serveLogout(w, r)
	case "/oauth2/revoke":
		p.serveRevoke(w, r)
	case "/oauth2/userInfo":
		p.serveUserInfo(w, r)
	case "/":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p.serveAPITraced(w, r)
	default:
		http.NotFound(w, r)
	}
}

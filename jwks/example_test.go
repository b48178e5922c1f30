package jwks_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/cognitoguard/cognitoguard/jwks"
)

// jwksFor returns a JWKS document, as Cognito serves it, with the public key
// of priv under kid.
func jwksFor(kid string, priv *rsa.PrivateKey) string {
	n := base64.RawURLEncoding.EncodeToString(priv.N.Bytes())
	return fmt.Sprintf(`{"keys":[{"alg":"RS256","e":"AQAB","kid":%q,"kty":"RSA","n":%q,"use":"sig"}]}`, kid, n)
}

func Example() {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	// A stand-in for https://cognito-idp.{region}.amazonaws.com/{userPoolId}/.well-known/jwks.json.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, jwksFor("key-1", priv))
	}))
	defer srv.Close()

	set, err := jwks.New(srv.URL+"/.well-known/jwks.json", jwks.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer set.Close()

	ctx := context.Background()
	pub, err := set.Key(ctx, "key-1") // the first lookup fetches the set
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("key-1:", pub.N.BitLen(), "bits, matches:", pub.Equal(priv.Public()))

	// An unknown kid right after a fetch: no refetch within the cooldown.
	_, err = set.Key(ctx, "forged")
	fmt.Println("forged:", errors.Is(err, jwks.ErrKeyNotFound))

	st := set.Stats()
	fmt.Println("fetches:", st.Fetches, "misses:", st.Misses, "keys:", st.Keys)
	// Output:
	// key-1: 2048 bits, matches: true
	// forged: true
	// fetches: 1 misses: 2 keys: 1
}

// Lookups tell a bad key ID (401) from a key set that cannot be loaded (503).
func ExampleSet_Key() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	set, err := jwks.New(srv.URL, jwks.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer set.Close()

	_, err = set.Key(context.Background(), "key-1")
	switch {
	case errors.Is(err, jwks.ErrKeyNotFound):
		fmt.Println("401: unknown key")
	case errors.Is(err, jwks.ErrUnavailable):
		fmt.Println("503:", err)
	case err == nil:
		fmt.Println("verify the signature")
	}
	// Output:
	// 503: jwks: key set unavailable: unexpected HTTP status 503 Service Unavailable
}

// Refresh fetches the key set eagerly, for example at start-up, so that the
// first request does not wait for it.
func ExampleSet_Refresh() {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, jwksFor("key-1", priv))
	}))
	defer srv.Close()
	set, err := jwks.New(srv.URL, jwks.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer set.Close()

	if err := set.Refresh(context.Background()); err != nil {
		log.Printf("keys not loaded yet, will retry on first use: %v", err)
	}
	fmt.Println("keys:", set.Stats().Keys)
	// Output: keys: 1
}

// Parse reads a key set held in memory, for static configuration or tests,
// with the same key filter as a Set: here the EC key and the 1024-bit key are
// skipped.
func ExampleParse() {
	big, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		log.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	doc := fmt.Sprintf(`{"keys":[
		{"kty":"RSA","use":"sig","alg":"RS256","kid":"rsa-2048","n":%q,"e":"AQAB"},
		{"kty":"RSA","use":"sig","alg":"RS256","kid":"rsa-1024","n":%q,"e":"AQAB"},
		{"kty":"EC","use":"sig","alg":"ES256","kid":"ec","crv":"P-256","x":"AA","y":"AA"}
	]}`, b64(big.N.Bytes()), b64(small.N.Bytes()))

	keys, err := jwks.Parse([]byte(doc))
	if err != nil {
		log.Fatal(err)
	}
	for kid, pub := range keys {
		fmt.Println(kid, pub.N.BitLen())
	}
	// Output: rsa-2048 2048
}

package alb

import (
	"net/http"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// MiddlewareConfig holds the optional settings of [NewMiddleware].
type MiddlewareConfig struct {
	// Realm is the realm of the WWW-Authenticate challenges. Default
	// [middleware.DefaultRealm].
	Realm string

	// ErrorHandler writes the response of a rejected request. Default
	// [middleware.WriteError] with Realm: 401, or 503 when the key cannot
	// be fetched. It MUST NOT send err's text to the client.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// NewMiddleware returns middleware that lets a request through only when
// its x-amzn-oidc-data token verifies with v; the claims are then stored in
// the request context ([FromContext] reads them). When the context already
// carries cognitoguard claims — the cognitoguard middleware with
// [AccessTokenExtractor] ran first, as it should — the data token MUST name
// the same user (sub), else the request is refused with
// [ErrSubjectMismatch] (401).
//
// The data token has no auth_time, so it cannot prove its user did not sign
// out: revocation applies only through the access token. Put this
// middleware behind the cognitoguard one:
//
//	access := middleware.New(cognitoVerifier, middleware.Config{Extractor: alb.AccessTokenExtractor})
//	data := alb.NewMiddleware(albVerifier, alb.MiddlewareConfig{})
//	handler := access(data(app))
//
// NewMiddleware panics if v is nil. The middleware is safe for concurrent
// use.
func NewMiddleware(v *Verifier, cfg MiddlewareConfig) func(http.Handler) http.Handler {
	if v == nil {
		panic("alb: NewMiddleware: nil Verifier")
	}
	reject := cfg.ErrorHandler
	if reject == nil {
		realm := cfg.Realm
		reject = func(w http.ResponseWriter, r *http.Request, err error) {
			middleware.WriteError(w, r, err, realm)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := DataToken(r)
			if err != nil {
				reject(w, r, err)
				return
			}
			c, err := v.Verify(r.Context(), tok)
			if err != nil {
				reject(w, r, err)
				return
			}
			if ac, ok := cognitoguard.FromContext(r.Context()); ok && ac.Subject != c.Subject {
				reject(w, r, newError(cognitoguard.ErrInvalidToken, "data token of another user", ErrSubjectMismatch))
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
		})
	}
}

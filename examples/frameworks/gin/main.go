// Command gin protects a gin engine with cognitoguard. gin handlers are not
// net/http handlers, so a small adapter ([wrap]) runs the net/http
// middleware (middleware.New, middleware.RequireGroups, …): when it lets
// the request through, the request carrying the claims replaces
// c.Request, the claims are copied into the gin.Context, and the chain
// goes on; when it answers (401, 403, 503), the chain is aborted.
//
//	go run ./gin -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789
//
// Routes: GET /healthz (public), GET /me (any valid access token), GET
// /admin (group admin; 403 otherwise).
package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
)

func init() {
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
}

// claimsKey is the gin.Context key of the claims: an unexported type, so
// that no other package can read or overwrite them by name.
type claimsKey struct{}

// wrap adapts net/http middleware to gin. It suits middleware that writes
// its rejections itself and does not replace the ResponseWriter, as those
// of cognitoguard do.
func wrap(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r // its context carries the claims
			if claims, ok := cognitoguard.FromContext(r.Context()); ok {
				c.Set(claimsKey{}, claims)
			}
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

// claimsOf returns the claims [wrap] copied into c.
func claimsOf(c *gin.Context) (*cognitoguard.Claims, bool) {
	v, _ := c.Get(claimsKey{})
	claims, ok := v.(*cognitoguard.Claims)
	return claims, ok
}

// newRouter returns the gin engine, verifying tokens with v.
func newRouter(v middleware.Verifier, log *slog.Logger) http.Handler {
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	auth := r.Group("/", wrap(middleware.New(v, middleware.Config{Logger: log})))
	auth.GET("/me", func(c *gin.Context) {
		// Either accessor works: the request's context, or the gin.Context.
		claims, _ := cognitoguard.FromContext(c.Request.Context())
		c.JSON(http.StatusOK, meOf(claims))
	})
	auth.GET("/admin", wrap(middleware.RequireGroups("admin")), func(c *gin.Context) {
		claims, _ := claimsOf(c)
		c.String(http.StatusOK, "hello, admin %s\n", claims.Username)
	})
	return r
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(string)) error {
	return runRouter(ctx, "gin", newRouter, args, stdout, stderr, ready)
}

func main() { mainWith("gin", newRouter) }

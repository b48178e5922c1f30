// Command echo protects an Echo server with cognitoguard. echo.WrapMiddleware
// runs net/http middleware (middleware.New, middleware.RequireGroups, …) and
// hands the request carrying the claims to the next handler, which reads
// them with cognitoguard.FromContext(c.Request().Context()).
//
//	go run ./echo -user-pool-id eu-west-1_AbCdEf123 -client-id 1example23456789
//
// Routes: GET /healthz (public), GET /me (any valid access token), GET
// /admin (group admin; 403 otherwise).
package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
)

// newRouter returns the Echo server, verifying tokens with v.
func newRouter(v middleware.Verifier, log *slog.Logger) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	auth := e.Group("", echo.WrapMiddleware(middleware.New(v, middleware.Config{Logger: log})))
	auth.GET("/me", func(c echo.Context) error {
		claims, _ := cognitoguard.FromContext(c.Request().Context())
		return c.JSON(http.StatusOK, meOf(claims))
	})
	auth.GET("/admin", func(c echo.Context) error {
		claims, _ := cognitoguard.FromContext(c.Request().Context())
		return c.String(http.StatusOK, "hello, admin "+claims.Username+"\n")
	}, echo.WrapMiddleware(middleware.RequireGroups("admin")))
	return e
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(string)) error {
	return runRouter(ctx, "echo", newRouter, args, stdout, stderr, ready)
}

func main() { mainWith("echo", newRouter) }

// Package middleware adapts a [cognitoguard.Verifier] to net/http: it
// extracts the bearer token, verifies it, stores the claims in the request
// context and answers rejected requests as RFC 6750 §3 prescribes.
//
// # Quick start
//
//	v, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{"my-app-client-id"}, cognitoguard.Config{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
//		claims, _ := cognitoguard.FromContext(r.Context())
//		fmt.Fprintln(w, claims.Subject, claims.Username)
//	})
//	mux.Handle("POST /admin/", middleware.RequireGroups("admin")(adminHandler))
//
//	auth := middleware.New(v, middleware.Config{Logger: slog.Default()})
//	srv := &http.Server{Addr: ":8080", Handler: auth(mux), ReadHeaderTimeout: 10 * time.Second}
//	log.Fatal(srv.ListenAndServe())
//
// # Extraction
//
// By default the token is read from the Authorization header ([BearerToken]):
// exactly one such header, the scheme "Bearer" in any case, one or more
// spaces or tabs, then a token of the RFC 6750 b64token grammar of at most
// 16 KiB ([Config.MaxTokenSize]). Another scheme (Basic) counts as no
// token. [Config.Cookie] names a cookie read when there is no Authorization
// header; [Config.Extractor] replaces both. Extraction failures are
// [*cognitoguard.Error] values, like the Verifier's, so that one
// errors.Is serves both. In front of a [*cognitoguard.Verifier] the
// middleware leaves the character check to the Verifier, whose parser
// accepts only base64url and dots (a subset of b64token) and rejects the
// rest as [cognitoguard.ErrMalformed]: scanning a 1 KiB token twice would
// cost as much as a whole cached verification.
//
// # Responses
//
// Each rejection is answered according to [cognitoguard.Class] of its error
// (the realm is [Config.Realm], "api" by default):
//
//	check failed                           status  WWW-Authenticate
//	no token, or another scheme            401     Bearer realm="api"
//	several Authorization headers          401     Bearer realm="api", error="invalid_request", error_description="…"
//	token invalid (shape, signature,       401     Bearer realm="api", error="invalid_token", error_description="…"
//	  issuer, token_use, client, time)
//	token revoked (user signed out)        401     Bearer realm="api", error="invalid_token", error_description="Access Token has been revoked"
//	  (an ID token: "Token has been revoked")
//	scope, group or custom check           403     Bearer realm="api", error="insufficient_scope", error_description="…"[, scope="…"]
//	keys or revocation store unavailable,  503     (none), Retry-After: 1
//	  or any unclassified error
//
// The error_description is fixed text chosen by the error's sentinel, such
// as "The access token expired"; the body repeats the code and the
// description as JSON ({"error":"invalid_token","error_description":"…"}),
// with Cache-Control no-store. No response contains the token or an
// error's own text, which may carry details meant for the log only.
// An unknown error is a 503, never a 401 (it may be an outage) nor a 500.
//
// Several Authorization headers get 401 with error="invalid_request",
// although RFC 6750 §3.1 suggests 400 for invalid_request: the request
// carries no usable token, which the verification contract answers with 401
// and a challenge, and clients that retry authentication on 401 recover.
//
// # Authorization
//
// [RequireScopes] (all of them), [RequireGroups] (any of them) and [Require]
// (a custom check) are middleware placed behind New on the routes that need
// them; they answer 403. They read the claims New stored: without New in
// front they answer 401, failing closed. Scopes and groups required on
// every route are cheaper in the Verifier's Config.
//
// # Logging
//
// Rejections are logged at Debug with the error's class, kind and reason
// (never the token nor the header); unavailability at Warn with the error,
// through [Config.Logger] and the request's context.
//
// # Performance
//
// Extraction from the header does not allocate. On success New adds to
// Verify two allocations: the context value of the claims and the shallow
// copy of the request that carries it (one more, for the Require functions,
// when Config sets Realm, RetryAfter, ErrorHandler or Logger). The
// rejection paths allocate a little more and never call fmt.
package middleware

// Package forwardauth answers the authorization sub-requests of reverse
// proxies — nginx auth_request, Caddy forward_auth, Traefik ForwardAuth,
// Envoy ext_authz (HTTP) — with the same verification, revocation store and
// sign-outs as the Go services, so that services in any language behind
// the proxy honour sign-outs too.
//
// The proxy sends each client request's headers (Authorization, Cookie) to
// the check endpoint, [New]; a 200 answer carries the identity headers
// (sub, username, groups, scope, token use), which the proxy copies onto
// the request it forwards to the upstream. Any other answer goes back to
// the client: 401 with WWW-Authenticate, 403, or 503 with Retry-After.
//
// # Quick start
//
//	v, err := cognitoguard.NewVerifier("eu-west-1_AbCdEf123", []string{"my-app-client-id"}, cognitoguard.Config{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	check, err := forwardauth.New(v, forwardauth.Config{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv := &http.Server{Addr: "127.0.0.1:9091", Handler: check, ReadHeaderTimeout: 10 * time.Second}
//	log.Fatal(srv.ListenAndServe())
//
// Command cognitoguard-forwardauth serves it with flags, and the sign-out
// routes on a listener of their own.
//
// # Identity headers
//
// Every 200 answer carries all five headers, empty when the token has no
// such claim. Proxies copy a header only when the answer has it (nginx
// passes an empty variable as no header at all, Caddy copies no empty
// value), so the proxy configuration MUST also delete the headers of these
// names that the client sent, in any case, or a client could forge them.
// It MUST also drop every client header whose name holds a byte other than
// [A-Za-z0-9-]: CGI-style upstreams (PHP, php-fpm, WSGI) read X-Auth.Sub
// and X_Auth_Sub as X-Auth-Sub, and the last one wins. The configurations
// in examples/forwardauth do both, and are tested against real nginx and
// Caddy in front of PHP's built-in server and php-fpm.
package forwardauth

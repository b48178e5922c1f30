// Package hostedui is the example of a Cognito web app that signs in
// through the managed login (hosted UI) with the authorization-code flow
// and PKCE, as most Cognito web apps do, calls an API service with the
// user's access token, and signs out everywhere. It uses only the public
// API of cognitoguard and golang.org/x/oauth2, so it can be copied. The
// command examples/hostedui runs its two services: the web app ([New]) and
// the API ([NewAPI]); the e2e module drives them with a headless browser.
//
// # Routes of the web app
//
//	GET  /          the user's name and sub, "Call the API" and "Sign out"; or "Sign in"
//	GET  /login     a new state and PKCE verifier (S256) in the login cookie; 303 to
//	                the managed login's /oauth2/authorize (scopes openid and
//	                aws.cognito.signin.user.admin)
//	GET  /callback  state checked against the cookie; code exchanged with the
//	                verifier; access token verified (revocation included); a new
//	                server-side session; 303 to /
//	GET  /call-api  GET {APIURL}/me with the access token; its answer shown
//	POST /logout    signout.Helper.GlobalSignOut (recorded in the shared store, then
//	                Cognito), session ended, 303 to the managed login's logout
//	                (signout.LogoutURL), which ends its session cookie and comes
//	                back to /
//	GET  /healthz   readiness: 200 once the pool's keys and the store are ready, else 503
//
// # Security choices
//
//   - The browser holds two cookies, both HttpOnly, SameSite=Lax, Path=/,
//     and Secure with the __Host- prefix when PublicURL is https (http is
//     accepted only on a loopback host, for development): the login cookie
//     (state and PKCE verifier, ten minutes, single use) and the session
//     cookie (a random 256-bit ID). Tokens never reach the browser: the
//     access and refresh tokens stay in the server-side session, which
//     refreshes the access token through x/oauth2 when it expires.
//   - Sessions live in memory, bounded by count, bytes, sessions per user
//     and an absolute lifetime (Config.MaxSessions and the others); the
//     oldest make room for new ones. Several instances of the web app need
//     sticky sessions or a shared session store; the sign-outs they record
//     are shared either way.
//   - Every request of a session verifies its access token with the
//     Verifier, revocation included: a sign-out made anywhere (another
//     device, an administrator, the events consumer) ends the session here.
//   - A callback whose token is revoked means that the managed login signed
//     the user in with its own session cookie, from a sign-in made before a
//     sign-out (such tokens keep that sign-in's auth_time): the app starts
//     again with prompt=login, so that the user types the password.
//   - Signing out is a POST behind [http.CrossOriginProtection]; pages
//     carry a Content-Security-Policy whose form-action allows this origin
//     and the managed login's (the logout POST redirects there),
//     frame-ancestors 'none', Referrer-Policy no-referrer and Cache-Control
//     no-store. A sign-out that could not be recorded keeps the session and
//     says so, so that the user can retry; one that Cognito failed after it
//     was recorded is logged by the helper and completed here.
//   - Errors of the managed login and the token endpoint are logged, never
//     echoed.
//
// # The app client
//
// The authorization-code grant, scopes openid and
// aws.cognito.signin.user.admin (GlobalSignOut needs the latter; a
// sign-in whose token lacks it is refused), PublicURL + "/callback" among
// its callback URLs and PublicURL + "/" among its sign-out URLs. A client
// secret is optional (Config.ClientSecret, from HOSTEDUI_CLIENT_SECRET).
package hostedui

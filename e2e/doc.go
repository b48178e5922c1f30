// Package e2e holds the browser tests of cognitoguard: headless Chromium,
// driven through the Chrome DevTools Protocol by chromedp, signs in to the
// example web app (examples/webapp) against a fake Cognito user pool
// (cognitotest), signs out, and the test checks that the sign-out is
// honoured. Its OAuth tests drive the fake pool's OAuth endpoints
// (authorization code with PKCE, refresh, client credentials) with
// golang.org/x/oauth2, which the root module does not depend on either.
//
// It is a separate module so that the root module does not depend on
// chromedp. Run it with
//
//	cd e2e && go test ./...
//
// The browser is $CHROMIUM, else chromium or chromium-browser on PATH, else
// /usr/bin/chromium (Debian: apt-get install chromium). Without one the
// tests are skipped, unless COGNITOGUARD_INTEGRATION=1, which makes a
// missing browser a failure. E2E_SCREENSHOT_DIR keeps the screenshot of the
// protected page (default: the test's temporary directory).
package e2e

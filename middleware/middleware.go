package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/internal/bearer"
	"github.com/cognitoguard/cognitoguard/internal/logs"
	"github.com/cognitoguard/cognitoguard/internal/quoted"
	"github.com/cognitoguard/cognitoguard/internal/retryafter"
)

// Verifier checks a token and returns its claims. [*cognitoguard.Verifier]
// implements it; tests may use a fake. Implementations MUST be safe for
// concurrent use and MUST return errors matching the sentinels of package
// cognitoguard (any other error is answered 503, see [WriteError]).
type Verifier interface {
	Verify(ctx context.Context, token string) (*cognitoguard.Claims, error)
}

var _ Verifier = (*cognitoguard.Verifier)(nil)

// Config holds the optional settings of [New]. Its zero value reads the
// token from the Authorization header only, answers with realm "api" and
// Retry-After 1, and logs nothing.
type Config struct {
	// Realm is the realm of the WWW-Authenticate challenges. Default
	// [DefaultRealm] ("api"). It is quoted and escaped.
	Realm string

	// Cookie, if set, names a cookie holding the token, read only when the
	// request has no Authorization header at all (an Authorization header
	// of another scheme, such as Basic, is answered 401 and the cookie is
	// not consulted). The value follows the same rules as a header token;
	// several cookies of that name are refused ([cognitoguard.ErrInvalidRequest]), as a
	// sibling domain may plant one. A site reading tokens from cookies
	// MUST protect its state-changing routes against cross-site requests
	// (SameSite cookies, [http.CrossOriginProtection]).
	Cookie string

	// Extractor, if set, replaces the header and cookie extraction
	// entirely (Cookie is then ignored). Returning "" and a nil error
	// means no token ([cognitoguard.ErrNoToken]). Its errors SHOULD match
	// [cognitoguard.ErrNoToken] or [cognitoguard.ErrInvalidToken] (for
	// example [cognitoguard.ErrMalformed]); any other error is classed
	// [cognitoguard.ErrUnavailable] and answered 503. The token it returns
	// is bounded by the Verifier (cognitoguard.Config.MaxTokenSize), not
	// by MaxTokenSize.
	Extractor func(*http.Request) (string, error)

	// ErrorHandler writes the response of a rejected request. Default:
	// [WriteError] with Realm (and RetryAfter). It receives the
	// [*cognitoguard.Error] (or the Verifier's error), to be inspected with
	// errors.Is or [cognitoguard.Class]; it MUST NOT send err's text to the
	// client. It is also used by [RequireScopes], [RequireGroups] and
	// [Require] behind this middleware. Rejections are logged before it is
	// called.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// RetryAfter is the Retry-After of 503 responses, written in whole
	// seconds rounded up. Default (zero or negative) 1s.
	RetryAfter time.Duration

	// MaxTokenSize bounds the length of a token read from the header or the
	// cookie; a longer one is [cognitoguard.ErrMalformed] and is not
	// scanned. Default [cognitoguard.DefaultMaxTokenSize] (16 KiB). Keep it
	// equal to the Verifier's own bound.
	MaxTokenSize int

	// Optional lets a request that carries no credential at all (no
	// Authorization header and no Cookie) through, without claims in its
	// context; handlers then MUST check [cognitoguard.FromContext]. A
	// request with a credential is checked as usual: a malformed one (two
	// Authorization headers, an empty Bearer, another scheme) and a bad,
	// expired or revoked token are still rejected. With an Extractor, "no
	// credential" is the Extractor returning "" and a nil error.
	Optional bool

	// Logger receives a Debug record for every rejected request (method,
	// path, class, kind and reason of the error, and the sub once the
	// token's signature verified; never the token, the header or the query)
	// and a Warn record when verification is unavailable (with the error
	// text, which comes from the key source or revocation store). Nil: the
	// Verifier's logger when it has a Logger method (as
	// [cognitoguard.Verifier.Logger]), else nothing is logged.
	Logger *slog.Logger
}

// settings is what a rejection needs. New stores it in the request
// context (when it differs from the default) for the Require functions.
type settings struct {
	realm        string // quoted, without the surrounding quotes
	retryAfter   string
	errorHandler func(http.ResponseWriter, *http.Request, error)
	log          *slog.Logger
}

var defaultSettings = &settings{
	realm:      DefaultRealm,
	retryAfter: "1",
	log:        logs.Discard,
}

type settingsKey struct{}

func settingsFrom(ctx context.Context) *settings {
	if s, ok := ctx.Value(settingsKey{}).(*settings); ok {
		return s
	}
	return defaultSettings
}

// New returns middleware that lets a request through only when it carries a
// token v accepts. The token is read from the Authorization header (see
// [BearerToken]), else from [Config.Cookie], or by [Config.Extractor]. On
// success the claims are stored in the request context with
// [cognitoguard.NewContext] ([cognitoguard.FromContext] reads them) and
// next is called; otherwise next is not called and the response is written
// by [Config.ErrorHandler], by default [WriteError]: 401, 403 or 503 as
// the package documentation tables, never 500 and never the token.
//
// New panics if v is nil or cfg.MaxTokenSize is negative. The returned
// middleware is safe for concurrent use. On success it allocates only the
// new context and the shallow request copy (plus one small context value
// when cfg sets Realm, RetryAfter, ErrorHandler or Logger, for the Require
// functions), on top of what v.Verify allocates.
func New(v Verifier, cfg Config) func(http.Handler) http.Handler {
	if v == nil {
		panic("middleware: New: nil Verifier")
	}
	if cfg.MaxTokenSize < 0 {
		panic("middleware: New: negative MaxTokenSize")
	}
	s, custom := newSettings(v, cfg)
	src := newSource(v, cfg)
	optional := cfg.Optional
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("middleware: nil next handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, none, err := src.token(r)
			if none && optional {
				next.ServeHTTP(w, r)
				return
			}
			if err != nil {
				s.reject(w, r, err)
				return
			}
			ctx := r.Context()
			claims, err := v.Verify(ctx, tok)
			if err == nil && claims == nil {
				// A broken Verifier must not let the request in.
				err = &cognitoguard.Error{Kind: cognitoguard.ErrUnavailable, Reason: "verifier returned neither claims nor error"}
			}
			if err != nil {
				s.reject(w, r, err)
				return
			}
			if custom {
				ctx = context.WithValue(ctx, settingsKey{}, s)
			}
			next.ServeHTTP(w, r.WithContext(cognitoguard.NewContext(ctx, claims)))
		})
	}
}

// newSettings returns the settings of cfg and whether they differ from
// the defaults: the Require functions find them in the context, and the
// default ones need no context value (and no allocation).
func newSettings(v Verifier, cfg Config) (*settings, bool) {
	realm := cfg.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	s := &settings{
		realm:        quoted.Escape(realm),
		retryAfter:   retryafter.Seconds(cfg.RetryAfter),
		errorHandler: cfg.ErrorHandler,
		log:          logs.Of(cfg.Logger, v),
	}
	custom := s.realm != defaultSettings.realm || s.retryAfter != defaultSettings.retryAfter ||
		s.errorHandler != nil || s.log != defaultSettings.log
	return s, custom
}

// source is where a request's token is read, as [Config] says.
type source struct {
	extract func(*http.Request) (string, error)
	cookie  string
	maxSize int
	grammar bool // check the b64token grammar here (the Verifier does not)
}

func newSource(v Verifier, cfg Config) *source {
	src := &source{extract: cfg.Extractor, cookie: cfg.Cookie, maxSize: cfg.MaxTokenSize}
	if src.maxSize == 0 {
		src.maxSize = cognitoguard.DefaultMaxTokenSize
	}
	// The core Verifier accepts only base64url and '.', a subset of the
	// b64token grammar, and rejects anything else as ErrMalformed: scanning
	// the token here too would cost as much as the whole cached
	// verification.
	_, core := v.(*cognitoguard.Verifier)
	src.grammar = !core
	return src
}

// token returns the request's token; none reports that the request
// carries no credential at all.
func (src *source) token(r *http.Request) (tok string, none bool, err error) {
	switch {
	case src.extract != nil:
		tok, err = src.extract(r)
		if err == nil && tok == "" {
			return "", true, bearer.NoToken("extractor found no token")
		}
		return tok, false, err
	case src.cookie != "" && len(r.Header["Authorization"]) == 0:
		tok, err = extractCookie(r, src.cookie, src.maxSize, src.grammar)
		// none is asked only of a failure: a success parses no cookie twice.
		return tok, err != nil && !hasCookie(r, src.cookie), err
	default:
		tok, err = bearerToken(r, src.maxSize, src.grammar)
		return tok, err != nil && len(r.Header["Authorization"]) == 0, err
	}
}

// hasCookie reports whether r carries a cookie named name.
func hasCookie(r *http.Request, name string) bool { return len(r.CookiesNamed(name)) > 0 }

// reject logs err and writes the response.
func (s *settings) reject(w http.ResponseWriter, r *http.Request, err error) {
	s.logRejection(r, err)
	if s.errorHandler != nil {
		s.errorHandler(w, r, err)
		return
	}
	writeError(w, err, s.realm, s.retryAfter)
}

func (s *settings) logRejection(r *http.Request, err error) {
	ctx := r.Context()
	level := slog.LevelDebug
	unavailable := cognitoguard.Class(err) == cognitoguard.ErrUnavailable
	if unavailable && ctx.Err() == nil {
		// A request whose client went away fails for that reason: that
		// is no outage.
		level = slog.LevelWarn
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	class, _, kind, _ := classify(err)
	var reason string
	var e *cognitoguard.Error
	if errors.As(err, &e) {
		reason = e.Reason
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("class", class), slog.String("kind", kind), slog.String("reason", reason),
	}
	if e != nil && e.Subject != "" {
		attrs = append(attrs, slog.String("sub", e.Subject))
	}
	if unavailable {
		errText := "<nil>"
		if err != nil {
			errText = err.Error()
		}
		attrs = append(attrs, slog.String("error", errText))
		s.log.LogAttrs(ctx, level, "middleware: token verification unavailable", attrs...)
		return
	}
	s.log.LogAttrs(ctx, level, "middleware: request rejected", attrs...)
}

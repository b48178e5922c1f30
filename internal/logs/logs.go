// Package logs holds the one rule by which the library's components
// inherit a logger, so that a service sets its logger once, on whatever it
// builds first: the Verifier takes its revocation store's, and everything
// built on the Verifier (middleware, sign-out helper and handlers, gRPC
// guard) takes the Verifier's.
package logs

import "log/slog"

// Source is implemented by the components whose logger others inherit:
// cognitoguard.Verifier, the stores of package revocation and
// signout.Helper.
type Source interface {
	Logger() *slog.Logger
}

// Discard is the logger of a component that inherits none.
var Discard = slog.New(slog.DiscardHandler)

// Of returns l when it is set, else the logger of from when from is a
// [Source] with a logger, else a logger that discards everything.
func Of(l *slog.Logger, from any) *slog.Logger {
	if l != nil {
		return l
	}
	if s, ok := from.(Source); ok {
		if sl := s.Logger(); sl != nil {
			return sl
		}
	}
	return Discard
}

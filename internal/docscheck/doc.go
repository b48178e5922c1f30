// Package docscheck holds the tests that keep the documentation true: every
// Go block of README.md and docs/*.md compiles against the checkout (a
// temporary module with a replace directive for each module of the
// repository), every backticked Go reference (pkg.Ident, Type.Field, the
// fields of a "field" table, package and file paths) resolves, and the
// README's local-development program runs against cmd/cognitotest and a
// real redis-server.
//
// A Go block is either a whole file (it starts with a package clause) or
// top-level declarations, to which the check adds a package clause and the
// imports its qualifiers name. The tests need the go command; they are
// skipped under -short.
//
// It has no code of its own: the package exists for its tests, and imports
// only the standard library and internal test helpers.
package docscheck

// Package docscheck holds the tests that keep the documentation true.
//
// TestDocs reads README.md and docs/*.md:
//
//   - Every Go block compiles and passes go vet in a temporary module
//     outside the checkout that replaces every module of the repository
//     with its directory (so grpcguard, otelguard, awsevents … resolve
//     against the checkout too). A block is a whole file (package clause
//     first) or top-level declarations, to which the check adds a package
//     clause and the imports its qualifiers name; a //line directive makes
//     errors point at the Markdown line.
//   - Every backticked Go reference resolves, with go/types over the export
//     data the go command compiled: pkg.Ident[.Field|.Method] for the
//     packages of the root module and of the separate modules, a few
//     standard ones and the root module's direct dependencies;
//     Type.Field for an exported type of the root module (a type of
//     another module is written pkg.Type.Field); the keys of a composite
//     literal (middleware.Config{Optional: true}); and each name in the
//     first column of a table headed "field", as a field of the type
//     named in backticks in the section heading.
//   - Module package paths and paths of the checkout (examples/api,
//     revocation/redis_wire.go) exist, and relative links reach a file
//     and, with a #fragment, one of its headings.
//
// TestLocalDevelopment runs the README's Install commands and its Local
// development program, word for word, in a module outside the checkout,
// against cmd/cognitotest and a real redis-server.
//
// The tests need the go command and are skipped under -short; when a
// module must be downloaded and cannot be, or redis-server is missing,
// they skip, and fail instead under COGNITOGUARD_INTEGRATION=1.
//
// The package has no code of its own, only tests, which import the
// standard library and internal test helpers.
package docscheck

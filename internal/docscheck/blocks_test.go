package docscheck

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// externalPackages are the packages other than the repository's that Go
// blocks may use without importing them and code spans may name: the
// standard library and the root module's direct dependencies.
var externalPackages = map[string]string{
	"context":                 "context",
	"errors":                  "errors",
	"fmt":                     "fmt",
	"http":                    "net/http",
	"log":                     "log",
	"os":                      "os",
	"signal":                  "os/signal",
	"slog":                    "log/slog",
	"strings":                 "strings",
	"time":                    "time",
	"redis":                   "github.com/redis/go-redis/v9",
	"aws":                     "github.com/aws/aws-sdk-go-v2/aws",
	"config":                  "github.com/aws/aws-sdk-go-v2/config",
	"credentials":             "github.com/aws/aws-sdk-go-v2/credentials",
	"cognitoidentityprovider": "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider",
}

// blockOnlyPackages are imported for Go blocks only: their modules are
// required only when a block uses them, so code spans do not resolve them.
var blockOnlyPackages = map[string]string{
	"grpc": "google.golang.org/grpc",
}

// importIndex maps a package name to the import paths it may stand for.
type importIndex map[string][]string

func newImportIndex(pkgs []pkgInfo) importIndex {
	idx := importIndex{}
	for _, p := range pkgs {
		if p.root {
			idx[p.name] = append([]string{p.path}, idx[p.name]...)
		} else {
			idx[p.name] = append(idx[p.name], p.path)
		}
	}
	for name, path := range externalPackages {
		if _, ok := idx[name]; !ok {
			idx[name] = []string{path}
		}
	}
	return idx
}

// blockSource is the file a Go block compiles as, in package dir pkg: a
// whole file as written, or declarations with a package clause and the
// imports their qualifiers name. A //line directive makes the compiler
// report positions in the Markdown file.
func blockSource(b goBlock, pkg string, idx importIndex) (string, error) {
	directive := fmt.Sprintf("//line %s:%d\n", b.file, b.line)
	if strings.HasPrefix(strings.TrimSpace(b.code), "package ") || strings.Contains(b.code, "\npackage ") {
		return directive + b.code, nil
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+b.code, parser.SkipObjectResolution)
	if err != nil {
		return "", fmt.Errorf("%s:%d: a Go block is a whole file (package clause first) or top-level declarations: %v", b.file, b.line, err)
	}
	declared := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			for _, id := range n.Names {
				declared[id.Name] = true
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				declared[id.Name] = true
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, e := range n.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						declared[id.Name] = true
					}
				}
			}
		case *ast.FuncDecl:
			declared[n.Name.Name] = true
		case *ast.TypeSpec:
			declared[n.Name.Name] = true
		}
		return true
	})
	imports := map[string]string{}
	var missing []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || declared[id.Name] {
			return true
		}
		if p, ok := blockOnlyPackages[id.Name]; ok {
			imports[id.Name] = p
		} else if paths := idx[id.Name]; len(paths) > 0 {
			imports[id.Name] = paths[0]
		} else {
			missing = append(missing, id.Name)
		}
		return true
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", fmt.Errorf("%s:%d: the Go block uses %s, which is neither declared in it nor a package the check knows (add it to externalPackages)", b.file, b.line, strings.Join(missing, ", "))
	}
	var src strings.Builder
	fmt.Fprintf(&src, "package %s\n\nimport (\n", pkg)
	names := make([]string, 0, len(imports))
	for n := range imports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&src, "\t%s %q\n", n, imports[n])
	}
	src.WriteString(")\n\n" + directive + b.code)
	return src.String(), nil
}

// gofmtError reports a Go block that gofmt would change.
func gofmtError(b goBlock) error {
	src, prefix := b.code, ""
	if !strings.HasPrefix(strings.TrimSpace(src), "package ") {
		prefix = "package p\n\n"
	}
	out, err := format.Source([]byte(prefix + src))
	if err != nil {
		return nil // the compiler reports it
	}
	if !bytes.Equal(out, []byte(prefix+src)) {
		return fmt.Errorf("%s:%d: gofmt would change the Go block; gofmt says:\n%s", b.file, b.line, strings.TrimPrefix(string(out), prefix))
	}
	return nil
}

// writeBlocks writes each Go block as a package of dir and returns the
// errors of blocks that are neither files nor declarations, or not
// gofmt-clean.
func writeBlocks(t *testing.T, dir string, blocks []goBlock, idx importIndex) []string {
	var errs []string
	for i, b := range blocks {
		if err := gofmtError(b); err != nil {
			errs = append(errs, err.Error())
		}
		pkg := fmt.Sprintf("block%d", i+1)
		src, err := blockSource(b, pkg, idx)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		writeFile(t, filepath.Join(dir, "blocks", pkg, "block.go"), src)
	}
	return errs
}

package cognitoguard_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines bounds a library function, declaration to closing brace.
const maxFuncLines = 70

// TestFunctionLength: no library function of any module of this
// repository is longer than maxFuncLines lines. Tests, examples, commands,
// the benchmarks module and the end-to-end suite are not library code.
func TestFunctionLength(t *testing.T) {
	eachLibraryFile(t, func(path string, fset *token.FileSet, f *ast.File) {
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			start, end := fset.Position(fd.Pos()).Line, fset.Position(fd.End()).Line
			if n := end - start + 1; n > maxFuncLines {
				t.Errorf("%s:%d: %s is %d lines, over %d: split it", path, start, fd.Name.Name, n, maxFuncLines)
			}
		}
	})
}

// TestNothingCompiledAtStart: no library package compiles a regular
// expression or template in a package-level variable, which every program
// importing it would pay at start (the root package once cost each 0.5 ms
// and 100 KB that way); compile on first use (sync.OnceValue) instead.
func TestNothingCompiledAtStart(t *testing.T) {
	compilers := map[string]bool{"regexp.MustCompile": true, "regexp.Compile": true, "regexp.MustCompilePOSIX": true, "template.Must": true}
	eachLibraryFile(t, func(path string, fset *token.FileSet, f *ast.File) {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			ast.Inspect(gd, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncLit:
					return false // runs when called, not at start
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok && compilers[x.Name+"."+sel.Sel.Name] {
							t.Errorf("%s: %s.%s in a package-level variable: compile on first use", fset.Position(n.Pos()), x.Name, sel.Sel.Name)
						}
					}
				}
				return true
			})
		}
	})
}

// eachLibraryFile parses every non-test Go file of library code in this
// repository (every module; not examples, commands, benchmarks or the
// end-to-end suite) and calls fn with it.
func eachLibraryFile(t *testing.T, fn func(path string, fset *token.FileSet, f *ast.File)) {
	t.Helper()
	skipDirs := map[string]bool{"examples": true, "cmd": true, "benchmarks": true, "e2e": true, "testdata": true, "node_modules": true}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDirs[d.Name()] || (strings.HasPrefix(d.Name(), ".") && path != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		fn(path, fset, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

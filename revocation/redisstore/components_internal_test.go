package redisstore

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"strings"
	"testing"
)

// maxMethods bounds the methods of any type of the engine: a component
// that grows past it is two components.
const maxMethods = 15

// TestComponentsDoNotReachTheStore type-checks the package and proves the
// shape issue 21 asks of the engine: no type but Store holds a Store (or
// a pointer to one, in a field, slice, map, channel or function
// signature), so that every component is built and tested without the
// composed store; and no type has more than maxMethods methods.
func TestComponentsDoNotReachTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the package from source")
	}
	pkg := typeCheck(t)
	store := pkg.Scope().Lookup("Store").Type()
	for _, name := range pkg.Scope().Names() {
		tn, ok := pkg.Scope().Lookup(name).(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		named, ok := tn.Type().(*types.Named)
		if !ok {
			continue
		}
		if n := types.NewMethodSet(types.NewPointer(named)).Len(); n > maxMethods {
			t.Errorf("%s has %d methods, want at most %d", name, n, maxMethods)
		}
		if named == store {
			continue
		}
		if path := reaches(named.Underlying(), store, map[types.Type]bool{}); path != "" {
			t.Errorf("%s holds the composed Store (%s)", name, path)
		}
	}
}

// reaches returns how t reaches target through fields, elements and
// signatures, or "" if it does not.
func reaches(t, target types.Type, seen map[types.Type]bool) string {
	if types.Identical(t, target) {
		return "Store"
	}
	if seen[t] {
		return ""
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Pointer:
		return prefix("*", reaches(t.Elem(), target, seen))
	case *types.Slice:
		return prefix("[]", reaches(t.Elem(), target, seen))
	case *types.Array:
		return prefix("[n]", reaches(t.Elem(), target, seen))
	case *types.Chan:
		return prefix("chan ", reaches(t.Elem(), target, seen))
	case *types.Map:
		return prefix("map value ", reaches(t.Key(), target, seen)+reaches(t.Elem(), target, seen))
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tup.Len() {
				if p := reaches(tup.At(i).Type(), target, seen); p != "" {
					return "func(" + p + ")"
				}
			}
		}
	case *types.Struct:
		for i := range t.NumFields() {
			if p := reaches(t.Field(i).Type(), target, seen); p != "" {
				return "field " + t.Field(i).Name() + " " + p
			}
		}
	case *types.Named:
		if t.Obj().Pkg() != nil && t.Obj().Pkg().Path() == "github.com/cognitoguard/cognitoguard/revocation/redisstore" {
			return prefix(t.Obj().Name()+": ", reaches(t.Underlying(), target, seen))
		}
	}
	return ""
}

func prefix(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// typeCheck parses and type-checks the package's non-test files.
func typeCheck(t *testing.T) *types.Package {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("github.com/cognitoguard/cognitoguard/revocation/redisstore", fset, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

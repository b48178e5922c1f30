package docscheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// universe is what the references resolve against: the loaded packages by
// name (the root module's first), and the root module's packages, whose
// exported types may be named without their package (Config.Leeway,
// RedisConfig.Staleness).
type universe struct {
	byName map[string][]*types.Package
	root   []*types.Package // root package first
	repo   string           // the checkout
	top    map[string]bool  // entries of the checkout's root directory
}

var (
	chainRE   = regexp.MustCompile(`\*?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+`)
	pathRE    = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+/?$`)
	hostishRE = regexp.MustCompile(`://|\.(com|net|org|io|aws|cn|eu)\b`)
	// headerRE is an HTTP header name, dotted spellings included
	// (`X-Auth.Groups`), which parses as Go subtraction.
	headerRE = regexp.MustCompile(`^[A-Za-z0-9]+(-[A-Za-z0-9._]+)+$`)
)

// checkSpan returns what is wrong with a code span, or nothing: a path of
// the checkout that does not exist, a reference to a Go identifier that
// does not resolve, a field-table entry that is no field of its type.
func (u *universe) checkSpan(s span) []string {
	var errs []string
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: `%s`: %s", s.file, s.line, s.text, fmt.Sprintf(format, args...)))
	}
	text := s.text
	if s.fieldOf != "" && identRE.MatchString(text) {
		typ, err := u.lookupType(s.fieldOf)
		if err != nil {
			fail("a field table under %q: %v", s.heading, err)
		} else if err := u.member(typ, text); err != nil {
			fail("%v", err)
		}
		return errs
	}
	if p, ok := strings.CutPrefix(text, rootModule); ok && !strings.ContainsAny(text, " @") {
		if !fileExists(filepath.Join(u.repo, filepath.FromSlash(strings.TrimPrefix(p, "/")))) {
			fail("no such package in this repository")
		}
		return errs
	}
	if pathRE.MatchString(text) && u.top[strings.SplitN(text, "/", 2)[0]] && !strings.HasPrefix(text, "./") {
		if !fileExists(filepath.Join(u.repo, filepath.FromSlash(text))) {
			fail("no such file or directory in this repository")
		}
		return errs
	}
	if hostishRE.MatchString(text) || headerRE.MatchString(text) {
		return errs
	}
	for _, chain := range goChains(text) {
		if err := u.resolve(chain); err != nil {
			fail("%v", err)
		}
	}
	return errs
}

// goChains returns the selector chains (a.b.c) of a span: of its Go syntax
// when it parses as an expression or statements, else any it contains.
// A composite literal's keys count as selections of its type
// (middleware.Config{Optional: true} names middleware.Config.Optional).
func goChains(text string) [][]string {
	src := strings.ReplaceAll(text, "…", "x")
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\nfunc _() {\n"+src+"\n}", parser.SkipObjectResolution)
	if err != nil {
		var out [][]string
		for _, m := range chainRE.FindAllStringIndex(src, -1) {
			// A chain inside a path or a name with dashes is no Go.
			if m[0] > 0 && strings.ContainsAny(src[m[0]-1:m[0]], "/-.") || m[1] < len(src) && strings.ContainsAny(src[m[1]:m[1]+1], "/-") {
				continue
			}
			out = append(out, strings.Split(strings.TrimPrefix(src[m[0]:m[1]], "*"), "."))
		}
		return out
	}
	var out [][]string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if c := selectorChain(n); c != nil {
				out = append(out, c)
				return false
			}
		case *ast.CompositeLit:
			base := selectorChain(n.Type)
			if id, ok := n.Type.(*ast.Ident); ok {
				base = []string{id.Name}
			}
			for _, e := range n.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok || base == nil {
					continue
				}
				if key, isIdent := kv.Key.(*ast.Ident); isIdent {
					out = append(out, append(append([]string(nil), base...), key.Name))
				}
			}
		}
		return true
	})
	return out
}

// selectorChain is a.b.c for the expression a.b.c, or nil.
func selectorChain(e ast.Expr) []string {
	switch e := e.(type) {
	case *ast.Ident:
		return []string{e.Name}
	case *ast.SelectorExpr:
		if c := selectorChain(e.X); c != nil {
			return append(c, e.Sel.Name)
		}
	case *ast.StarExpr:
		return selectorChain(e.X)
	}
	return nil
}

// resolve checks a chain whose head is a loaded package's name or an
// exported type of the root module; any other head (a variable of the
// text, a host name) is not a reference and passes.
func (u *universe) resolve(chain []string) error {
	head, rest := chain[0], chain[1:]
	if pkgs := u.byName[head]; len(pkgs) > 0 {
		if !ast.IsExported(rest[0]) {
			return nil // no Go reference: a metric or host name (cognitoguard.verifications)
		}
		var firstErr error
		for _, p := range pkgs {
			obj := p.Scope().Lookup(rest[0])
			if obj == nil || !obj.Exported() {
				err := fmt.Errorf("package %s has no exported %s", p.Path(), rest[0])
				firstErr = cmpErr(firstErr, err)
				continue
			}
			if err := u.selections(obj, rest[1:]); err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			return nil
		}
		return firstErr
	}
	if !ast.IsExported(head) {
		return nil
	}
	typ, err := u.lookupType(head)
	if err != nil {
		for _, sel := range rest {
			if !ast.IsExported(sel) {
				return nil // no Go reference (README.md)
			}
		}
		// Type.Field of a type the root module does not have: renamed,
		// removed, or of another module (then write pkg.Type.Field).
		return fmt.Errorf("%v (a type of another package is written pkg.%s)", err, head)
	}
	return u.selections(typ, rest)
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// selections follows the selections of chain from obj: fields and methods
// of its type.
func (u *universe) selections(obj types.Object, chain []string) error {
	for _, sel := range chain {
		next, _, _ := types.LookupFieldOrMethod(obj.Type(), true, obj.Pkg(), sel)
		if next == nil {
			return fmt.Errorf("%s has no field or method %s", types.TypeString(obj.Type(), nil), sel)
		}
		if _, ok := next.(*types.Func); ok {
			return nil
		}
		obj = next
	}
	return nil
}

// member checks that name is a field or method of typ.
func (u *universe) member(typ types.Object, name string) error {
	return u.selections(typ, []string{name})
}

// lookupType finds an exported type by name: "pkg.Type", or "Type" in the
// root module's packages (the root package first).
func (u *universe) lookupType(name string) (types.Object, error) {
	candidates := u.root
	if q, n, ok := strings.Cut(name, "."); ok {
		candidates, name = u.byName[q], n
	}
	for _, p := range candidates {
		if obj, ok := p.Scope().Lookup(name).(*types.TypeName); ok && obj.Exported() {
			return obj, nil
		}
	}
	return nil, fmt.Errorf("no exported type %s in the root module", name)
}

// topEntries lists the checkout's root directory.
func topEntries(repo string) (map[string]bool, error) {
	ents, err := os.ReadDir(repo)
	if err != nil {
		return nil, err
	}
	top := map[string]bool{}
	for _, e := range ents {
		top[e.Name()] = true
	}
	return top, nil
}

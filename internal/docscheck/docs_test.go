package docscheck

import (
	"flag"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var docsFlag = flag.String("docs", "", "comma-separated Markdown `files` to check instead of README.md and docs/*.md")

// docFiles are the Markdown files the check reads, relative to the
// checkout where they are in it.
func docFiles(t *testing.T, repo string) map[string]string {
	t.Helper()
	var paths []string
	if *docsFlag != "" {
		paths = strings.Split(*docsFlag, ",")
	} else {
		more, err := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
		if err != nil {
			t.Fatal(err)
		}
		paths = append([]string{filepath.Join(repo, "README.md")}, more...)
	}
	out := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := p
		if rel, err := filepath.Rel(repo, p); err == nil && !strings.HasPrefix(rel, "..") {
			name = filepath.ToSlash(rel)
		}
		out[name] = string(data)
	}
	return out
}

// TestDocs: every Go block of README.md and docs/*.md compiles against the
// checkout, every code span that names a Go identifier, a field of a
// "field" table's type, a package or a file of the checkout resolves, and
// every relative link reaches a file (and a heading, for a #fragment).
func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the documentation's Go against every module of the checkout")
	}
	repo := repoRoot(t)
	mods := modules(t, repo)
	pkgs := packages(t, mods)
	idx := newImportIndex(pkgs)

	var blocks []goBlock
	var spans []span
	files := docFiles(t, repo)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []string
	for _, n := range names {
		if !filepath.IsAbs(n) {
			errs = append(errs, checkLinks(repo, n, files[n])...)
		}
		md := parseMarkdown(n, files[n])
		blocks = append(blocks, md.goBlocks()...)
		spans = append(spans, md.spans...)
	}
	spans = append(spans, fixture301ace0()...)

	dir := tempModule(t, "docscheck.example", mods)
	errs = append(errs, writeBlocks(t, dir, blocks, idx)...)
	load := loadList(pkgs, spans)
	var ids strings.Builder
	ids.WriteString("// Package ids imports what the documentation's code spans name.\npackage ids\n\nimport (\n")
	for _, p := range load {
		ids.WriteString("\t_ \"" + p + "\"\n")
	}
	ids.WriteString(")\n")
	writeFile(t, filepath.Join(dir, "ids", "ids.go"), ids.String())
	if _, err := goCmd(t, dir, "mod", "tidy"); err != nil {
		skipIfOffline(t, err)
		t.Fatal(err)
	}
	if _, err := goCmd(t, dir, "vet", "./..."); err != nil {
		errs = append(errs, "the documentation's Go blocks do not compile or vet:\n"+err.(*goError).stderr)
	}
	u := loadUniverse(t, dir, repo, load)

	var want301 []string
	for _, s := range spans {
		e := u.checkSpan(s)
		if s.file == fixture301ace0Name {
			want301 = append(want301, e...)
			continue
		}
		errs = append(errs, e...)
	}
	for _, e := range errs {
		t.Error(e)
	}
	// The check must refuse the Configuration table of commit 301ace0,
	// which named fields Config never had.
	if got := strings.Join(want301, "\n"); !strings.Contains(got, "`Issuer`: ") || !strings.Contains(got, "`JWKSURL`: ") {
		t.Errorf("the check accepts 301ace0's Configuration table; it reported:\n%s", got)
	}
	t.Logf("checked %d Go blocks and %d code spans in %s", len(blocks), len(spans), strings.Join(names, ", "))
}

// loadList is the packages the spans may name: every importable package
// of the root module, the separate modules' packages whose names the
// spans use, and the external packages they use.
func loadList(pkgs []pkgInfo, spans []span) []string {
	heads := map[string]bool{}
	for _, s := range spans {
		for _, c := range goChains(s.text) {
			heads[c[0]] = true
		}
		if q, _, ok := strings.Cut(s.fieldOf, "."); ok {
			heads[q] = true
		}
	}
	var out []string
	for _, p := range pkgs {
		if p.root || heads[p.name] {
			out = append(out, p.path)
		}
	}
	for name, path := range externalPackages {
		if heads[name] {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out
}

// loadUniverse type-checks nothing itself: it reads the export data the go
// command compiled for the load list.
func loadUniverse(t *testing.T, dir, repo string, load []string) *universe {
	t.Helper()
	out, err := goCmd(t, dir, append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, load...)...)
	if err != nil {
		t.Fatal(err)
	}
	exports := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if path, file, ok := strings.Cut(l, "\t"); ok && file != "" {
			exports[path] = file
		}
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	top, err := topEntries(repo)
	if err != nil {
		t.Fatal(err)
	}
	u := &universe{byName: map[string][]*types.Package{}, repo: repo, top: top}
	for _, path := range load {
		p, err := imp.Import(path)
		if err != nil {
			t.Fatalf("reading the export data of %s: %v", path, err)
		}
		// Root module packages sort first; the root package leads u.root.
		u.byName[p.Name()] = append(u.byName[p.Name()], p)
		if path == rootModule {
			u.root = append([]*types.Package{p}, u.root...)
		} else if strings.HasPrefix(path, rootModule+"/") && !isSeparate(repo, path) {
			u.root = append(u.root, p)
		}
	}
	for name, ps := range u.byName {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path() == rootModule+"/"+name && ps[j].Path() != rootModule+"/"+name })
	}
	return u
}

// isSeparate reports whether path is in a module of its own in repo.
func isSeparate(repo, path string) bool {
	rel := strings.TrimPrefix(path, rootModule+"/")
	for d := rel; d != "."; d = filepath.Dir(d) {
		if fileExists(filepath.Join(repo, filepath.FromSlash(d), "go.mod")) {
			return true
		}
	}
	return false
}

// fixture301ace0Name labels the lines of commit 301ace0's README.md that
// named Config fields that never existed.
const fixture301ace0Name = "README.md@301ace0"

// fixture301ace0 is that README's Configuration heading and table rows,
// word for word (lines 144–148).
func fixture301ace0() []span {
	return parseMarkdown(fixture301ace0Name, "## Configuration (root `Config`; zero value = secure default)\n\n"+
		"| field | default | meaning |\n|---|---|---|\n"+
		"| `Issuer`, `JWKSURL` | `https://cognito-idp.{region}.amazonaws.com/{pool}`, issuer + `/.well-known/jwks.json` | overrides for `NewVerifier` (per `Pool` with `New`); JWKS must be https (http only to loopback) |\n"+
		"| `TokenUse` | access | `TokenUseAccess`, `TokenUseID`, `TokenUseAny` |\n").spans
}

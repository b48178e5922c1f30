package docscheck

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/integration"
)

// rootModule is the path of the repository's root module.
const rootModule = "github.com/cognitoguard/cognitoguard"

// goCommandTimeout bounds each go command (a cold build of the separate
// modules' dependencies included).
const goCommandTimeout = 10 * time.Minute

// module is a module of the checkout.
type module struct{ path, dir string }

// pkgInfo is a package users can import: not a command, not internal.
type pkgInfo struct {
	path, name string
	root       bool // in the root module
}

// repoRoot is the checkout this test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the repository root %s: %v", dir, err)
	}
	return dir
}

// skipDir reports whether a directory holds no module code users import.
func skipDir(name string) bool {
	return name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// modules lists the modules of the checkout (every go.mod), root first.
func modules(t *testing.T, root string) []module {
	t.Helper()
	var mods []module
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if d.Name() != "go.mod" || d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "module" {
				mods = append(mods, module{path: f[1], dir: filepath.Dir(p)})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(mods, func(i, j int) bool {
		return len(mods[i].dir) < len(mods[j].dir) || len(mods[i].dir) == len(mods[j].dir) && mods[i].dir < mods[j].dir
	})
	if len(mods) == 0 || mods[0].path != rootModule {
		t.Fatalf("the root module is not %s", rootModule)
	}
	return mods
}

// packages lists the importable packages of mods: directories of non-test
// Go files, not main, not under internal/, within their own module.
func packages(t *testing.T, mods []module) []pkgInfo {
	t.Helper()
	moduleDirs := map[string]bool{}
	for _, m := range mods {
		moduleDirs[m.dir] = true
	}
	var out []pkgInfo
	for i, m := range mods {
		err := filepath.WalkDir(m.dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if p != m.dir && (skipDir(d.Name()) || d.Name() == "internal" || moduleDirs[p]) {
				return filepath.SkipDir
			}
			name := packageName(p)
			if name == "" || name == "main" {
				return nil
			}
			rel, err := filepath.Rel(m.dir, p)
			if err != nil {
				return err
			}
			path := m.path
			if rel != "." {
				path += "/" + filepath.ToSlash(rel)
			}
			out = append(out, pkgInfo{path: path, name: name, root: i == 0})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// packageName is the package name of dir's non-test Go files, or "".
func packageName(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err == nil {
			return af.Name.Name
		}
	}
	return ""
}

// tempModule writes a module outside the checkout that replaces every
// module of the checkout with its directory, with the checkout's go.sum
// lines so that resolving them needs no checksum database.
func tempModule(t *testing.T, name string, mods []module) string {
	t.Helper()
	dir := t.TempDir()
	var gomod strings.Builder
	gomod.WriteString("module " + name + "\n\ngo 1.25.0\n\n")
	sums := map[string]bool{}
	for _, m := range mods {
		gomod.WriteString("replace " + m.path + " => " + m.dir + "\n")
		data, err := os.ReadFile(filepath.Join(m.dir, "go.sum"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" {
				sums[l] = true
			}
		}
	}
	lines := make([]string, 0, len(sums))
	for l := range sums {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	writeFile(t, filepath.Join(dir, "go.mod"), gomod.String())
	writeFile(t, filepath.Join(dir, "go.sum"), strings.Join(lines, "\n")+"\n")
	return dir
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goCmd runs the go command in dir, in module mode with go.mod updates
// allowed (for the temporary modules), and returns its standard output
// and, on failure, an error carrying its standard error.
func goCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	return runGo(t, dir, []string{"GOWORK=off", "GOFLAGS=-mod=mod"}, args...)
}

// runGo runs the go command in dir with env added to the test's.
func runGo(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), goCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &goError{args: args, err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

type goError struct {
	args   []string
	err    error
	stderr string
}

func (e *goError) Error() string {
	return "go " + strings.Join(e.args, " ") + ": " + e.err.Error() + "\n" + e.stderr
}

// goBin is the go command on PATH (the one running the test).
func goBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed: %v", err)
	}
	return p
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// offlineRE matches the go command's errors when it cannot reach the
// module proxy or the checksum database.
var offlineRE = regexp.MustCompile(`dial tcp|no such host|connection refused|network is unreachable|i/o timeout|TLS handshake timeout|GOPROXY=off|module lookup disabled`)

// skipIfOffline skips the test when err is the go command failing for
// want of the network (to download a module the checkout does not hold),
// as the suites needing a missing component do; under
// COGNITOGUARD_INTEGRATION=1 it fails instead.
func skipIfOffline(t *testing.T, err error) {
	t.Helper()
	if err == nil || !offlineRE.MatchString(err.Error()) {
		return
	}
	integration.Unavailable(t, "the go command cannot download a module (no network?): %v", err)
}

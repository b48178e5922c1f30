package deploy_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const docPath = "../../docs/production.md"

// TestDocExplainsFiles: docs/production.md explains every setting of
// cognitoguard.conf and lists every rule of users.acl.
func TestDocExplainsFiles(t *testing.T) {
	doc := readFile(t, docPath)
	for line := range strings.Lines(readFile(t, "cognitoguard.conf")) {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			if !strings.Contains(doc, "`"+strings.Join(f, " ")+"`") {
				t.Errorf("docs/production.md does not explain `%s`", strings.Join(f, " "))
			}
		}
	}
	for line := range strings.Lines(readFile(t, "users.acl")) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		row := ""
		for r := range strings.Lines(doc) {
			if strings.HasPrefix(r, "| `"+f[1]+"` |") {
				row = r
			}
		}
		if f[1] == "default" {
			if !strings.Contains(doc, "`default` user off") {
				t.Error("docs/production.md does not say the default user is off")
			}
			continue
		}
		if row == "" {
			t.Errorf("docs/production.md has no row for %s", f[1])
			continue
		}
		for _, rule := range f[2:] {
			if strings.ContainsAny(rule[:1], "+~&%") && !strings.Contains(row, rule) && !strings.Contains(row, "| the same |") {
				t.Errorf("docs/production.md's row for %s lacks %s", f[1], rule)
			}
		}
	}
}

// TestDocCitesRealTests: every test docs/production.md cites exists.
func TestDocCitesRealTests(t *testing.T) {
	doc := readFile(t, docPath)
	funcs := map[string]bool{}
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && p != "../..") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllSubmatch(b, -1) {
			funcs[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`(Test\\w+)(/[^`]*)?`").FindAllStringSubmatch(doc, -1)
	if len(cited) < 10 {
		t.Fatalf("only %d tests cited", len(cited))
	}
	for _, m := range cited {
		if !funcs[m[1]] {
			t.Errorf("docs/production.md cites %s, which no test file defines", m[1])
		}
	}
}

package docscheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

var (
	linkRE        = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingLineRE = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)
)

// checkLinks returns the relative links of a Markdown file (file, under
// repo) whose target file does not exist, or whose #fragment names no
// heading of a Markdown target.
func checkLinks(repo, file, text string) []string {
	var errs []string
	for i, line := range strings.Split(text, "\n") {
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			target, frag, _ := strings.Cut(m[1], "#")
			if strings.Contains(target, "://") || strings.HasPrefix(m[1], "mailto:") {
				continue
			}
			path := filepath.Join(repo, filepath.Dir(file), filepath.FromSlash(target))
			if target == "" {
				path = filepath.Join(repo, file)
			}
			if !fileExists(path) {
				errs = append(errs, fmt.Sprintf("%s:%d: link %s: no such file", file, i+1, m[1]))
				continue
			}
			if frag == "" || !strings.HasSuffix(path, ".md") {
				continue
			}
			data, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s:%d: link %s: %v", file, i+1, m[1], err))
				continue
			}
			if !hasAnchor(string(data), frag) {
				errs = append(errs, fmt.Sprintf("%s:%d: link %s: no heading with that anchor", file, i+1, m[1]))
			}
		}
	}
	return errs
}

// hasAnchor reports whether a heading of the Markdown text has the
// GitHub anchor frag: lower case, spaces to hyphens, punctuation dropped.
func hasAnchor(text, frag string) bool {
	for _, m := range headingLineRE.FindAllStringSubmatch(text, -1) {
		if slug(m[1]) == frag {
			return true
		}
	}
	return false
}

func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

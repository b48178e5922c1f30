package docscheck

import (
	"regexp"
	"strings"
)

// goBlock is a fenced block of a Markdown file.
type goBlock struct {
	file    string // path relative to the repository root
	line    int    // line of the block's first line of code
	lang    string // the fence's info string: go, sh, or empty
	heading string // the last heading above it
	code    string
}

// span is an inline code span of a Markdown file, with where it appears.
type span struct {
	file, text string
	line       int
	heading    string // the last heading above it
	fieldOf    string // for the first cell of a "field" table: the heading's type
}

// markdown is what the checks read from one Markdown file.
type markdown struct {
	blocks []goBlock // every fenced block
	spans  []span
}

var (
	fenceRE   = regexp.MustCompile("^ {0,3}(```+|~~~+)\\s*([A-Za-z0-9_+-]*)")
	spanRE    = regexp.MustCompile("(`+)([^`]|[^`][\\s\\S]*?[^`])(`+)")
	headingRE = regexp.MustCompile(`^#{1,6}\s+(.*)$`)
	identRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// goBlocks returns the blocks whose language is go.
func (md markdown) goBlocks() []goBlock {
	var out []goBlock
	for _, b := range md.blocks {
		if b.lang == "go" {
			out = append(out, b)
		}
	}
	return out
}

// parseMarkdown splits a Markdown file into its fenced blocks and code spans.
func parseMarkdown(file, text string) markdown {
	var md markdown
	lines := strings.Split(text, "\n")
	var heading, fence, lang string
	var block []string
	blockLine := 0
	var para []string
	paraLine := 0
	table := tableState{}
	flush := func() {
		if len(para) > 0 {
			md.spans = append(md.spans, paragraphSpans(file, heading, paraLine, para)...)
			para = nil
		}
	}
	for i, l := range lines {
		n := i + 1
		if fence != "" {
			if strings.HasPrefix(strings.TrimLeft(l, " "), fence) {
				md.blocks = append(md.blocks, goBlock{file: file, line: blockLine, lang: lang, heading: heading, code: strings.Join(block, "\n") + "\n"})
				fence, block = "", nil
				continue
			}
			block = append(block, l)
			continue
		}
		if m := fenceRE.FindStringSubmatch(l); m != nil {
			flush()
			table = tableState{}
			fence, lang, blockLine = m[1], m[2], n+1
			continue
		}
		if m := headingRE.FindStringSubmatch(l); m != nil {
			flush()
			table = tableState{}
			heading = m[1]
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "|") {
			flush()
			md.spans = append(md.spans, table.row(file, heading, n, l)...)
			continue
		}
		table = tableState{}
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		if len(para) == 0 {
			paraLine = n
		}
		para = append(para, l)
	}
	flush()
	return md
}

// paragraphSpans returns the code spans of a paragraph, which may run over
// several lines.
func paragraphSpans(file, heading string, first int, lines []string) []span {
	text := strings.Join(lines, "\n")
	var out []span
	for _, m := range spanRE.FindAllStringSubmatchIndex(text, -1) {
		if m[3]-m[2] != m[7]-m[6] { // unbalanced backticks: not a span
			continue
		}
		s := strings.Join(strings.Fields(text[m[4]:m[5]]), " ")
		out = append(out, span{file: file, text: s, heading: heading,
			line: first + strings.Count(text[:m[0]], "\n")})
	}
	return out
}

// tableState follows a Markdown table: its header says whether the first
// column holds the fields of the type the heading names.
type tableState struct {
	rows    int
	isField bool
}

func (t *tableState) row(file, heading string, n int, l string) []span {
	t.rows++
	cells := splitCells(l)
	if t.rows == 1 && len(cells) > 0 {
		t.isField = strings.EqualFold(strings.TrimSpace(cells[0]), "field")
	}
	var out []span
	for i, c := range cells {
		for _, s := range paragraphSpans(file, heading, n, []string{c}) {
			if i == 0 && t.isField && t.rows > 2 {
				s.fieldOf = headingType(heading)
				if s.fieldOf == "" {
					s.fieldOf = "?"
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// splitCells splits a table row on the pipes outside code spans.
func splitCells(l string) []string {
	l = strings.TrimSpace(l)
	l = strings.TrimPrefix(l, "|")
	l = strings.TrimSuffix(l, "|")
	var cells []string
	var cur strings.Builder
	inCode := false
	for _, r := range l {
		switch {
		case r == '`':
			inCode = !inCode
		case r == '|' && !inCode:
			cells = append(cells, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(cells, cur.String())
}

// headingType is the last backticked Go type name of a heading, such as
// Config in "Configuration (root `Config`; …)" or middleware.Config.
func headingType(h string) string {
	var typ string
	for _, m := range spanRE.FindAllStringSubmatch(h, -1) {
		s := m[2]
		if q, name, ok := strings.Cut(s, "."); ok && identRE.MatchString(q) && identRE.MatchString(name) {
			typ = s
		} else if identRE.MatchString(s) {
			typ = s
		}
	}
	return typ
}

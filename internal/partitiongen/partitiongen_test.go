package partitiongen

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const ok = `{"partitions":[{"id":"aws","regionRegex":"^us\\-\\w+\\-\\d+$","outputs":{"dnsSuffix":"amazonaws.com"}},` +
		`{"id":"aws-cn","regionRegex":"^cn\\-\\w+\\-\\d+$","outputs":{"dnsSuffix":"amazonaws.com.cn"}}],"version":"1.1"}`
	parts, err := Parse([]byte(ok))
	if err != nil || len(parts) != 2 || parts[1] != (Partition{"aws-cn", `^cn\-\w+\-\d+$`, "amazonaws.com.cn"}) {
		t.Fatalf("Parse = %+v, %v", parts, err)
	}
	src, err := Render(parts)
	if err != nil || !strings.Contains(string(src), "{id: \"aws-cn\", regionRegex: `^cn\\-\\w+\\-\\d+$`, dnsSuffix: \"amazonaws.com.cn\"},") {
		t.Errorf("Render = %s, %v", src, err)
	}
	for name, in := range map[string]string{
		"not JSON":      `{`,
		"no partitions": `{"partitions":[]}`,
		"no suffix":     `{"partitions":[{"id":"aws","regionRegex":"^us$","outputs":{}}]}`,
		"no ID":         `{"partitions":[{"regionRegex":"^us$","outputs":{"dnsSuffix":"x"}}]}`,
		"bad pattern":   `{"partitions":[{"id":"aws","regionRegex":"^(?=us)$","outputs":{"dnsSuffix":"x"}}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRenderQuotesBackquotes(t *testing.T) {
	src, err := Render([]Partition{{"x", "^a`b$", "example.com"}})
	if err != nil || !strings.Contains(string(src), `regionRegex: "^a`+"`"+`b$"`) {
		t.Errorf("Render = %s, %v", src, err)
	}
}

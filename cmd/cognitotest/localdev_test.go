package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// TestLocalDevText: the printed settings are Go statements naming this
// pool's ID, issuer, client and endpoint, and the region of its pool ID.
func TestLocalDevText(t *testing.T) {
	pool := cognitotest.NewPool(cognitotest.Config{PoolID: "eu-west-2_local1", ClientIDs: []string{"client-1"}})
	t.Cleanup(pool.Close)
	text := localDevText(pool)
	_, code, ok := strings.Cut(text, "\n\n")
	if !ok {
		t.Fatalf("no code after the heading line:\n%s", text)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\nfunc _() {\n"+code+"}\n", 0)
	if err != nil {
		t.Fatalf("the printed code is not Go: %v\n%s", err, code)
	}
	strs := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if l, ok := n.(*ast.BasicLit); ok && l.Kind == token.STRING {
			s, _ := strconv.Unquote(l.Value)
			strs[s] = true
		}
		return true
	})
	for _, want := range []string{pool.PoolID(), pool.Issuer(), pool.ClientID(), pool.URL(), "eu-west-2"} {
		if !strs[want] {
			t.Errorf("the printed code has no string %q:\n%s", want, code)
		}
	}
}

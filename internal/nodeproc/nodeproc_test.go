//go:build unix

package nodeproc

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// server is a node package answering GET /health on $PORT.
const server = `require("http").createServer((q, r) => r.end('{"ok":true}')).listen(+process.env.PORT, "127.0.0.1")`

// TestStart: a component runs on a port of its own, answers once Start
// returns, and is stopped when its test ends.
func TestStart(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "node_modules", "tiny", "server.js")
	if err := os.MkdirAll(filepath.Dir(js), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(js, []byte(server), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TINY_DIR", dir)
	spec := Spec{
		Name: "tiny", Version: "0", DirEnv: "TINY_DIR", Script: "server.js",
		Env:   func(port int) []string { return []string{"PORT=" + strconv.Itoa(port)} },
		Ready: func(body []byte) bool { return bytes.Equal(body, []byte(`{"ok":true}`)) },
	}
	var urls []string
	t.Run("run", func(t *testing.T) {
		a, b := Start(t, spec), Start(t, spec)
		if a.Port == b.Port {
			t.Fatalf("two components on port %d", a.Port)
		}
		for _, p := range []*Proc{a, b} {
			resp, err := http.Get(p.URL + "/health")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			urls = append(urls, p.URL)
		}
	})
	for _, u := range urls {
		if resp, err := http.Get(u + "/health"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after its test ended", u)
		}
	}
}

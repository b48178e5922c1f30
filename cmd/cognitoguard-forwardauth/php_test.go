package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/internal/integration"
)

// This file starts the CGI-normalising upstreams of the proxy tests: PHP's
// built-in server (php -S) and php-fpm, which Caddy reaches with
// php_fastcgi. Both read a request header as the $_SERVER key HTTP_ + its
// name upper-cased with '-', '.', ' ' (and '[') folded into '_', so
// X-Auth.Sub, X_Auth_Sub and X-Auth-Sub are the same variable, and the
// last one written wins: the upstream that a forged header with an odd
// name impersonates someone in.

// indexPHP answers like the node upstream (method, URL, header pairs as
// JSON), the headers being what a PHP application reads: the HTTP_ keys
// of $_SERVER, named back with '_' as '-' (HTTP_X_AUTH_SUB is X-AUTH-SUB).
const indexPHP = `<?php
$h = [];
foreach ($_SERVER as $k => $v) {
    if (strncmp($k, 'HTTP_', 5) === 0) {
        $h[] = str_replace('_', '-', substr($k, 5));
        $h[] = (string)$v;
    }
}
header('Content-Type: application/json');
echo json_encode(['method' => $_SERVER['REQUEST_METHOD'], 'url' => $_SERVER['REQUEST_URI'], 'headers' => $h]);
`

// phpRoot writes index.php into a temporary directory and returns it.
func phpRoot(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte(indexPHP), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startPHPServer runs `php -S` on a free port with index.php as the router
// of every path, and returns its address.
func startPHPServer(t testing.TB) string {
	t.Helper()
	bin := integration.LookPath(t, "php")
	root := phpRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "-n", "-S", addr, "-t", root, filepath.Join(root, "index.php"))
	waitListening(t, addr, startProcess(t, cmd))
	return addr
}

// phpFPM is a running php-fpm: its unix socket and its document root.
type phpFPM struct {
	socket, root string
}

// startPHPFPM runs php-fpm in the foreground with a configuration of its
// own, listening on a unix socket in a temporary directory.
func startPHPFPM(t testing.TB) phpFPM {
	t.Helper()
	bin := findPHPFPM(t)
	dir := t.TempDir()
	if len(dir) > 90 { // a unix socket path holds at most 107 bytes
		var err error
		if dir, err = os.MkdirTemp("/tmp", "fpm"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	f := phpFPM{socket: filepath.Join(dir, "fpm.sock"), root: phpRoot(t)}
	conf := fmt.Sprintf(`[global]
error_log = %s
pid = %s
daemonize = no

[app]
listen = %s
listen.mode = 0600
pm = static
pm.max_children = 2
clear_env = yes
catch_workers_output = yes
`, filepath.Join(dir, "fpm.log"), filepath.Join(dir, "fpm.pid"), f.socket)
	file := filepath.Join(dir, "php-fpm.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", "-F", "-O", "-y", file}
	if os.Geteuid() == 0 {
		args = append(args, "-R") // php-fpm refuses root without it
	}
	p := startProcess(t, exec.Command(bin, args...))
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "fpm.log"))
			t.Logf("php-fpm log:\n%s", b)
		}
	})
	waitListening(t, "unix:"+f.socket, p)
	return f
}

// findPHPFPM returns the php-fpm binary: php-fpm on PATH, else the
// versioned name Debian installs (php-fpm8.2) on PATH or in /usr/sbin,
// which a non-root PATH may lack; the highest version if several.
func findPHPFPM(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("php-fpm"); err == nil {
		return p
	}
	dirs := append(filepath.SplitList(os.Getenv("PATH")), "/usr/sbin", "/usr/local/sbin")
	var found []string
	for _, d := range dirs {
		m, _ := filepath.Glob(filepath.Join(d, "php-fpm[0-9]*"))
		for _, p := range m {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				found = append(found, p)
			}
		}
	}
	if len(found) == 0 {
		return integration.LookPath(t, "php-fpm") // skips, or fails under COGNITOGUARD_INTEGRATION=1
	}
	sort.Slice(found, func(i, j int) bool { return filepath.Base(found[i]) > filepath.Base(found[j]) })
	return found[0]
}

// oddSeparators are what a client spells the identity names with instead
// of hyphens: the bytes a CGI-style upstream folds into '_' as it does '-'
// ('.', '_', ' ', '['), every other byte outside [A-Za-z0-9-] a header
// name may hold (RFC 9110 tchar), and some it may not (a tab, a non-ASCII
// letter), which a proxy should refuse or drop.
var oddSeparators = []string{".", "_", " ", "[", "!", "#", "$", "%", "&", "'", "*", "+", "^", "`", "|", "~", "\t", "é"}

// oddForged returns forged identity headers spelled with sep instead of
// hyphens: after "X-Auth" only (X-Auth.Sub) and everywhere
// (X.Auth.Token.Use).
func oddForged(sep string) []string {
	var hdr []string
	for _, n := range []string{"X-Auth-Sub", "X-Auth-Username", "X-Auth-Groups", "X-Auth-Scope", "X-Auth-Token-Use"} {
		first := "X-Auth" + sep + strings.TrimPrefix(n, "X-Auth-")
		all := strings.ReplaceAll(n, "-", sep)
		hdr = append(hdr, first, "forged "+first, all, "forged "+all)
	}
	return hdr
}

// Package acltest checks a shipped Redis ACL file against what the code
// really sends: it starts redis-server (or a Cluster) with the file as its
// aclfile, runs a surface (the commands a process sends) as one of the
// file's users and expects no failure and no ACL denial; then, for each
// permission of that user in turn, it loads the file without it and
// expects the surface to fail or Redis to log a denial. An ACL that grants
// a command the code never sends, or lacks one it sends, fails the test.
//
// The file's users carry no password (a deployment adds its own); the
// tests give each user the password [Password] and add an administrator,
// [Admin], for the harness.
package acltest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/internal/redistest"
)

// Admin and Password are the harness's administrator and every user's
// password in tests.
const (
	Admin    = "cognitoguard-test-admin"
	Password = "acltest-password"
)

// Server is a Redis (standalone or Cluster) running with an ACL file the
// test can replace.
type Server struct {
	Addrs []string
	file  string
	admin []*redis.Client // one per node
}

// Start starts a standalone redis-server (conf, if not empty, as its
// configuration file) with acl (the shipped text) as its aclfile.
func Start(t testing.TB, conf, acl string) *Server {
	t.Helper()
	s, o := prepare(t, conf, acl)
	addr, _ := redistest.ServerWith(t, o)
	s.connect(t, []string{addr})
	return s
}

// StartCluster starts a three-master Cluster with acl as every node's
// aclfile.
func StartCluster(t testing.TB, conf, acl string) *Server {
	t.Helper()
	s, o := prepare(t, conf, acl)
	s.connect(t, redistest.ClusterWith(t, o))
	return s
}

func prepare(t testing.TB, conf, acl string) (*Server, redistest.Options) {
	t.Helper()
	s := &Server{file: filepath.Join(t.TempDir(), "users.acl")}
	if err := os.WriteFile(s.file, []byte(forTest(acl)), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, redistest.Options{Conf: conf, Args: []string{"--aclfile", s.file}, User: Admin, Password: Password}
}

func (s *Server) connect(t testing.TB, addrs []string) {
	t.Helper()
	s.Addrs = addrs
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, Username: Admin, Password: Password, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		s.admin = append(s.admin, c)
	}
}

// Admins returns a client of each node as the administrator.
func (s *Server) Admins() []*redis.Client { return s.admin }

// forTest is the shipped ACL text with every user given [Password] and
// the harness's administrator added.
func forTest(acl string) string {
	var b strings.Builder
	for line := range strings.Lines(acl) {
		line = strings.TrimRight(line, "\r\n")
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "user" && f[1] != "default" {
			line += " >" + Password
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "user %s on >%s ~* &* +@all\n", Admin, Password)
	return b.String()
}

// Load empties every node (each surface starts from an empty Redis),
// replaces its ACL with acl (the shipped form) and clears its ACL log.
func (s *Server) Load(ctx context.Context, acl string) error {
	if err := os.WriteFile(s.file, []byte(forTest(acl)), 0o600); err != nil {
		return err
	}
	for _, c := range s.admin {
		// As after a restart: no data, no cached script.
		if err := c.FlushAll(ctx).Err(); err != nil {
			return err
		}
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			return err
		}
		if err := c.Do(ctx, "ACL", "LOAD").Err(); err != nil {
			return fmt.Errorf("ACL LOAD on %s: %w", c.Options().Addr, err)
		}
		if err := c.Do(ctx, "ACL", "LOG", "RESET").Err(); err != nil {
			return err
		}
	}
	return nil
}

// Denials returns what every node's ACL log holds ("user: reason object"),
// and clears it.
func (s *Server) Denials(ctx context.Context) ([]string, error) {
	var out []string
	for _, c := range s.admin {
		v, err := c.Do(ctx, "ACL", "LOG").Slice()
		if err != nil {
			return nil, err
		}
		for _, e := range v {
			m := logEntry(e)
			out = append(out, fmt.Sprintf("%s: %s %s (%s)", m["username"], m["reason"], m["object"], m["context"]))
		}
		if err := c.Do(ctx, "ACL", "LOG", "RESET").Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// cancelOnDenial cancels ctx as soon as a node logs a denial (a failure
// already: no need to wait for the surface to time out). The returned
// function stops the watch and waits for it.
func (s *Server) cancelOnDenial(ctx context.Context, cancel context.CancelFunc) (stop func()) {
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, c := range s.admin {
				if n, err := c.Do(ctx, "ACL", "LOG").Slice(); err == nil && len(n) > 0 {
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

// logEntry reads an ACL LOG entry, a map (RESP3) or a flat list (RESP2).
func logEntry(e any) map[string]string {
	m := map[string]string{}
	switch v := e.(type) {
	case map[any]any:
		for k, x := range v {
			m[fmt.Sprint(k)] = fmt.Sprint(x)
		}
	case []any:
		for i := 0; i+1 < len(v); i += 2 {
			m[fmt.Sprint(v[i])] = fmt.Sprint(v[i+1])
		}
	}
	return m
}

// Permissions returns user's permission rules in acl: the tokens of its
// line that grant something (+command, ~keys, &channels, %R~/%W~ keys).
func Permissions(acl, user string) []string {
	var out []string
	for line := range strings.Lines(acl) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "user" || f[1] != user {
			continue
		}
		for _, r := range f[2:] {
			if strings.ContainsAny(r[:1], "+~&%") {
				out = append(out, r)
			}
		}
	}
	return out
}

// Without returns acl with rule removed from user's line.
func Without(acl, user, rule string) string {
	var b strings.Builder
	for line := range strings.Lines(acl) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "user" && f[1] == user {
			kept := f[:0:0]
			for _, r := range f {
				if r != rule {
					kept = append(kept, r)
				}
			}
			line = strings.Join(kept, " ") + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

// Surface is what a process sends to Redis as user (authenticated with
// [Password]); it returns an error when anything it does fails. It MUST
// close what it opens.
type Surface func(ctx context.Context, user string) error

// Check runs each surface as user with acl (each on an emptied Redis) and
// wants them to succeed without a denial; then, for each of the user's
// permissions except those in notHere (exercised by another deployment,
// such as a Cluster's), it wants a surface to fail or be denied without
// it. Each run of a surface is bounded by budget.
func Check(t *testing.T, s *Server, acl, user string, budget time.Duration, surfaces []Surface, notHere ...string) {
	t.Helper()
	run := func(acl string) (errs []error, denials []string) {
		for _, surface := range surfaces {
			ctx, cancel := context.WithTimeout(t.Context(), budget)
			if err := s.Load(ctx, acl); err != nil {
				cancel()
				t.Fatal(err)
			}
			stop := s.cancelOnDenial(ctx, cancel)
			if err := surface(ctx, user); err != nil {
				errs = append(errs, err)
			}
			stop()
			cancel()
			d, err := s.Denials(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			denials = append(denials, d...)
		}
		return errs, denials
	}
	if errs, denials := run(acl); len(errs) > 0 || len(denials) > 0 {
		t.Fatalf("%s with the shipped ACL: %v; denials %q", user, errs, denials)
	}
	perms := Permissions(acl, user)
	if len(perms) == 0 {
		t.Fatalf("no permissions for %s in the ACL", user)
	}
	for _, p := range perms {
		if slices.Contains(notHere, p) {
			continue
		}
		errs, denials := run(Without(acl, user, p))
		if len(errs) == 0 && len(denials) == 0 {
			t.Errorf("%s without %q: the surface still succeeds, without a denial: the rule is not needed here", user, p)
		} else if testing.Verbose() {
			t.Logf("%s without %q: denials %q", user, p, denials)
		}
	}
}

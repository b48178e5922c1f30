package redistest

import (
	"os"
	"testing"
)

// Options configure the servers of [ServerWith] and [ClusterWith]: a
// deployment's own configuration instead of the package's.
type Options struct {
	// Conf is a redis.conf file read first. With it, persistence (save,
	// appendonly, appendfsync) and memory settings are the file's: only
	// the port, bind address (127.0.0.1), working directory (a test
	// temporary directory, so that AOF and RDB files stay there) and
	// daemonize are set on the command line.
	Conf string

	// Args are further command-line arguments, such as "--aclfile", path.
	Args []string

	// User and Password, when User is set, authenticate the package's own
	// readiness checks (and redis-cli forming a Cluster), for a server
	// whose default user is off. The user needs INFO (and CLUSTER INFO for
	// a Cluster, plus what redis-cli --cluster create sends).
	User, Password string
}

func (o Options) server(port int, dir string) *server {
	s := &server{port: port, dir: dir, conf: o.Conf, own: o.Conf != "", extra: append([]string(nil), o.Args...)}
	if o.User != "" {
		s.auth = []string{o.User, o.Password}
	}
	return s
}

// ServerWith starts a standalone redis-server as [Server] does, configured
// by o. [Restart] keeps o and the working directory: with persistence on
// in o.Conf, the restarted server reloads what the first one saved.
func ServerWith(t testing.TB, o Options) (addr string, proc *os.Process) {
	t.Helper()
	dir := t.TempDir()
	s := launch(t, "redis-server", func(port int) *server { return o.server(port, dir) })
	if s == nil {
		return "", nil
	}
	return s.addr(), s.process()
}

// ClusterWith starts a three-master Redis Cluster as [Cluster] does, each
// node configured by o.
func ClusterWith(t testing.TB, o Options) []string {
	t.Helper()
	return cluster(t, o)
}

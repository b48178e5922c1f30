// Package freeport finds free loopback ports for the servers the tests and
// benchmarks start (redis-server, Cluster nodes, proxies).
package freeport

import (
	"errors"
	"net"
	"strconv"
)

// Loopback returns a loopback port that was free a moment ago; with bus,
// port+10000 (the cluster bus) was free too.
func Loopback(bus bool) (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !bus {
			l.Close()
			return port, nil
		}
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return port, nil
	}
	return 0, errors.New("no free port pair found")
}

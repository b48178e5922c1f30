package main

import (
	"io"
	"net"
	"net/url"
	"testing"
	"time"
)

// nonLoopbackIPv4 returns an IPv4 address of this machine that is not a
// loopback address, or skips the test when it has none.
func nonLoopbackIPv4(t *testing.T) net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address to probe")
	return nil
}

// TestShippedConfigsListenOnLoopback: the shipped nginx and Caddy
// configurations, run as written (only the port changed), answer on
// 127.0.0.1 and not on the machine's other addresses: exposing them is
// the operator's explicit choice.
func TestShippedConfigsListenOnLoopback(t *testing.T) {
	ip := nonLoopbackIPv4(t)
	closed := "127.0.0.1:1" // the proxies are never asked to reach anything
	a := addrs{check: closed, signout: closed, upstream: closed}
	for _, p := range []struct{ name, url string }{
		{"nginx", startNginx(t, a, "", "")},
		{"caddy", startCaddy(t, a)},
	} {
		u, err := url.Parse(p.url)
		if err != nil {
			t.Fatal(err)
		}
		other := net.JoinHostPort(ip.String(), u.Port())
		if c, err := net.DialTimeout("tcp", other, 2*time.Second); err == nil {
			c.Close()
			t.Errorf("%s accepts connections on %s: the shipped configuration listens beyond loopback", p.name, other)
		}
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			t.Fatalf("%s on %s: %v", p.name, u.Host, err)
		}
		c.Close()
	}
}

// TestCheckListenerDefaultsToLoopback: without -addr the check listens on
// a loopback address (and the sign-out listener not at all).
func TestCheckListenerDefaultsToLoopback(t *testing.T) {
	o, err := parseFlags([]string{"-user-pool-id", "eu-west-1_AbC123", "-client-id", "c"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Errorf("default -addr %q is not a loopback address", o.addr)
	}
	if o.signoutAddr != "" {
		t.Errorf("default -signout-addr %q, want none", o.signoutAddr)
	}
}

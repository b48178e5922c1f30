package redistest

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestProxySilence: after Silence, Redis sees the proxied client go, the
// client's connection stays open and answers nothing (a read times out:
// no byte, no reset, no close), and new connections are silent until
// Forward; Blackhole, by contrast, resets.
func TestProxySilence(t *testing.T) {
	addr, _ := Server(t)
	p := NewProxy(t, addr)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(cmd string) (string, error) {
		if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		return r.ReadString('\n')
	}
	if got, err := roundTrip("CLIENT SETNAME proxied"); err != nil || got != "+OK\r\n" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}

	if !named(t, addr) {
		t.Fatal("Redis does not list the proxied client")
	}
	p.Silence()
	deadline := time.Now().Add(5 * time.Second)
	for named(t, addr) {
		if time.Now().After(deadline) {
			t.Fatal("Redis still lists the proxied client after Silence")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, err := roundTrip("PING"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silenced connection: %q, %v; want a read timeout (no answer, reset or close)", got, err)
	}
	fresh, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	_, _ = fresh.Write([]byte("PING\r\n"))
	_ = fresh.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := fresh.Read(make([]byte, 16)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("new connection after Silence: %d bytes, %v; want silence", n, err)
	}

	p.Forward()
	if got, err := Do(p.Addr(), "PING"); err != nil || got != "PONG" {
		t.Fatalf("after Forward: %q, %v", got, err)
	}
}

// named reports whether Redis lists a client named "proxied".
func named(t *testing.T, addr string) bool {
	t.Helper()
	got, err := Do(addr, "CLIENT", "LIST")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(got, "name=proxied")
}

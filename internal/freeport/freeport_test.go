package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestLoopback(t *testing.T) {
	for _, bus := range []bool{false, true} {
		port, err := Loopback(bus)
		if err != nil {
			t.Fatal(err)
		}
		ports := []int{port}
		if bus {
			ports = append(ports, port+10000)
		}
		for _, p := range ports {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				t.Fatalf("port %d (bus %v) is not free: %v", p, bus, err)
			}
			l.Close()
		}
	}
}

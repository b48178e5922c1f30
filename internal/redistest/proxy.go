package redistest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy on a free 127.0.0.1 port in front of a server, for
// tests of network faults: it forwards, or, once [Proxy.Blackhole] is
// called, resets every connection and accepts new ones without ever
// answering, until [Proxy.Forward]. [Proxy.Silence] cuts the server side
// and leaves the clients' connections open and mute.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	silent bool
	muted  bool                  // Silence: forwarded connections cut upstream, kept open and mute
	conns  map[net.Conn]struct{} // client and upstream sides, open
	ups    map[net.Conn]bool     // the upstream sides among conns
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to target; it is closed, with its connections,
// in t.Cleanup.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy: %v", err)
		return nil
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{}), ups: make(map[net.Conn]bool)}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Blackhole resets every open connection and makes new ones silent: they
// are accepted and read, never answered nor forwarded.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = true
	p.resetLocked()
}

// Silence closes the server side of every forwarded connection (the
// server sees its clients go) and keeps the client side open without a
// byte, reset or close: the clients cannot tell, as behind a dead network
// path whose far end has timed them out. New connections are silent, as
// after [Proxy.Blackhole], until [Proxy.Forward].
func (p *Proxy) Silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent, p.muted = true, true
	for c := range p.ups {
		_ = c.Close()
		delete(p.conns, c)
		delete(p.ups, c)
	}
}

// Forward makes new connections forwarded again; the silent ones stay
// open and silent.
func (p *Proxy) Forward() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent, p.muted = false, false
}

func (p *Proxy) resetLocked() {
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN
		}
		_ = c.Close()
		delete(p.conns, c)
		delete(p.ups, c)
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		silent := p.silent
		p.mu.Unlock()
		p.wg.Add(1)
		if silent {
			go p.discard(c)
		} else {
			go p.forward(c)
		}
	}
}

// discard reads c until it closes, answering nothing.
func (p *Proxy) discard(c net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(io.Discard, c)
	p.drop(c)
}

func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if _, open := p.conns[c]; !open {
		p.mu.Unlock()
		up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.ups[up] = true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	p.drop(up)
	if p.isMuted() { // Silence: keep the client side open, read and unanswered
		<-done
		_, _ = io.Copy(io.Discard, c)
		p.drop(c)
		return
	}
	p.drop(c)
	<-done
}

func (p *Proxy) isMuted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.muted
}

func (p *Proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.ups, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.resetLocked()
	p.mu.Unlock()
	p.wg.Wait()
}

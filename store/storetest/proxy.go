package storetest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// FreezeProxy relays TCP to a target, for tests of a database that stops
// answering: frozen, it accepts connections and bytes but forwards nothing,
// as a hung network or server would.
type FreezeProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen bool
	thawed chan struct{}
}

// NewFreezeProxy starts a proxy to target (host:port), closed at cleanup.
func NewFreezeProxy(t testing.TB, target string) *FreezeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FreezeProxy{ln: ln, target: target, thawed: make(chan struct{})}
	close(p.thawed)
	t.Cleanup(func() { ln.Close(); p.Thaw() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

// Addr is the host:port to connect to instead of the target.
func (p *FreezeProxy) Addr() string { return p.ln.Addr().String() }

// Freeze stops forwarding.
func (p *FreezeProxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen = true
		p.thawed = make(chan struct{})
	}
}

// Thaw forwards again, held bytes first.
func (p *FreezeProxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
}

// gate blocks while the proxy is frozen.
func (p *FreezeProxy) gate() {
	p.mu.Lock()
	ch := p.thawed
	p.mu.Unlock()
	<-ch
}

func (p *FreezeProxy) serve(c net.Conn) {
	defer c.Close()
	p.gate()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { p.copy(up, c); done <- struct{}{} }()
	go func() { p.copy(c, up); done <- struct{}{} }()
	<-done
}

// copy relays src to dst, holding each chunk while frozen.
func (p *FreezeProxy) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

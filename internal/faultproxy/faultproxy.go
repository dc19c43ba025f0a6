// Package faultproxy is a TCP proxy for tests that plays a network or
// server outage on demand. Put between a program and its database, it cuts
// that one path without touching the server, which other tests share.
//
// Cut models a server going away the way PostgreSQL does on a restart: it
// refuses new connections and stops passing what clients send, lets the
// replies already on their way reach the clients, then closes every
// connection. A commit the server received is thus acknowledged before
// the connection drops, and one it did not receive never happens, so the
// outage itself creates no commit whose outcome the client cannot know.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// quiet is how long Cut waits for the servers to stop replying, and
	// maxWait the most it waits, before it closes the connections.
	quiet   = 200 * time.Millisecond
	maxWait = 2 * time.Second
	// dialTimeout bounds the connection to the target.
	dialTimeout = 5 * time.Second
)

// Proxy forwards the connections made to Addr to a target address.
type Proxy struct {
	target string
	addr   string

	mu     sync.RWMutex
	ln     net.Listener // nil while cut
	cut    bool
	closed bool
	pairs  map[*pair]struct{}
	wg     sync.WaitGroup
}

// pair is one proxied connection.
type pair struct {
	client, server net.Conn
	lastReply      atomic.Int64 // UnixNano of the last bytes from the server
	closeOnce      sync.Once
}

func (c *pair) close() {
	c.closeOnce.Do(func() {
		c.client.Close()
		c.server.Close()
	})
}

// Start listens on a free loopback port and forwards to target
// (host:port).
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), ln: ln, pairs: map[*pair]struct{}{}}
	p.wg.Add(1)
	go p.accept(ln)
	return p, nil
}

// Addr is the proxy's host:port; it stays the same across Cut and
// Restore.
func (p *Proxy) Addr() string { return p.addr }

// Conns is how many connections the proxy forwards now.
func (p *Proxy) Conns() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.pairs)
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

// handle connects c to the target and forwards both ways until either
// side closes or Cut closes them.
func (p *Proxy) handle(c net.Conn) {
	defer p.wg.Done()
	s, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		c.Close()
		return
	}
	cp := &pair{client: c, server: s}
	p.mu.Lock()
	if p.cut || p.closed {
		p.mu.Unlock()
		cp.close()
		return
	}
	p.pairs[cp] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pairs, cp)
		p.mu.Unlock()
	}()

	done := make(chan struct{})
	go func() { // server to client
		defer close(done)
		buf := make([]byte, 32<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				cp.lastReply.Store(time.Now().UnixNano())
				if _, werr := c.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		cp.close()
	}()
	buf := make([]byte, 32<<10) // client to server
	for {
		n, err := c.Read(buf)
		if n > 0 && !p.forward(s, buf[:n]) {
			break // cut: Cut closes the pair once replies are through
		}
		if err != nil {
			cp.close()
			break
		}
	}
	<-done
}

// forward writes b to the server unless the proxy is cut; a cut drops b.
func (p *Proxy) forward(s net.Conn, b []byte) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.cut {
		return false
	}
	_, err := s.Write(b)
	return err == nil
}

// Cut refuses new connections and stops forwarding what clients send;
// once the servers have sent nothing for a moment (at most a few seconds)
// it closes every connection. It returns when they are closed.
func (p *Proxy) Cut() {
	p.mu.Lock()
	if p.cut || p.closed {
		p.mu.Unlock()
		return
	}
	p.cut = true
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	pairs := make([]*pair, 0, len(p.pairs))
	for cp := range p.pairs {
		pairs = append(pairs, cp)
	}
	p.mu.Unlock()

	start := time.Now()
	for time.Since(start) < maxWait {
		last := start
		for _, cp := range pairs {
			if t := time.Unix(0, cp.lastReply.Load()); t.After(last) {
				last = t
			}
		}
		if time.Since(last) >= quiet {
			break
		}
		time.Sleep(quiet / 4)
	}
	for _, cp := range pairs {
		cp.close()
	}
}

// Restore accepts and forwards connections again, on the same address.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("restore proxy: closed")
	}
	if !p.cut {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("restore proxy: listen on %s: %w", p.addr, err)
	}
	p.ln, p.cut = ln, false
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

// Close stops the proxy and closes every connection at once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed, p.cut = true, true
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for cp := range p.pairs {
		cp.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

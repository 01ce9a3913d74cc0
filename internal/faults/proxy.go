package faults

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// Proxy is a TCP proxy on a loopback address that forwards every
// connection to a target address, or, while blackholed, accepts
// connections and never answers: bytes in either direction are held (not
// delivered, not dropped) and new connections are not forwarded, as with a
// host that stopped answering but whose TCP stack still accepts. Forward
// delivers what was held and resumes. SetDelay makes a forwarding proxy
// slow instead: every chunk waits a while before it is passed on, as with
// a Redis that answers, but late. Its methods are safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	delay  time.Duration // each chunk waits this long before it is passed on
	open   chan struct{} // closed while forwarding; a fresh channel while blackholed
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewProxy listens on listen ("127.0.0.1:6411", or "127.0.0.1:0" for a
// free port) and forwards to target. It starts forwarding.
func NewProxy(listen, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("faults: proxy listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, open: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(p.open)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Blackhole stops all traffic: accepted connections stay open but nothing
// passes in either direction, and new connections are accepted but not
// forwarded, until Forward.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
		p.open = make(chan struct{})
	default: // already blackholed
	}
}

// Forward resumes forwarding, delivering the bytes held while blackholed.
func (p *Proxy) Forward() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
	default:
		close(p.open)
	}
}

// SetDelay makes every chunk read from then on, in either direction, wait
// d before it is passed on (a round trip then takes at least 2d); 0 ends
// the delay. Chunks of one connection keep their order.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = max(d, 0)
}

// currentDelay returns SetDelay's d.
func (p *Proxy) currentDelay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay
}

// Blackholed reports whether the proxy is blackholing.
func (p *Proxy) Blackholed() bool {
	select {
	case <-p.gate():
		return false
	default:
		return true
	}
}

// gate returns a channel that is closed while the proxy forwards.
func (p *Proxy) gate() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines. It may be called more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.Forward() // release pumps waiting at the gate
	p.wg.Wait()
	return err
}

// track records c so that Close closes it; it reports false (and closes c)
// once the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// untrack forgets and closes c.
func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// accept takes connections until the listener is closed.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve waits for the gate, dials the target and pumps both ways.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	<-p.gate()
	if p.isClosed() {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return // the client sees its connection closed, as with a reset
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	go func() { p.pump(server, client); done <- struct{}{} }()
	go func() { p.pump(client, server); done <- struct{}{} }()
	<-done
	// One side ended: close both so that the other pump ends too.
	_ = client.Close()
	_ = server.Close()
	<-done
}

// isClosed reports whether Close was called.
func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// pump copies src to dst, delaying each chunk by SetDelay's d and holding
// it at the gate while blackholed.
func (p *Proxy) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := p.currentDelay(); d > 0 {
				time.Sleep(d)
			}
			<-p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or a closed connection
		}
	}
}

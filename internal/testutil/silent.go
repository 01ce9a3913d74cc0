package testutil

import (
	"net"
	"sync"
	"testing"
)

// SilentRedis starts a TCP server on loopback that accepts connections and
// never answers, as a hung Redis does, and returns its address and a
// function that closes it and every connection it accepted (also done when
// t ends). Tests use it to check that a hung Redis never hangs the caller.
func SilentRedis(t testing.TB) (addr string, stop func()) {
	t.Helper()
	return loopbackServer(t, nil)
}

// loopbackServer listens on a free loopback port and hands each accepted
// connection to serve in its own goroutine (serve nil: the connection is
// held open and never read). It returns the host:port and a function that
// closes the listener and every accepted connection, also run when t ends.
func loopbackServer(t testing.TB, serve func(net.Conn)) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if serve != nil {
				go serve(c)
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = ln.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.Close()
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

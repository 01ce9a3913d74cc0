package bitmapist_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// dropProxy forwards loopback connections to a Redis; drop closes every
// connection it carries (as a Redis restart does) and keeps listening.
type dropProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	seen  int // connections accepted
}

func newDropProxy(t *testing.T, target string) *dropProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln}
	t.Cleanup(func() { _ = ln.Close(); p.drop() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.seen++
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() { _, _ = io.Copy(c, s); _ = c.Close() }()
		}
	}()
	return p
}

func (p *dropProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *dropProxy) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen
}

// TestReaderRawRetriesClosedPooledConn: after the server closed every
// pooled raw connection (a Redis restart), the next read dials again and
// returns the right bytes, instead of failing with EOF / broken pipe.
func TestReaderRawRetriesClosedPooledConn(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		rdb, ok := b.Client.(*redis.Client)
		if !ok || b.Name == testutil.NameBitmapistServer {
			return // no raw reads there
		}
		ctx := context.Background()
		key := b.Prefix + "retry"
		data := bytes.Repeat([]byte{0x5a, 7, 0, 3}, 500)
		if err := rdb.Set(ctx, key, data, 0).Err(); err != nil {
			t.Fatal(err)
		}
		p := newDropProxy(t, rdb.Options().Addr)
		opt := *rdb.Options()
		opt.Addr = p.ln.Addr().String()
		via := redis.NewClient(&opt)
		t.Cleanup(func() { _ = via.Close() })
		c := bitmapist.New(via, bitmapist.WithPrefix(b.Prefix), bitmapist.WithReadLimits(tiny))
		spans := []bitmapist.Span{{Key: key, Lo: 3, Hi: 2000}}
		for round := range 3 {
			got, err := c.Reader().ReadSpans(ctx, spans)
			if err != nil {
				t.Fatalf("round %d: ReadSpans: %v", round, err)
			}
			if !bytes.Equal(got[0], data[3:]) {
				t.Fatalf("round %d: ReadSpans = %d bytes, want %d", round, len(got[0]), len(data)-3)
			}
			before := p.accepted()
			p.drop()
			if round > 0 && before < 2 {
				t.Errorf("round %d: %d connections accepted, want a fresh dial after the drop", round, before)
			}
		}
	})
}

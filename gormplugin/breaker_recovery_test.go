package bitmapistplugin_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/faults"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// probeCounter is a go-redis hook counting the breaker's probes (SET key
// "" XX) as they start.
type probeCounter struct{ n atomic.Int64 }

func (h *probeCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *probeCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if a := cmd.Args(); len(a) == 4 && a[0] == "set" && a[3] == "xx" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *probeCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// Timeouts of TestBreakerOpensOnceWhenRedisComesBackSlow: every chunk
// through the proxy waits recoverDelay, so a round trip takes at least
// 2 × recoverDelay, longer than the send timeout but well within what the
// probes were once allowed (300 ms, with a dial and handshake).
const (
	recoverTimeout = 40 * time.Millisecond
	recoverDelay   = 30 * time.Millisecond
)

// TestBreakerOpensOnceWhenRedisComesBackSlow: a Redis that stops
// answering (blackholed), then answers again but later than WithTimeout
// (as a Redis does right after a pause, or on a machine too loaded to
// answer in time), then at its usual speed, opens the breaker once and
// closes it once: no probe answered too late for a send closes it (a
// closed breaker would fail the next sends and reopen), and once Redis is
// fast again it closes and the next sends all go through without opening
// it again. For the default mode and the outbox, with sends on the
// committing goroutine (ContextTimeoutEnabled) and on goroutines of their
// own (go-redis's defaults).
func TestBreakerOpensOnceWhenRedisComesBackSlow(t *testing.T) {
	for _, c := range []struct {
		name           string
		outbox, inline bool
	}{
		{"default/inline", false, true}, {"default/goroutine", false, false},
		{"outbox/inline", true, true}, {"outbox/goroutine", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
				slowRecovery(t, dc, b, c.outbox, c.inline)
			})
		})
	}
}

// slowRecovery is one case of TestBreakerOpensOnceWhenRedisComesBackSlow.
func slowRecovery(t *testing.T, dc dbCase, b testutil.Backend, outbox, inline bool) {
	px, err := faults.NewProxy("127.0.0.1:0", b.Mini.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = px.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: px.Addr(), MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: inline})
	probes := &probeCounter{}
	rdb.AddHook(probes)
	t.Cleanup(func() { _ = rdb.Close() })
	rec := &errRecorder{}
	db := openDB(t, dc, nil)
	if dc.name == "sqlite" {
		// Shared-cache SQLite locks whole tables: the relay and the
		// commits take turns on one connection.
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		sqlDB.SetMaxOpenConns(1)
	}
	opts := []bitmapistplugin.Option{
		bitmapistplugin.WithClient(bitmapist.New(rdb, bitmapist.WithPrefix(b.Prefix), bitmapist.WithClock(func() time.Time { return testNow }))),
		bitmapistplugin.WithTimeout(recoverTimeout), bitmapistplugin.WithBreaker(3), bitmapistplugin.WithErrorHandler(rec.handle),
	}
	if outbox {
		opts = append(opts, outboxTableOption(t, db))
	}
	p := bitmapistplugin.New(nil, opts...)
	if err := db.Use(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	e := &env{db: db, p: p, c: p.Client(), b: b, db0: dc.name, errs: rec}
	var ids []uint64
	create := func() {
		u := User{Name: "u"}
		wantOK(t, db.Create(&u))
		ids = append(ids, uint64(u.ID))
	}

	// Down: commit until the breaker is open.
	px.Blackhole()
	for deadline := time.Now().Add(10 * time.Second); p.Stats().Breaker == bitmapistplugin.BreakerClosed; {
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %+v: breaker not open with Redis blackholed", p.Stats())
		}
		create()
		time.Sleep(5 * time.Millisecond)
	}
	// Back, but every answer later than WithTimeout: keep committing
	// while 5 probes run; the breaker must not close.
	px.SetDelay(recoverDelay)
	px.Forward()
	for start, deadline := probes.n.Load(), time.Now().Add(20*time.Second); probes.n.Load() < start+5; {
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %+v: fewer than 5 probes in 20 s", p.Stats())
		}
		create()
		time.Sleep(5 * time.Millisecond)
	}
	if s := p.Stats(); s.Breaker == bitmapistplugin.BreakerClosed || s.BreakerOpens != 1 {
		t.Fatalf("Stats = %+v with every answer later than WithTimeout: want the breaker opened once and still open", s)
	}
	// Fast again: it closes, and 50 sends in a row keep it closed.
	px.SetDelay(0)
	waitBreaker(t, p, bitmapistplugin.BreakerClosed)
	before := p.Stats()
	for range 50 {
		create()
	}
	s := p.Stats()
	if s.BreakerOpens != 1 || s.Breaker != bitmapistplugin.BreakerClosed || s.Failed != before.Failed || s.Sent < before.Sent+50 {
		t.Errorf("Stats = %+v after 50 sends with Redis back (before them %+v): want 1 open, closed, all 50 sent", s, before)
	}
	wantOneOpenOneClose(t, rec.all())
	if outbox {
		e.flush(t) // the marks deferred while it was open
		e.want(t, "user:created", ids...)
		return
	}
	// Default mode: the marks of the breaker's open time are lost (those
	// of the first failed sends may have been written late).
	got := map[uint64]bool{}
	for _, id := range e.ids(t, "user:created") {
		got[id] = true
	}
	for _, id := range ids[len(ids)-50:] {
		if !got[id] {
			t.Errorf("mark of row %d, sent after the breaker closed, not in Redis", id)
		}
	}
}

// wantOneOpenOneClose fails t unless the reports hold exactly one opening
// BreakerError, then one closing one, and nothing after it.
func wantOneOpenOneClose(t *testing.T, errs []error) {
	t.Helper()
	var transitions []bool // Open of each BreakerError
	closedAt := -1
	for i, err := range errs {
		if be, ok := errors.AsType[*bitmapistplugin.BreakerError](err); ok {
			transitions = append(transitions, be.Open)
			if !be.Open {
				closedAt = i
			}
		}
	}
	if len(transitions) != 2 || !transitions[0] || transitions[1] || closedAt != len(errs)-1 {
		t.Errorf("reports %v: want one opening BreakerError, one closing one, and no report after it", errs)
	}
}

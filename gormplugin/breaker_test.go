package bitmapistplugin_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// waitBreaker polls Stats until the breaker is in state, for at most 5 s.
func waitBreaker(t *testing.T, p *bitmapistplugin.Plugin, state string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().Breaker != state {
		if time.Now().After(deadline) {
			t.Fatalf("breaker %s, want %s", p.Stats().Breaker, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBreakerOpensOnceAndCloses(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e := newEnv(t, dc, b, nil, bitmapistplugin.WithTimeout(100*time.Millisecond), bitmapistplugin.WithBreaker(3))
		b.Mini.Close()
		restarted := false
		t.Cleanup(func() {
			if !restarted {
				_ = b.Mini.Restart()
			}
		})
		// It opens after 3 failed sends in a row that went on for
		// tripSpan (200 ms here): commit until it is open, then 5 more.
		n, after := 0, -1
		for deadline := time.Now().Add(10 * time.Second); after < 5; n++ {
			if time.Now().After(deadline) {
				t.Fatalf("breaker still %s after %d failed commits", e.p.Stats().Breaker, n)
			}
			wantOK(t, e.db.Create(&User{Name: "down"}))
			if after >= 0 || e.p.Stats().Breaker != bitmapistplugin.BreakerClosed {
				after++
			}
			time.Sleep(10 * time.Millisecond)
		}
		s := e.p.Stats()
		// Every commit's mark failed; those after the open were not tried.
		// The tried ones ended by their deadline while go-redis redialled:
		// of unknown outcome (UnknownSent), the skipped ones Failed.
		errs := e.errs.all()
		tried := len(errs) - 1
		if s.UnknownSent != int64(tried) || s.Failed != int64(n-tried) || s.Skipped != int64(n-tried) || s.Skipped < 5 ||
			s.BreakerOpens != 1 || tried < 3 || s.Deferred != 0 {
			t.Errorf("Stats = %+v after %d commits (%d reports), want the tried unknown, the rest failed and skipped, 1 open", s, n, len(errs))
		}
		// SendErrors, then one BreakerError: not one per commit.
		var be *bitmapistplugin.BreakerError
		for _, err := range errs[:tried] {
			if _, ok := errors.AsType[*bitmapistplugin.SendError](err); !ok {
				t.Errorf("report %v, want a *SendError", err)
			}
		}
		if !errors.As(errs[tried], &be) || !be.Open || !errors.Is(errs[tried], bitmapistplugin.ErrBreakerOpen) {
			t.Fatalf("errors = %v, want SendErrors and an open BreakerError last", errs)
		}
		if err := b.Mini.Restart(); err != nil {
			t.Fatal(err)
		}
		restarted = true
		waitBreaker(t, e.p, bitmapistplugin.BreakerClosed)
		u := User{Name: "up"}
		wantOK(t, e.db.Create(&u))
		e.want(t, "user:created", uint64(u.ID))
		errs = e.errs.all()
		if len(errs) != tried+2 || !errors.As(errs[tried+1], &be) || be.Open || be.Skipped != s.Skipped ||
			!errors.Is(errs[tried+1], bitmapistplugin.ErrBreakerClosed) {
			t.Fatalf("errors = %v, want a closing BreakerError (%d skipped) last", errs, s.Skipped)
		}
	})
}

// TestBreakerQueue: background sends are bounded by WithTimeout and go
// through the breaker too.
func TestBreakerQueue(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, _ testutil.Backend) {
		addr, stop := testutil.SilentRedis(t)

		rec := &errRecorder{}
		p := newSilentPlugin(t, addr, rec, bitmapistplugin.WithQueue(64),
			bitmapistplugin.WithTimeout(50*time.Millisecond), bitmapistplugin.WithBreaker(2))
		db := openDB(t, dc, nil)
		if err := db.Use(p); err != nil {
			t.Fatal(err)
		}
		// One batch per commit: wait for each to fail (Flush would also
		// wait for the hung send goroutines), until the breaker opens.
		n := 0
		for p.Stats().Breaker == bitmapistplugin.BreakerClosed {
			if n == 50 {
				t.Fatalf("Stats = %+v: breaker not open after %d failed background sends", p.Stats(), n)
			}
			wantOK(t, db.Create(&User{Name: "u"}))
			n++
			deadline := time.Now().Add(10 * time.Second)
			for s := p.Stats(); s.Failed+s.UnknownSent != int64(n); s = p.Stats() {
				if time.Now().After(deadline) {
					t.Fatalf("Stats = %+v: background send %d not bounded by WithTimeout", p.Stats(), n)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		if n < 2 {
			t.Errorf("breaker open after %d failed sends, want at least 2 (WithBreaker)", n)
		}
		waitBreaker(t, p, bitmapistplugin.BreakerOpen)
		// Sent while open: skipped, not tried.
		wantOK(t, db.Create(&User{Name: "u"}))
		deadline := time.Now().Add(10 * time.Second)
		for p.Stats().Failed != 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		// The tried sends outlived their wait (unknown outcome), the one
		// sent while open failed.
		if s := p.Stats(); s.UnknownSent != int64(n) || s.Failed != 1 || s.Skipped != 1 {
			t.Errorf("Stats = %+v, want %d of unknown outcome, 1 failed (skipped)", s, n)
		}
		stop()
		_ = p.Close()
	})
}

// newSilentPlugin returns a plugin on a Redis at addr that never answers,
// with client timeouts of an hour (only the plugin's own bound applies).
func newSilentPlugin(t *testing.T, addr string, rec *errRecorder, opts ...bitmapistplugin.Option) *bitmapistplugin.Plugin {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Hour, ReadTimeout: time.Hour, WriteTimeout: time.Hour})
	t.Cleanup(func() { _ = rdb.Close() })
	return bitmapistplugin.New(rdb, append([]bitmapistplugin.Option{
		bitmapistplugin.WithClientOptions(bitmapist.WithPrefix(randomName(t, "unused") + "_")),
		bitmapistplugin.WithErrorHandler(rec.handle)}, opts...)...)
}

// TestOutboxBreakerDefers: with WithOutbox, marks made while the breaker
// is open stay in the outbox and reach Redis once it closes: they are
// counted and reported as deferred, never as skipped or failed.
func TestOutboxBreakerDefers(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e, _ := outboxEnv(t, dc, b, bitmapistplugin.WithTimeout(100*time.Millisecond), bitmapistplugin.WithBreaker(3))
		b.Mini.Close()
		restarted := false
		t.Cleanup(func() {
			if !restarted {
				_ = b.Mini.Restart()
			}
		})
		var ids []uint64
		after := -1
		for deadline := time.Now().Add(10 * time.Second); after < 5; {
			if time.Now().After(deadline) {
				t.Fatalf("breaker still %s after %d commits", e.p.Stats().Breaker, len(ids))
			}
			u := User{Name: "down"}
			wantOK(t, e.db.Create(&u))
			ids = append(ids, uint64(u.ID))
			if after >= 0 || e.p.Stats().Breaker != bitmapistplugin.BreakerClosed {
				after++
			}
			time.Sleep(10 * time.Millisecond)
		}
		s := e.p.Stats()
		if s.Skipped != 0 || s.Failed != 0 || s.Deferred < 5 || s.Deferred > int64(len(ids)) {
			t.Errorf("Stats = %+v after %d commits, want 0 skipped and failed, 5..%d deferred", s, len(ids), len(ids))
		}
		if err := b.Mini.Restart(); err != nil {
			t.Fatal(err)
		}
		restarted = true
		waitBreaker(t, e.p, bitmapistplugin.BreakerClosed)
		e.flush(t)
		e.want(t, "user:created", ids...)
		errs := e.errs.all()
		var be *bitmapistplugin.BreakerError
		if len(errs) == 0 || !errors.As(errs[len(errs)-1], &be) || be.Open {
			t.Fatalf("errors = %v, want a closing BreakerError last", errs)
		}
		if be.Skipped != 0 || be.Deferred != s.Deferred ||
			!strings.Contains(be.Error(), fmt.Sprintf("%d marks made while it was open were kept in the outbox", s.Deferred)) {
			t.Errorf("closing report %q (%+v), want %d deferred and none skipped", be, be, s.Deferred)
		}
		if s2 := e.p.Stats(); s2.Skipped != 0 || s2.Failed != 0 || s2.Deferred != s.Deferred {
			t.Errorf("Stats after the relay = %+v, want no skipped or failed, %d deferred", s2, s.Deferred)
		}
	})
}

// refusedAddr returns a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestRefusedConnectionOpensBreakerAtOnce: with a Redis client that does
// not redial (DialerRetries 1, MaxRetries -1), a refused connection fails
// each send at once as "not written" (no ErrUnknownOutcome), and
// WithBreaker's number of them in a row opens the breaker without
// waiting for tripSpan (1 s here), in the default and outbox modes.
func TestRefusedConnectionOpensBreakerAtOnce(t *testing.T) {
	for mode, extra := range map[string][]bitmapistplugin.Option{
		"default": nil,
		"outbox":  {}, // WithOutboxTable below
	} {
		forEachDB(t, func(t *testing.T, dc dbCase, _ testutil.Backend) {
			rdb := redis.NewClient(&redis.Options{Addr: refusedAddr(t), DialerRetries: 1, MaxRetries: -1})
			t.Cleanup(func() { _ = rdb.Close() })
			rec := &errRecorder{}
			opts := []bitmapistplugin.Option{
				bitmapistplugin.WithClientOptions(bitmapist.WithPrefix(randomName(t, "refused") + "_")),
				bitmapistplugin.WithErrorHandler(rec.handle), bitmapistplugin.WithTimeout(2 * time.Second),
				bitmapistplugin.WithBreaker(3),
			}
			db := openDB(t, dc, nil)
			if extra != nil {
				opts = append(opts, outboxTableOption(t, db))
			}
			p := bitmapistplugin.New(rdb, opts...)
			if err := db.Use(p); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Close() })
			for i := range 3 {
				wantOK(t, db.Create(&User{Name: "refused"}))
				if got, want := p.Stats().Breaker, bitmapistplugin.BreakerClosed; i < 2 && got != want {
					t.Fatalf("%s: breaker %s after %d refused sends, want %s", mode, got, i+1, want)
				}
			}
			if s := p.Stats(); s.Breaker == bitmapistplugin.BreakerClosed || s.BreakerOpens != 1 {
				t.Fatalf("%s: Stats = %+v after 3 refused sends, want the breaker open", mode, s)
			}
			// Default mode reports each failed send, then the opening; the
			// outbox keeps its marks and reports only the opening.
			errs, want := rec.all(), 4
			if extra != nil {
				want = 1
			}
			if len(errs) != want {
				t.Fatalf("%s: reports %v, want %d", mode, errs, want)
			}
			for _, err := range errs {
				var op *net.OpError
				if errors.Is(err, bitmapist.ErrUnknownOutcome) || !errors.As(err, &op) || op.Op != "dial" {
					t.Errorf("%s: report %v, want a dial error, not ErrUnknownOutcome", mode, err)
				}
			}
		})
	}
}

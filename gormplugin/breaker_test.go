package bitmapistplugin_test

import (
	"errors"
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
		for range 10 {
			wantOK(t, e.db.Create(&User{Name: "down"}))
		}
		if s := e.p.Stats(); s.Breaker != bitmapistplugin.BreakerOpen && s.Breaker != bitmapistplugin.BreakerHalfOpen {
			t.Fatalf("breaker %s after 10 failed commits, want open", s.Breaker)
		}
		s := e.p.Stats()
		if s.Failed != 10 || s.Skipped != 7 || s.BreakerOpens != 1 {
			t.Errorf("Stats = %+v, want 10 failed, 7 skipped, 1 open", s)
		}
		// Three SendErrors, then one BreakerError: not one per commit.
		errs := e.errs.all()
		var be *bitmapistplugin.BreakerError
		if len(errs) != 4 || !errors.As(errs[3], &be) || !be.Open || !errors.Is(errs[3], bitmapistplugin.ErrBreakerOpen) {
			t.Fatalf("errors = %v, want 3 SendErrors and an open BreakerError", errs)
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
		if len(errs) != 5 || !errors.As(errs[4], &be) || be.Open || be.Skipped != 7 ||
			!errors.Is(errs[4], bitmapistplugin.ErrBreakerClosed) {
			t.Fatalf("errors = %v, want a closing BreakerError (7 skipped) last", errs)
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
		for i := range 3 {
			wantOK(t, db.Create(&User{Name: "u"}))
			// One batch per commit: wait for each to fail (Flush would
			// also wait for the hung send goroutines).
			deadline := time.Now().Add(3 * time.Second)
			for p.Stats().Failed != int64(i+1) {
				if time.Now().After(deadline) {
					t.Fatalf("Stats = %+v: background send %d not bounded by WithTimeout", p.Stats(), i)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitBreaker(t, p, bitmapistplugin.BreakerOpen)
		if s := p.Stats(); s.Failed != 3 || s.Skipped != 1 {
			t.Errorf("Stats = %+v, want 3 failed (1 skipped)", s)
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

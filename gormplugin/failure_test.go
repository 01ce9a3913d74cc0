package bitmapistplugin_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// forEachDB runs fn once per database with a miniredis backend of its own.
func forEachDB(t *testing.T, fn func(t *testing.T, dc dbCase, b testutil.Backend)) {
	t.Helper()
	for _, dc := range dbCases(t) {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			fn(t, dc, testutil.Miniredis(t))
		})
	}
}

func TestRedisStoppedMidTest(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e := newEnv(t, dc, b, nil, bitmapistplugin.WithTimeout(200*time.Millisecond), bitmapistplugin.WithQueue(0))
		first := []User{{Name: "a"}, {Name: "b"}}
		wantOK(t, e.db.Create(&first))
		e.want(t, "user:created", idsOf(first, userID)...)

		b.Mini.Close()
		t.Cleanup(func() {
			// testutil deletes the test's keys at cleanup: give it a server.
			if err := b.Mini.Restart(); err != nil {
				t.Error(err)
			}
		})
		later := []User{{Name: "c"}, {Name: "d"}, {Name: "e"}}
		wantOK(t, e.db.Create(&later))
		wantOK(t, e.db.Model(&later[0]).Update("name", "C"))
		wantOK(t, e.db.Where("name = ?", "d").Delete(&User{}))

		var n int64
		wantOK(t, e.db.Model(&User{}).Count(&n))
		if n != 4 {
			t.Errorf("%d rows, want 4 (5 created, 1 deleted)", n)
		}
		// A send that overran its statement's wait reports from the
		// background; Close waits for it.
		if err := e.p.Close(); err != nil {
			t.Fatal(err)
		}
		// go-redis redials the stopped server until the send's deadline,
		// and its context error does not show that nothing was sent: the
		// outcome is unknown (Stats.UnknownSent), not failed.
		if s := e.p.Stats(); s.UnknownSent != 5 || s.Failed != 0 || e.p.FailedMarks() != 0 {
			t.Errorf("Stats = %+v, want UnknownSent 5 (3 created, 1 updated, 1 deleted), Failed 0", s)
		}
		errs := e.errs.all()
		if len(errs) != 3 {
			t.Fatalf("%d errors reported, want 3 (one per statement): %v", len(errs), errs)
		}
		found := false
		for _, err := range errs {
			var se *bitmapistplugin.SendError
			if errors.As(err, &se) && se.Marks == 3 && len(se.Events) == 1 && se.Events[0] == "user:created" {
				found = true
			}
		}
		if !found {
			t.Errorf("errors = %v, want a SendError for the 3 user:created marks", errs)
		}
	})
}

// TestHungRedisDoesNotHoldTheWrite uses a Redis that accepts connections
// and never answers, with client timeouts of an hour: the statement must
// still return (or the test would hang), and the mark, whose send goes on
// in the background and so may yet be written, is reported and counted as
// of unknown outcome (UnknownSent), not as failed.
func TestHungRedisDoesNotHoldTheWrite(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, _ testutil.Backend) {
		addr, stop := testutil.SilentRedis(t)
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1,
			DialTimeout: time.Hour, ReadTimeout: time.Hour, WriteTimeout: time.Hour})
		t.Cleanup(func() { _ = rdb.Close() })
		rec := &errRecorder{}
		p := bitmapistplugin.New(rdb, bitmapistplugin.WithTimeout(100*time.Millisecond),
			bitmapistplugin.WithErrorHandler(rec.handle), bitmapistplugin.WithQueue(0))
		db := openDB(t, dc, nil)
		if err := db.Use(p); err != nil {
			t.Fatal(err)
		}
		u := User{Name: "a"}
		wantOK(t, db.Create(&u))
		if u.ID == 0 {
			t.Fatal("row not written")
		}
		stop() // the send still running in the background now fails
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		errs := rec.all()
		var se *bitmapistplugin.SendError
		if len(errs) != 1 || !errors.As(errs[0], &se) || se.Marks != 1 || se.Unknown != 1 ||
			!errors.Is(errs[0], bitmapist.ErrUnknownOutcome) {
			t.Errorf("errors = %v, want one SendError for 1 mark of unknown outcome", errs)
		}
		if s := p.Stats(); p.FailedMarks() != 0 || s.UnknownSent != 1 || s.Failed != 0 {
			t.Errorf("FailedMarks = %d, Stats = %+v; want 0 failed, UnknownSent 1", p.FailedMarks(), s)
		}
	})
}

// cancelHook cancels a context as soon as the plugin's first Redis
// pipeline starts, as a request finishing right after its commit would.
type cancelHook struct{ cancel context.CancelFunc }

func (h cancelHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h cancelHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.cancel(); return next(ctx, cmd) }
}
func (h cancelHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.cancel(); return next(ctx, cmds) }
}

func TestCancelledRequestKeepsCommittedMarks(t *testing.T) {
	for _, mode := range []struct {
		name  string
		queue int
	}{{"sync", 0}, {"queue", 16}} {
		t.Run(mode.name, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
				e := newEnv(t, dc, b, nil, bitmapistplugin.WithQueue(mode.queue))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				b.Client.AddHook(cancelHook{cancel: cancel})
				u := User{Name: "a"}
				wantOK(t, e.db.WithContext(ctx).Create(&u))
				e.flush(t)
				if ctx.Err() == nil {
					t.Fatal("the hook did not cancel the request context")
				}
				e.want(t, "user:created", uint64(u.ID))
				e.noErrors(t)
			})
		})
	}
}

func TestRedisStoppedWithQueue(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e := newEnv(t, dc, b, nil, bitmapistplugin.WithTimeout(200*time.Millisecond), bitmapistplugin.WithQueue(64))
		b.Mini.Close()
		t.Cleanup(func() {
			if err := b.Mini.Restart(); err != nil {
				t.Error(err)
			}
		})
		users := []User{{Name: "a"}, {Name: "b"}}
		wantOK(t, e.db.Create(&users))
		wantOK(t, e.db.Delete(&users[0]))
		if err := e.p.Close(); err != nil {
			t.Fatal(err)
		}
		var n int64
		wantOK(t, e.db.Model(&User{}).Count(&n))
		if n != 1 {
			t.Errorf("%d rows, want 1", n)
		}
		// As in TestRedisStoppedMidTest, sends ended by their deadline while
		// go-redis redials are of unknown outcome.
		if s := e.p.Stats(); s.UnknownSent != 3 || s.Failed != 0 {
			t.Errorf("Stats = %+v, want UnknownSent 3, Failed 0", s)
		}
		lost, unknown := 0, 0
		for _, err := range e.errs.all() {
			var se *bitmapistplugin.SendError
			if errors.As(err, &se) {
				lost += se.Marks
				unknown += se.Unknown
			}
		}
		if lost != 3 || unknown != 3 {
			t.Errorf("errors report %d marks not known recorded (%d unknown), want 3 (3): %v", lost, unknown, e.errs.all())
		}
	})
}

func TestSynchronousMarksAreInRedisOnReturn(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e := newEnv(t, dc, b, nil, bitmapistplugin.WithQueue(0))
		u := User{Name: "a"}
		wantOK(t, e.db.Create(&u))
		// No Flush: read Redis directly.
		has, err := e.c.Day("user:created", testNow).Has(context.Background(), uint64(u.ID))
		if err != nil || !has {
			t.Errorf("mark not in Redis when Create returned: %v %v", has, err)
		}
	})
}

func TestQueueSendsInBackgroundAndCloseFlushes(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e := newEnv(t, dc, b, nil, bitmapistplugin.WithQueue(64))
		ctx, cancel := context.WithCancel(context.Background())
		users := []User{{Name: "a"}, {Name: "b"}, {Name: "c"}}
		wantOK(t, e.db.WithContext(ctx).Create(&users))
		cancel() // the request ends before the background send
		wantOK(t, e.db.Model(&users[0]).Update("name", "A"))
		if err := e.p.Close(); err != nil {
			t.Fatal(err)
		}
		e.want(t, "user:created", idsOf(users, userID)...)
		e.want(t, "user:updated", uint64(users[0].ID))

		// After Close marks are sent synchronously.
		d := User{Name: "d"}
		wantOK(t, e.db.Create(&d))
		e.want(t, "user:created", append(idsOf(users, userID), uint64(d.ID))...)
		if err := e.p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.noErrors(t)
	})
}

func TestQueueFlush(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e := newEnv(t, dc, b, nil, bitmapistplugin.WithQueue(8))
		u := User{Name: "a"}
		wantOK(t, e.db.Create(&u))
		if err := e.p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.want(t, "user:created", uint64(u.ID))
	})
}

func TestFullQueueDropsAndReports(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, _ testutil.Backend) {
		addr, stop := testutil.SilentRedis(t)
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Hour, ReadTimeout: time.Hour})
		t.Cleanup(func() { _ = rdb.Close() })
		rec := &errRecorder{}
		p := bitmapistplugin.New(rdb,
			bitmapistplugin.WithClientOptions(bitmapist.WithPrefix("unused_")),
			bitmapistplugin.WithQueue(1),
			bitmapistplugin.WithTimeout(5*time.Second),
			bitmapistplugin.WithErrorHandler(rec.handle))
		db := openDB(t, dc, nil)
		if err := db.Use(p); err != nil {
			t.Fatal(err)
		}
		// The sender holds the first batch (hung) and the queue one more:
		// of four commits at least one is dropped at once.
		for i := range 4 {
			wantOK(t, db.Create(&User{Name: "u", Age: i}))
		}
		stop() // the batches still held fail now
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		var n int64
		wantOK(t, db.Model(&User{}).Count(&n))
		if n != 4 {
			t.Errorf("%d rows, want 4", n)
		}
		if p.FailedMarks() != 4 {
			t.Errorf("FailedMarks = %d, want 4 (dropped or timed out); stats %+v", p.FailedMarks(), p.Stats())
		}
		full, lost := 0, 0
		for _, err := range rec.all() {
			var se *bitmapistplugin.SendError
			if !errors.As(err, &se) {
				t.Errorf("unexpected error %v", err)
				continue
			}
			lost += se.Marks
			if errors.Is(err, bitmapistplugin.ErrQueueFull) {
				full++
			}
		}
		if full < 1 || lost != 4 {
			t.Errorf("errors report %d lost marks, %d queue-full; want 4 and at least 1: %v", lost, full, rec.all())
		}
	})
}

func TestFlushHonoursContext(t *testing.T) {
	addr, stop := testutil.SilentRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Hour, ReadTimeout: time.Hour})
	t.Cleanup(func() { _ = rdb.Close() })
	p := bitmapistplugin.New(rdb, bitmapistplugin.WithQueue(1), bitmapistplugin.WithTimeout(time.Second),
		bitmapistplugin.WithErrorHandler(func(context.Context, error) {}))
	db := openDB(t, dbCases(t)[0], nil)
	if err := db.Use(p); err != nil {
		t.Fatal(err)
	}
	wantOK(t, db.Create(&User{Name: "a"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush = %v, want context.Canceled", err)
	}
	stop()
	_ = p.Close()
}

func TestCloseWhileWriting(t *testing.T) {
	for _, queue := range []int{0, 8} {
		forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
			e := newEnv(t, dc, b, nil, bitmapistplugin.WithQueue(queue))
			if dc.name == "sqlite" {
				sqlDB, err := e.db.DB()
				if err != nil {
					t.Fatal(err)
				}
				sqlDB.SetMaxOpenConns(1)
			}
			var wg sync.WaitGroup
			ids := make(chan uint64, 40)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 10 {
						u := User{Name: "w"}
						if err := e.db.Create(&u).Error; err != nil {
							t.Error(err)
							return
						}
						ids <- uint64(u.ID)
					}
				}()
			}
			if err := e.p.Close(); err != nil {
				t.Error(err)
			}
			wg.Wait()
			close(ids)
			var want []uint64
			for id := range ids {
				want = append(want, id)
			}
			// Marks of commits after Close are sent synchronously: none
			// is lost.
			if err := e.p.Close(); err != nil {
				t.Error(err)
			}
			e.want(t, "user:created", want...)
			e.noErrors(t)
		})
	}
}

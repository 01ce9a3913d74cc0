package bitmapistplugin_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
)

// goid returns the id of the calling goroutine.
func goid() uint64 {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	n, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return n
}

// goHook records the goroutine of every MULTI/EXEC go-redis runs.
type goHook struct {
	mu  sync.Mutex
	ids []uint64
}

func (h *goHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *goHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *goHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			h.mu.Lock()
			h.ids = append(h.ids, goid())
			h.mu.Unlock()
		}
		return next(ctx, cmds)
	}
}

func (h *goHook) all() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]uint64(nil), h.ids...)
}

// TestSendInlineWithContextTimeout: with a *redis.Client made with
// ContextTimeoutEnabled the marks of a Create are sent from the goroutine
// that called Create (no hand-off), and without it from another one; the
// marks are in Redis when Create returns either way, in the default and
// outbox modes.
func TestSendInlineWithContextTimeout(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		for _, outbox := range []bool{false, true} {
			for _, cte := range []bool{true, false} {
				rdb := redis.NewClient(&redis.Options{Addr: b.Mini.Addr(), ContextTimeoutEnabled: cte})
				t.Cleanup(func() { _ = rdb.Close() })
				hook := &goHook{}
				rdb.AddHook(hook)
				db := openDB(t, dc, nil)
				opts := []bitmapistplugin.Option{
					bitmapistplugin.WithClientOptions(bitmapist.WithPrefix(randomName(t, "inline") + "_")),
				}
				if outbox {
					opts = append(opts, outboxTableOption(t, db))
				}
				p := bitmapistplugin.New(rdb, opts...)
				if err := db.Use(p); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = p.Close() })
				u := User{Name: "inline"}
				wantOK(t, db.Create(&u))
				ids := hook.all()
				if len(ids) != 1 {
					t.Fatalf("outbox %v, ContextTimeoutEnabled %v: %d MULTI/EXECs, want 1", outbox, cte, len(ids))
				}
				if me := goid(); (ids[0] == me) != cte {
					t.Errorf("outbox %v, ContextTimeoutEnabled %v: sent from goroutine %d, Create's is %d",
						outbox, cte, ids[0], me)
				}
				on, err := p.Client().Day("user:created", time.Now()).Has(context.Background(), uint64(u.ID))
				if err != nil || !on {
					t.Errorf("outbox %v, ContextTimeoutEnabled %v: marked %v, %v right after Create", outbox, cte, on, err)
				}
			}
		}
	})
}

// TestBlackholedRedisBounded: a Redis that accepts connections and never
// answers holds each Create no longer than about WithTimeout (here 100 ms,
// against a client ReadTimeout of 30 s that an unbounded send would wait
// out), whether the send runs inline (ContextTimeoutEnabled) or from a
// goroutine; each failure is reported as an unknown outcome and the
// breaker opens, in the default and outbox modes.
func TestBlackholedRedisBounded(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, _ testutil.Backend) {
		for _, outbox := range []bool{false, true} {
			for _, cte := range []bool{true, false} {
				blackholedCreates(t, dc, outbox, cte)
			}
		}
	})
}

func blackholedCreates(t *testing.T, dc dbCase, outbox, cte bool) {
	const timeout = 100 * time.Millisecond
	db := openDB(t, dc, nil)
	rec := &errRecorder{}
	opts := []bitmapistplugin.Option{
		bitmapistplugin.WithClientOptions(bitmapist.WithPrefix(randomName(t, "hole") + "_")),
		bitmapistplugin.WithErrorHandler(rec.handle), bitmapistplugin.WithTimeout(timeout),
		bitmapistplugin.WithBreaker(2),
	}
	if outbox {
		opts = append(opts, outboxTableOption(t, db))
	}
	addr, closeHole := testutil.SilentRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, ContextTimeoutEnabled: cte})
	t.Cleanup(func() { _ = rdb.Close() })
	p := bitmapistplugin.New(rdb, opts...)
	if err := db.Use(p); err != nil {
		t.Fatal(err)
	}
	// The blackhole closes before the plugin waits for its overrunning
	// sends, which then fail at once.
	t.Cleanup(func() { closeHole(); _ = p.Close() })
	var creates int
	for creates = 1; creates <= 10 && p.Stats().Breaker == bitmapistplugin.BreakerClosed; creates++ {
		start := time.Now()
		wantOK(t, db.Create(&User{Name: "hole"}))
		if d := time.Since(start); d > 10*timeout+time.Second {
			t.Fatalf("outbox %v, ContextTimeoutEnabled %v: Create took %v against a blackholed Redis, bound %v",
				outbox, cte, d, timeout)
		}
	}
	if s := p.Stats(); s.Breaker == bitmapistplugin.BreakerClosed || s.BreakerOpens != 1 {
		t.Fatalf("outbox %v, ContextTimeoutEnabled %v: Stats = %+v after %d creates, want the breaker open",
			outbox, cte, s, creates-1)
	}
	if outbox {
		return // the marks stay in the outbox: nothing is reported per send
	}
	var sends int
	for _, err := range rec.all() {
		var se *bitmapistplugin.SendError
		if !errors.As(err, &se) {
			continue
		}
		sends++
		if !errors.Is(err, bitmapist.ErrUnknownOutcome) {
			t.Errorf("ContextTimeoutEnabled %v: report %v, want ErrUnknownOutcome", cte, err)
		}
	}
	if sends < 2 {
		t.Errorf("ContextTimeoutEnabled %v: %d send failures reported (%v), want at least 2", cte, sends, rec.all())
	}
}

// outboxTableOption returns WithOutboxTable of a fresh random table name,
// dropped from db when t ends.
func outboxTableOption(t testing.TB, db *gorm.DB) bitmapistplugin.Option {
	t.Helper()
	table, drop := outboxTable(t)
	drop(db)
	return bitmapistplugin.WithOutboxTable(table)
}

// outboxTable returns a fresh random outbox table name, and drop, which
// has the table dropped from db when t ends. Call drop once db is open:
// cleanups run last first, so the table is dropped before db is closed.
func outboxTable(t testing.TB) (table string, drop func(db *gorm.DB)) {
	t.Helper()
	table = randomName(t, "bmob")
	return table, func(db *gorm.DB) { t.Cleanup(func() { _ = db.Migrator().DropTable(table) }) }
}

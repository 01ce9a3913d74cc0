package bitmapistplugin_test

import (
	"context"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// BenchmarkCreate measures db.Create of one tracked row per operation on
// each database (SQLite in memory; PostgreSQL when its DSN is set), with
// no plugin ("plain"), with the plugin in its default set-up, sending each
// commit's marks synchronously before Create returns ("plugin"), and with
// background sending opted in ("plugin-queue", WithQueue(8192); the final
// Close, which flushes the queue, is timed), with the outbox
// ("plugin-outbox", WithOutbox: one INSERT into the outbox in the
// transaction, then the synchronous send; the rows' background DELETE and
// the final Flush are timed) and with the outbox sending in the background
// ("plugin-outbox-async", WithOutbox and WithQueue). The plugin modes use
// a Redis client with the production options of the README
// (DialerRetries 1, MaxRetries -1, ContextTimeoutEnabled: sends run on the
// committing goroutine); "plugin-outbox-defaultopts" is plugin-outbox with
// go-redis's default options (each send on a goroutine of its own). Marks
// go to the real Redis when BITMAPIST_TEST_REDIS_URL is set, else to
// miniredis.
func BenchmarkCreate(b *testing.B) {
	for _, dc := range dbCases(b) {
		if dc.name == "mysql" {
			continue
		}
		b.Run(dc.name+"/plain", func(b *testing.B) {
			db := openDB(b, dc, nil)
			benchCreate(b, func(u *User) error { return db.Create(u).Error })
		})
		ob1, ob2, ob3 := randomName(b, "bmob"), randomName(b, "bmob"), randomName(b, "bmob")
		for _, mode := range []struct {
			name        string
			opts        []bitmapistplugin.Option
			table       string
			defaultOpts bool
		}{
			{"plugin", nil, "", false},
			{"plugin-queue", []bitmapistplugin.Option{bitmapistplugin.WithQueue(8192)}, "", false},
			{"plugin-outbox", []bitmapistplugin.Option{bitmapistplugin.WithOutboxTable(ob1)}, ob1, false},
			{"plugin-outbox-async", []bitmapistplugin.Option{bitmapistplugin.WithOutboxTable(ob2), bitmapistplugin.WithQueue(1)}, ob2, false},
			{"plugin-outbox-defaultopts", []bitmapistplugin.Option{bitmapistplugin.WithOutboxTable(ob3)}, ob3, true},
		} {
			b.Run(dc.name+"/"+mode.name, func(b *testing.B) {
				rb := testutil.Redis(b)
				db := openDB(b, dc, nil)
				rec := &errRecorder{}
				rdb := rb.Client
				if !mode.defaultOpts {
					rdb = productionClient(b, rdb)
				}
				c := bitmapist.New(rdb, bitmapist.WithPrefix(rb.Prefix))
				p := bitmapistplugin.New(nil, append([]bitmapistplugin.Option{
					bitmapistplugin.WithClient(c), bitmapistplugin.WithErrorHandler(rec.handle),
				}, mode.opts...)...)
				if err := db.Use(p); err != nil {
					b.Fatal(err)
				}
				if mode.table != "" {
					b.Cleanup(func() { _ = db.Migrator().DropTable(mode.table) })
				}
				benchCreate(b, func(u *User) error { return db.Create(u).Error })
				if err := p.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				if err := p.Close(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if n := p.FailedMarks(); n != 0 {
					b.Fatalf("%d marks failed: %v", n, rec.all())
				}
				ids, err := c.Day("user:created", c.Now()).Count(context.Background())
				if err != nil || ids == 0 {
					b.Fatalf("no marks recorded: %d %v", ids, err)
				}
			})
		}
	}
}

// productionClient returns a client on rdb's server with the README's
// production options (DialerRetries 1, MaxRetries -1,
// ContextTimeoutEnabled), closed when tb ends.
func productionClient(tb testing.TB, rdb redis.UniversalClient) redis.UniversalClient {
	c, ok := rdb.(*redis.Client)
	if !ok {
		tb.Fatalf("the benchmark needs a *redis.Client, got %T", rdb)
	}
	opt := *c.Options()
	opt.DialerRetries, opt.MaxRetries, opt.ContextTimeoutEnabled = 1, -1, true
	prod := redis.NewClient(&opt)
	tb.Cleanup(func() { _ = prod.Close() })
	return prod
}

func benchCreate(b *testing.B, create func(*User) error) {
	b.ReportAllocs()
	for b.Loop() {
		u := User{Name: "bench", Age: 1}
		if err := create(&u); err != nil {
			b.Fatal(err)
		}
	}
}

package bitmapistplugin_test

import (
	"context"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
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
// ("plugin-outbox-async", WithOutbox and WithQueue). Marks go to the real Redis
// when BITMAPIST_TEST_REDIS_URL is set, else to miniredis.
func BenchmarkCreate(b *testing.B) {
	for _, dc := range dbCases(b) {
		if dc.name == "mysql" {
			continue
		}
		b.Run(dc.name+"/plain", func(b *testing.B) {
			db := openDB(b, dc, nil)
			benchCreate(b, func(u *User) error { return db.Create(u).Error })
		})
		ob1, ob2 := randomName(b, "bmob"), randomName(b, "bmob")
		for _, mode := range []struct {
			name  string
			opts  []bitmapistplugin.Option
			table string
		}{
			{"plugin", nil, ""},
			{"plugin-queue", []bitmapistplugin.Option{bitmapistplugin.WithQueue(8192)}, ""},
			{"plugin-outbox", []bitmapistplugin.Option{bitmapistplugin.WithOutboxTable(ob1)}, ob1},
			{"plugin-outbox-async", []bitmapistplugin.Option{bitmapistplugin.WithOutboxTable(ob2), bitmapistplugin.WithQueue(1)}, ob2},
		} {
			b.Run(dc.name+"/"+mode.name, func(b *testing.B) {
				rb := testutil.Redis(b)
				db := openDB(b, dc, nil)
				rec := &errRecorder{}
				c := bitmapist.New(rb.Client, bitmapist.WithPrefix(rb.Prefix))
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

func benchCreate(b *testing.B, create func(*User) error) {
	b.ReportAllocs()
	for b.Loop() {
		u := User{Name: "bench", Age: 1}
		if err := create(&u); err != nil {
			b.Fatal(err)
		}
	}
}

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
// Close, which flushes the queue, is timed). Marks go to the real Redis
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
		for _, mode := range []struct {
			name string
			opts []bitmapistplugin.Option
		}{
			{"plugin", nil},
			{"plugin-queue", []bitmapistplugin.Option{bitmapistplugin.WithQueue(8192)}},
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
				benchCreate(b, func(u *User) error { return db.Create(u).Error })
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

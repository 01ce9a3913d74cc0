package bitmapistplugin_test

import (
	"context"
	"testing"

	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func TestMeterProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	e := newEnv(t, dbCases(t)[0], testutil.Miniredis(t), nil, bitmapistplugin.WithMeterProvider(mp))
	users := []User{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	wantOK(t, e.db.Create(&users))
	got := collectMetrics(t, reader)
	want := map[string]int64{
		"bitmapist.marks.sent": 3, "bitmapist.marks.failed": 0, "bitmapist.marks.unknown": 0, "bitmapist.marks.unknown_sent": 0,
		"bitmapist.marks.skipped": 0, "bitmapist.marks.deferred": 0, "bitmapist.queue.pending": 0, "bitmapist.breaker.state": 0,
		"bitmapist.breaker.opens": 0,
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %d (reported %v), want %d", name, g, ok, v)
		}
	}
	if err := e.p.Close(); err != nil {
		t.Fatal(err)
	}
}

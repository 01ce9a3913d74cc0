package bitmapistplugin_test

import (
	"context"
	"testing"

	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestMeterProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	e := newEnv(t, dbCases(t)[0], testutil.Miniredis(t), nil, bitmapistplugin.WithMeterProvider(mp))
	users := []User{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	wantOK(t, e.db.Create(&users))
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != bitmapistplugin.MeterName {
			continue
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				got[m.Name] = d.DataPoints[0].Value
			case metricdata.Gauge[int64]:
				got[m.Name] = d.DataPoints[0].Value
			}
		}
	}
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

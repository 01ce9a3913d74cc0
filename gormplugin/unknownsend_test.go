package bitmapistplugin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestSendOutcomeCounting checks, in every mode without an outbox and for
// both ways a Redis client can be bounded, that a send whose write reached
// Redis but got no reply (a Redis that stalls at MULTI) is counted in
// Stats.UnknownSent and reported as a *SendError wrapping
// bitmapist.ErrUnknownOutcome, never as Failed; and that a send that never
// reached Redis (a refused connection) is counted as Failed and not
// unknown. The OpenTelemetry counters follow Stats.
func TestSendOutcomeCounting(t *testing.T) {
	redises := []struct {
		name    string
		addr    func(t *testing.T) string
		unknown bool
	}{
		{"stalled after the write", func(t *testing.T) string { return testutil.HangingRedis(t, "MULTI") }, true},
		{"refused connection", refusedAddr, false},
	}
	modes := []struct {
		name  string
		cte   bool // ContextTimeoutEnabled: sends run inline, bounded by go-redis
		queue int
	}{{"sync inline", true, 0}, {"sync goroutine", false, 0}, {"queue", true, 16}, {"queue goroutine", false, 16}}
	for _, r := range redises {
		for _, m := range modes {
			t.Run(r.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				checkSendOutcome(t, r.addr(t), m.cte, m.queue, r.unknown)
			})
		}
	}
}

func checkSendOutcome(t *testing.T, addr string, cte bool, queue int, unknown bool) {
	timeout := 5 * time.Second // go-redis's 200 ms read timeout ends the goroutine sends first
	if cte {
		timeout = 200 * time.Millisecond
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	// Without ContextTimeoutEnabled the send runs on a goroutine of its
	// own and go-redis's read timeout ends it, well within the plugin's
	// wait (TestHungRedisDoesNotHoldTheWrite covers a send that outlives
	// the wait).
	rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1, DialerRetries: 1,
		ReadTimeout: 200 * time.Millisecond, ContextTimeoutEnabled: cte})
	t.Cleanup(func() { _ = rdb.Close() })
	rec := &errRecorder{}
	p := bitmapistplugin.New(rdb, bitmapistplugin.WithTimeout(timeout),
		bitmapistplugin.WithErrorHandler(rec.handle), bitmapistplugin.WithQueue(queue),
		bitmapistplugin.WithMeterProvider(mp))
	db := openDB(t, dbCases(t)[0], nil)
	if err := db.Use(p); err != nil {
		t.Fatal(err)
	}
	wantOK(t, db.Create(&User{ID: 7, Name: "a"}))
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	wantUnknown, wantFailed := int64(0), int64(1)
	if unknown {
		wantUnknown, wantFailed = 1, 0
	}
	if s.UnknownSent != wantUnknown || s.Failed != wantFailed || s.Sent != 0 || s.Unknown != 0 ||
		p.UnknownSentMarks() != wantUnknown || p.FailedMarks() != wantFailed {
		t.Errorf("Stats = %+v, UnknownSentMarks %d, FailedMarks %d; want UnknownSent %d, Failed %d, nothing else",
			s, p.UnknownSentMarks(), p.FailedMarks(), wantUnknown, wantFailed)
	}
	errs := rec.all()
	var se *bitmapistplugin.SendError
	if len(errs) == 0 || !errors.As(errs[0], &se) || se.Marks != 1 || se.Unknown != int(wantUnknown) ||
		errors.Is(errs[0], bitmapist.ErrUnknownOutcome) != unknown {
		t.Errorf("reported %v, want first a SendError of 1 mark, Unknown %d, ErrUnknownOutcome %v", errs, wantUnknown, unknown)
	}
	got := collectMetrics(t, reader)
	if got["bitmapist.marks.unknown_sent"] != wantUnknown || got["bitmapist.marks.failed"] != wantFailed {
		t.Errorf("metrics %v, want unknown_sent %d, failed %d", got, wantUnknown, wantFailed)
	}
}

// collectMetrics reads the plugin's metrics from reader, by name.
func collectMetrics(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
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
	return got
}

package cohort_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestReportsNotSegmentOfZeroAndShortKeys: trend, lifecycle, stickiness
// and funnel with the segment Not(KEY), for a KEY that exists with only
// zero bytes (2 bytes: Not holds ids 0..15) and a short KEY (1 byte, id 2
// set: Not holds 0..7 but 2), count what the same reports count without
// a segment over events marked with only those ids (BITOP NOT's
// complement, over the key's bytes, as cohort.Get's). bitmapist-server
// keeps an all-zero key without its bytes, so only the short key is
// checked there.
func TestReportsNotSegmentOfZeroAndShortKeys(t *testing.T) {
	at := day(2025, 3, 3)
	days := []time.Time{at, at.AddDate(0, 0, 1), at.AddDate(0, 0, 2)}
	marks := map[string][][]uint64{ // event → ids per day
		"play": {{1, 2, 3, 5, 10, 20}, {2, 3, 7, 12, 20}, {1, 5, 6, 14, 30}},
		"buy":  {{2}, {3, 10, 20}, {1, 5, 6, 12, 30}},
	}
	kept := map[string]func(uint64) bool{
		"zero":  func(id uint64) bool { return id < 16 },
		"short": func(id uint64) bool { return id < 8 && id != 2 },
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, days[2])
		for ev, perDay := range marks {
			for i, ids := range perDay {
				markIDs(t, c, ev, days[i], ids...)
				for seg, keep := range kept {
					var k []uint64
					for _, id := range ids {
						if keep(id) {
							k = append(k, id)
						}
					}
					markIDs(t, c, ev+"_"+seg, days[i], k...)
				}
			}
		}
		if err := c.MarkUnique(ctx, "zero", 15); err != nil {
			t.Fatal(err)
		}
		if err := c.UnmarkUnique(ctx, "zero", 15); err != nil {
			t.Fatal(err)
		}
		if err := c.MarkUnique(ctx, "short", 2); err != nil {
			t.Fatal(err)
		}
		for seg := range kept {
			if ok, err := c.Unique(seg).Exists(ctx); err != nil || !ok {
				t.Fatalf("segment %s: exists %v, %v", seg, ok, err)
			}
			if b.Name == testutil.NameBitmapistServer && seg == "zero" {
				// Known difference, not fixed yet: bitmapist-server keeps
				// the key but not its zero bytes (length 0), so the
				// reports' Not(zero) is empty there instead of 0..15.
				t.Log("bitmapist-server: Not of an all-zero key not checked (the server keeps no zero bytes)")
				continue
			}
			got := reportsJSON(t, ctx, c, "", bitmapist.Not(c.Unique(seg)), days)
			if got == nil {
				return // bitmapist-server: Not is unsupported
			}
			want := reportsJSON(t, ctx, c, "_"+seg, nil, days)
			for name := range want {
				if !reflect.DeepEqual(got[name], want[name]) {
					t.Errorf("%s with Not(%s):\n got %v\nwant %v", name, seg, got[name], want[name])
				}
			}
		}
	})
}

// reportsJSON runs the four reports over play (and buy) with suffix on
// their names and segment seg, and returns each as JSON without the
// event names; nil when the backend does not support seg.
func reportsJSON(t *testing.T, ctx context.Context, c *bitmapist.Client, suffix string, seg bitmapist.Set, days []time.Time) map[string]any {
	t.Helper()
	from, to := days[0], days[len(days)-1]
	play, buy := "play"+suffix, "buy"+suffix
	out := map[string]any{}
	run := func(name string, v any, err error) bool {
		if errors.Is(err, bitmapist.ErrUnsupported) {
			return false
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		js, _ := json.Marshal(v)
		var m any
		if err := json.Unmarshal(js, &m); err != nil {
			t.Fatal(err)
		}
		out[name] = dropEvents(m)
		return true
	}
	tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: play, TimeGroup: bitmapist.Days, From: from, To: to, Segment: seg})
	if !run("trend", tr, err) {
		return nil
	}
	l, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: play, TimeGroup: bitmapist.Days, From: from, To: to, Segment: seg})
	run("lifecycle", l, err)
	s, err := cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: play, TimeGroup: bitmapist.Days, From: from, To: to, Segment: seg})
	run("stickiness", s, err)
	f, err := cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{play, buy}, TimeGroup: bitmapist.Days, Window: 2, From: from, To: to, Segment: seg})
	run("funnel", f, err)
	return out
}

// dropEvents removes every "event"/"Event" key from a decoded JSON value.
func dropEvents(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "event")
		delete(v, "Event")
		for k, x := range v {
			v[k] = dropEvents(x)
		}
	case []any:
		for i, x := range v {
			v[i] = dropEvents(x)
		}
	}
	return v
}

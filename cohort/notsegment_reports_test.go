package cohort_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestReportsNotSegmentIsEveryoneElse: every report (trend, lifecycle,
// stickiness, funnel and the cohort table) with a segment holding a Not
// counts what the same report counts without a segment over events marked
// with only the ids the segment keeps, "the report's users who are not in
// KEY" (bitmapist.EvalSegment), on every backend, bitmapist-server
// included, whatever KEY's bytes: all zeros (an unmark left them), shorter
// than the events' bitmaps, longer, missing, or holding ids of the
// events; and nested (Not(Not(KEY)), And(Not(KEY), other), Or(Not(...))).
func TestReportsNotSegmentIsEveryoneElse(t *testing.T) {
	at := day(2025, 3, 3)
	days := []time.Time{at, at.AddDate(0, 0, 1), at.AddDate(0, 0, 2)}
	marks := map[string][][]uint64{ // event → ids per day
		"play": {{1, 2, 3, 5, 10, 20, 300}, {2, 3, 7, 12, 20}, {1, 5, 6, 14, 30, 300}},
		"buy":  {{2}, {3, 10, 20, 300}, {1, 5, 6, 12, 30}},
	}
	keys := map[string][]uint64{ // unique bitmaps; "zero" is marked then unmarked
		"zero":  {},
		"short": {2},
		"long":  {3, 5, 900},
		"mixed": {1, 6, 20, 300},
	}
	in := func(k string) func(uint64) bool {
		return func(id uint64) bool { return slices.Contains(keys[k], id) }
	}
	not := func(f func(uint64) bool) func(uint64) bool { return func(id uint64) bool { return !f(id) } }
	type segCase struct {
		name string
		seg  func(c *bitmapist.Client) bitmapist.Set
		keep func(uint64) bool
	}
	cases := []segCase{
		{"missing", func(c *bitmapist.Client) bitmapist.Set { return bitmapist.Not(c.Unique("never")) }, func(uint64) bool { return true }},
		{"notnot_short", func(c *bitmapist.Client) bitmapist.Set { return bitmapist.Not(bitmapist.Not(c.Unique("short"))) }, in("short")},
		{"and_long_notzero", func(c *bitmapist.Client) bitmapist.Set {
			return bitmapist.And(bitmapist.Not(c.Unique("zero")), c.Unique("long"))
		}, in("long")},
		{"or_short_notmixed", func(c *bitmapist.Client) bitmapist.Set {
			return bitmapist.Or(c.Unique("short"), bitmapist.Not(c.Unique("mixed")))
		}, func(id uint64) bool { return in("short")(id) || !in("mixed")(id) }},
	}
	for k := range keys {
		cases = append(cases, segCase{k, func(c *bitmapist.Client) bitmapist.Set { return bitmapist.Not(c.Unique(k)) }, not(in(k))})
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, days[2])
		for ev, perDay := range marks {
			for i, ids := range perDay {
				markIDs(t, c, ev, days[i], ids...)
				for _, tc := range cases {
					var kept []uint64
					for _, id := range ids {
						if tc.keep(id) {
							kept = append(kept, id)
						}
					}
					markIDs(t, c, ev+"_"+tc.name, days[i], kept...)
				}
			}
		}
		for k, ids := range keys {
			for _, id := range ids {
				if err := c.MarkUnique(ctx, k, id); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := c.MarkUnique(ctx, "zero", 15); err != nil {
			t.Fatal(err)
		}
		if err := c.UnmarkUnique(ctx, "zero", 15); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			got := reportsJSON(t, ctx, c, "", tc.seg(c), days)
			want := reportsJSON(t, ctx, c, "_"+tc.name, nil, days)
			if len(got) != 5 || len(want) != 5 {
				t.Fatalf("%s: %d and %d reports, want 5", tc.name, len(got), len(want))
			}
			for name := range want {
				if !reflect.DeepEqual(got[name], want[name]) {
					t.Errorf("%s with segment %s:\n got %v\nwant %v", name, tc.name, got[name], want[name])
				}
			}
		}
	})
}

// reportsJSON runs the five reports (trend, lifecycle, stickiness, funnel,
// cohort table) over play (and buy) with suffix on their names and
// segment seg, and returns each as JSON without the event names.
func reportsJSON(t *testing.T, ctx context.Context, c *bitmapist.Client, suffix string, seg bitmapist.Set, days []time.Time) map[string]any {
	t.Helper()
	from, to := days[0], days[len(days)-1]
	play, buy := "play"+suffix, "buy"+suffix
	out := map[string]any{}
	run := func(name string, v any, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		js, _ := json.Marshal(v)
		var m any
		if err := json.Unmarshal(js, &m); err != nil {
			t.Fatal(err)
		}
		out[name] = dropEvents(m)
	}
	tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: play, TimeGroup: bitmapist.Days, From: from, To: to, Segment: seg})
	run("trend", tr, err)
	l, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: play, TimeGroup: bitmapist.Days, From: from, To: to, Segment: seg})
	run("lifecycle", l, err)
	s, err := cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: play, TimeGroup: bitmapist.Days, From: from, To: to, Segment: seg})
	run("stickiness", s, err)
	f, err := cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{play, buy}, TimeGroup: bitmapist.Days, Window: 2, From: from, To: to, Segment: seg})
	run("funnel", f, err)
	tab, err := cohort.Get(ctx, c, cohort.Query{Primary: play, Secondary: buy, TimeGroup: bitmapist.Days, Rows: 3, Cols: 3, Segment: seg})
	if err == nil {
		run("cohort", map[string]any{"totals": tab.Totals, "cells": grid(tab)}, nil)
	} else {
		run("cohort", nil, err)
	}
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

package cohort_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestParseSegmentNegated: "!EVENT" and "!EVENT@LABEL" parse to
// bitmapist.Not of the event's set, alone or ANDed with positive specs,
// and every report (trend, lifecycle, stickiness, funnel, cohort table)
// counts with the text segment exactly what it counts with the Go segment
// and what it counts without a segment over events marked with only the
// ids the segment keeps, on every backend. Event names with ':' and '@'
// are read whole.
func TestParseSegmentNegated(t *testing.T) {
	at := day(2025, 3, 3)
	days := []time.Time{at, at.AddDate(0, 0, 1), at.AddDate(0, 0, 2)}
	marks := map[string][][]uint64{
		"play": {{1, 2, 3, 5, 10, 20, 300}, {2, 3, 7, 12, 20}, {1, 5, 6, 14, 30, 300}},
		"buy":  {{2}, {3, 10, 20, 300}, {1, 5, 6, 12, 30}},
	}
	uniques := map[string][]uint64{"plan:pro": {2, 20, 900}, "a:b": {1, 300}}
	in := func(ids []uint64) func(uint64) bool { return func(id uint64) bool { return slices.Contains(ids, id) } }
	for _, tc := range []struct {
		name  string
		specs []string
		set   func(c *bitmapist.Client) bitmapist.Set
		keep  func(uint64) bool
	}{
		{"notpro", []string{"!plan:pro"}, func(c *bitmapist.Client) bitmapist.Set { return bitmapist.Not(c.Unique("plan:pro")) },
			func(id uint64) bool { return !in(uniques["plan:pro"])(id) }},
		{"notbuyday", []string{" !buy@2025-03-04 "}, func(c *bitmapist.Client) bitmapist.Set {
			return bitmapist.Not(c.Events("buy", bitmapist.Days, days[1]))
		},
			func(id uint64) bool { return !in(marks["buy"][1])(id) }},
		{"notab_and_play", []string{"!a:b", "play@2025-03-03"}, func(c *bitmapist.Client) bitmapist.Set {
			return bitmapist.And(bitmapist.Not(c.Unique("a:b")), c.Events("play", bitmapist.Days, days[0]))
		}, func(id uint64) bool { return !in(uniques["a:b"])(id) && in(marks["play"][0])(id) }},
		{"play_and_notbuymonth", []string{"play@2025-03-05", "!buy@2025-03"}, func(c *bitmapist.Client) bitmapist.Set {
			return bitmapist.And(c.Events("play", bitmapist.Days, days[2]), bitmapist.Not(c.Events("buy", bitmapist.Months, days[0])))
		}, func(id uint64) bool {
			return in(marks["play"][2])(id) && !in(slices.Concat(marks["buy"]...))(id)
		}},
	} {
		testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
			ctx := context.Background()
			c := newClient(b, days[2])
			for ev, perDay := range marks {
				for i, ids := range perDay {
					markIDs(t, c, ev, days[i], ids...)
					markIDs(t, c, ev+"_kept", days[i], slices.DeleteFunc(slices.Clone(ids), func(id uint64) bool { return !tc.keep(id) })...)
				}
			}
			for k, ids := range uniques {
				for _, id := range ids {
					if err := c.MarkUnique(ctx, k, id); err != nil {
						t.Fatal(err)
					}
				}
			}
			seg, err := cohort.ParseSegment(c, tc.specs...)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !slices.Equal(seg.Keys(), tc.set(c).Keys()) {
				t.Errorf("%s: keys %v, want %v", tc.name, seg.Keys(), tc.set(c).Keys())
			}
			text := reportsJSON(t, ctx, c, "", seg, days)
			goSet := reportsJSON(t, ctx, c, "", tc.set(c), days)
			want := reportsJSON(t, ctx, c, "_kept", nil, days)
			for name := range want {
				if !reflect.DeepEqual(text[name], goSet[name]) || !reflect.DeepEqual(text[name], want[name]) {
					t.Errorf("%s with segment %q:\n text %v\n   go %v\n want %v", name, tc.specs, text[name], goSet[name], want[name])
				}
			}
		})
	}
}

// TestParseSegmentSpec: the parts of each form, and the bad forms of "!"
// refused as a *QueryError on "segment" wrapping ErrInvalidQuery.
func TestParseSegmentSpec(t *testing.T) {
	c := newClient(testutil.Miniredis(t), engageStart)
	for text, want := range map[string]cohort.SegmentSpec{
		"plan:pro":           {Text: "plan:pro", Event: "plan:pro"},
		" !plan:pro ":        {Text: "!plan:pro", Event: "plan:pro", Not: true},
		"!a@b@2025-W09":      {Text: "!a@b@2025-W09", Event: "a@b", Not: true, Label: "2025-W09", Group: bitmapist.Weeks, Start: day(2025, 2, 24)},
		"x!@2025-03-01T05":   {Text: "x!@2025-03-01T05", Event: "x!", Label: "2025-03-01T05", Group: bitmapist.Hours, Start: time.Date(2025, 3, 1, 5, 0, 0, 0, time.UTC)},
		"not:signed_up@2025": {Text: "not:signed_up@2025", Event: "not:signed_up", Label: "2025", Group: bitmapist.Years, Start: day(2025, 1, 1)},
	} {
		got, err := cohort.ParseSegmentSpec(c, text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if got.Set == nil || got.Unique() != (want.Label == "") {
			t.Errorf("%q: set %v, unique %v", text, got.Set, got.Unique())
		}
		var wantSet bitmapist.Set = c.Unique(want.Event)
		if want.Label != "" {
			wantSet = c.Events(want.Event, want.Group, want.Start)
		}
		if !slices.Equal(got.Set.Keys(), wantSet.Keys()) {
			t.Errorf("%q: keys %v, want %v", text, got.Set.Keys(), wantSet.Keys())
		}
		got.Set = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %+v, want %+v", text, got, want)
		}
	}
	for text, says := range map[string]string{
		"!":          `"!": ! wants an event right after it`,
		" ! ":        `"!": ! wants an event right after it`,
		"!!x":        `"!!x": a segment is negated once`,
		"!!":         `"!!": a segment is negated once`,
		"! x":        `"! x": ! is followed at once by the event`,
		"!\tx@2025":  `is followed at once by the event`,
		"!x@":        `"!x@": EVENT@LABEL wants a period label after @`,
		"!@2025":     `invalid event name: "" is empty`,
		"!bitop_x":   `starts with bitop_`,
		"!x@2025-13": `period label "2025-13" is not a valid date`,
	} {
		_, err := cohort.ParseSegmentSpec(c, text)
		var qe *cohort.QueryError
		if !errors.As(err, &qe) || qe.Field != "segment" || !errors.Is(err, cohort.ErrInvalidQuery) || !strings.Contains(qe.Msg, says) {
			t.Errorf("%q: %v, want a *QueryError on segment saying %q", text, err, says)
		}
		if _, err2 := cohort.ParseSegment(c, "plan:pro", text); !errors.As(err2, &qe) || qe.Field != "segment" {
			t.Errorf("ParseSegment(plan:pro, %q): %v, want the same refusal", text, err2)
		}
	}
	if _, err := cohort.ParseSegmentSpec(nil, "!x"); !errors.Is(err, cohort.ErrNilClient) {
		t.Errorf("nil client: %v", err)
	}
}

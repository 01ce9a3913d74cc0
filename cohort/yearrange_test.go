package cohort_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestReportsAcceptTheSameRanges: every report (trend, with and without
// rolling, lifecycle, stickiness, funnels with and without a window)
// accepts exactly the ranges whose From and To lie in the years 1..9999
// (bitmapist.Client.ReportRange, the one check they share) and refuses
// the others naming the same field; what a report reads beside its range
// (a trend's previous range and look-back before the year 1, a
// lifecycle's period before it, a funnel's window after 9999) holds
// nobody. The accepted reports count the users marked at both ends of
// time.
func TestReportsAcceptTheSameRanges(t *testing.T) {
	b := testutil.Miniredis(t)
	ctx := context.Background()
	c := newClient(b, time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC))
	first := time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC) // 0001-01-01 00:00 UTC is the zero time: "now"
	last := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	markIDs(t, c, "e", first, 1, 2)
	markIDs(t, c, "e", first.AddDate(0, 0, 1), 1)
	markIDs(t, c, "e", last.AddDate(0, 0, -1), 3)
	markIDs(t, c, "e", last, 3, 4)
	type report struct {
		name string
		run  func(g bitmapist.TimeGroup, from, to time.Time) (users int64, err error)
	}
	reports := []report{
		{"trend", func(g bitmapist.TimeGroup, from, to time.Time) (int64, error) {
			tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: "e", TimeGroup: g, From: from, To: to})
			if err != nil {
				return 0, err
			}
			return tr.Unique, nil
		}},
		{"trend rolling", func(g bitmapist.TimeGroup, from, to time.Time) (int64, error) {
			if g != bitmapist.Days {
				return -1, nil // rolling is for days only
			}
			tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: "e", TimeGroup: g, From: from, To: to, Rolling: true})
			if err != nil {
				return 0, err
			}
			return tr.Unique, nil
		}},
		{"lifecycle", func(g bitmapist.TimeGroup, from, to time.Time) (int64, error) {
			l, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: "e", TimeGroup: g, From: from, To: to})
			if err != nil {
				return 0, err
			}
			var n int64
			for _, p := range l.Periods {
				n += p.New
			}
			return n, nil
		}},
		{"stickiness", func(g bitmapist.TimeGroup, from, to time.Time) (int64, error) {
			s, err := cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: "e", TimeGroup: g, From: from, To: to})
			if err != nil {
				return 0, err
			}
			return s.Users, nil
		}},
	}
	for _, w := range []int{0, 7} {
		reports = append(reports, report{"funnel window " + string(rune('0'+w)), func(g bitmapist.TimeGroup, from, to time.Time) (int64, error) {
			f, err := cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{"e", "x"}, TimeGroup: g, Window: w, From: from, To: to})
			if err != nil {
				return 0, err
			}
			return f.Steps[0].Users, nil // entries, summed over the rows
		}})
	}
	for _, tc := range []struct {
		name     string
		g        bitmapist.TimeGroup
		from, to time.Time
		users    int64  // users of the range (the funnel's: entries)
		field    string // refused: the field named
	}{
		{"first days", bitmapist.Days, first, first.AddDate(0, 0, 2), 2, ""},
		{"first day alone", bitmapist.Days, first, first, 2, ""},
		{"first weeks", bitmapist.Weeks, first, first.AddDate(0, 0, 20), 2, ""},
		{"first months", bitmapist.Months, first, first.AddDate(0, 2, 0), 2, ""},
		{"last days", bitmapist.Days, last.AddDate(0, 0, -2), last, 2, ""},
		{"last day alone", bitmapist.Days, last, last, 2, ""},
		{"last weeks", bitmapist.Weeks, last.AddDate(0, 0, -20), last, 2, ""},
		{"last months", bitmapist.Months, last.AddDate(0, -2, 0), last, 2, ""},
		{"before the year 1", bitmapist.Days, first.Add(-13 * time.Hour), first, 0, "From"},
		{"after the year 9999", bitmapist.Days, last, last.AddDate(0, 0, 1), 0, "To"},
		{"months after 9999", bitmapist.Months, last, last.AddDate(0, 1, 0), 0, "To"},
	} {
		for _, r := range reports {
			got, err := r.run(tc.g, tc.from, tc.to)
			if got == -1 {
				continue
			}
			if tc.field != "" {
				var qe *cohort.QueryError
				var re *bitmapist.ReportError
				switch {
				case errors.As(err, &qe) && qe.Field == tc.field:
				case errors.As(err, &re) && re.Field == tc.field:
				default:
					t.Errorf("%s %s: %v, want a refusal naming %s", tc.name, r.name, err, tc.field)
				}
				continue
			}
			want := tc.users
			switch r.name {
			case "funnel window 0", "funnel window 7":
				want = funnelEntries(tc.name)
			case "lifecycle":
				if tc.name == "last day alone" {
					want = 1 // 3 was active on 12-30: returning, not new
				}
			}
			if err != nil || got != want {
				t.Errorf("%s %s: %d users, %v; want %d", tc.name, r.name, got, err, want)
			}
		}
	}
}

// funnelEntries is the entry count of the funnel rows of each range of
// TestReportsAcceptTheSameRanges: one entry per user per period.
func funnelEntries(name string) int64 {
	switch name {
	case "first days", "last days":
		return 3 // 1, 2 then 1; 3 then 3, 4
	}
	return 2
}

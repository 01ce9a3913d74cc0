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

// TestCohortTableSharesReportRange: the retention table (cohort.Get) checks
// its periods with the range check of the other reports
// (bitmapist.Client.ReportRange): a table reaching past the year 9999 or
// before the year 1 is refused with the very message a lifecycle of the
// same periods gets, as a *QueryError naming Start (Now without Start, and
// Now when Now itself is out of range) that wraps the *bitmapist.ReportError;
// the tables at both ends of time are computed.
func TestCohortTableSharesReportRange(t *testing.T) {
	b := testutil.Miniredis(t)
	ctx := context.Background()
	c := newClient(b, time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC))
	first := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC) // the zero time: row 0 of a table may start there
	last := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	markIDs(t, c, "e", first.Add(12*time.Hour), 1, 2) // a zero Time would mark now
	markIDs(t, c, "e", last, 3)
	cq := func(start, now time.Time, g bitmapist.TimeGroup, rows, cols int) cohort.Query {
		return cohort.Query{Primary: "e", Secondary: "e", TimeGroup: g, Rows: rows, Cols: cols, Start: start, Now: now, WithReplacement: true}
	}
	// Columns past 9999 are read only with IncludeFuture (without it they
	// are after Now, blank: TestTableAtTheEndOfTime).
	future := func(q cohort.Query) cohort.Query { q.IncludeFuture = true; return q }
	for _, tc := range []struct {
		name     string
		q        cohort.Query
		from, to time.Time // the lifecycle of the same periods
		field    string    // the lifecycle's field
		want     string    // cohort.Get's field
	}{
		{"past 9999 from Start", future(cq(last.AddDate(0, 0, -1), last, bitmapist.Days, 1, 3)), last.AddDate(0, 0, -1), last.AddDate(0, 0, 1), "To", "Start"},
		{"past 9999 by months", future(cq(time.Date(9999, 11, 1, 0, 0, 0, 0, time.UTC), last, bitmapist.Months, 2, 2)), time.Date(9999, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "To", "Start"},
		{"before 1 from Now", cq(time.Time{}, first.AddDate(0, 0, 1), bitmapist.Days, 3, 1), first.AddDate(0, 0, -1), first.AddDate(0, 0, 1), "From", "Now"},
		{"before 1 by weeks", cq(time.Time{}, first.AddDate(0, 0, 7), bitmapist.Weeks, 3, 1), first.AddDate(0, 0, -7), first.AddDate(0, 0, 7), "From", "Now"},
		{"Now past 9999", cq(last, last.AddDate(0, 0, 1), bitmapist.Days, 1, 1), last.AddDate(0, 0, 1), last.AddDate(0, 0, 1), "From", "Now"},
	} {
		_, lerr := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: "e", TimeGroup: tc.q.TimeGroup, From: tc.from, To: tc.to})
		var lqe *cohort.QueryError
		if !errors.As(lerr, &lqe) || lqe.Field != tc.field {
			t.Fatalf("%s: lifecycle %v, want a refusal naming %s", tc.name, lerr, tc.field)
		}
		_, err := cohort.Get(ctx, c, tc.q)
		var qe *cohort.QueryError
		var re *bitmapist.ReportError
		if !errors.As(err, &qe) || qe.Field != tc.want || qe.Msg != lqe.Msg || !errors.As(err, &re) || !errors.Is(err, cohort.ErrInvalidQuery) {
			t.Errorf("%s: Get %v, want a *QueryError on %s saying %q and wrapping a *bitmapist.ReportError", tc.name, err, tc.want, lqe.Msg)
		}
	}
	for _, tc := range []struct {
		name  string
		q     cohort.Query
		total int64
	}{
		{"first day from Start", cq(first.Add(time.Hour), first.AddDate(0, 0, 2), bitmapist.Days, 1, 3), 2},
		{"first days from Now, row 0 at the zero time", cq(time.Time{}, first.AddDate(0, 0, 1), bitmapist.Days, 2, 2), 2},
		{"last day", cq(last, last, bitmapist.Days, 1, 1), 1},
		{"last months", cq(time.Date(9999, 11, 1, 0, 0, 0, 0, time.UTC), last, bitmapist.Months, 2, 1), 1},
	} {
		tb, err := cohort.Get(ctx, c, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var n int64
		for _, x := range tb.Totals {
			n += x
		}
		if n != tc.total {
			t.Errorf("%s: totals %v, want %d users", tc.name, tb.Totals, tc.total)
		}
	}
}

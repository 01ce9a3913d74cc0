package cohort_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestDatesDataStartRows: the rows get_dates_data gives for a start_date,
// computed by hand from Python's algorithm ("now" = start_date +
// (num_results-1) days, then back num_results-1 periods; years back 2),
// for every time group, and how Query.Start differs.
func TestDatesDataStartRows(t *testing.T) {
	cases := []struct {
		name  string
		g     bitmapist.TimeGroup
		start time.Time
		n     int
		rows  []time.Time // want Table.Dates
		query time.Time   // row 0 of Query.Start = start, for contrast
	}{
		{"days", bitmapist.Days, day(2024, 3, 6), 4,
			[]time.Time{day(2024, 3, 6), day(2024, 3, 7), day(2024, 3, 8), day(2024, 3, 9)}, day(2024, 3, 6)},
		// now = Sat 03-09, minus 3 weeks = 02-17: ISO week of Mon 02-12.
		{"weeks", bitmapist.Weeks, day(2024, 3, 6), 4,
			[]time.Time{day(2024, 2, 12), day(2024, 2, 19), day(2024, 2, 26), day(2024, 3, 4)}, day(2024, 3, 4)},
		// now = 03-05, minus 1 week = 02-27: a Monday start is not row 0.
		{"weeks from a Monday", bitmapist.Weeks, day(2024, 3, 4), 2,
			[]time.Time{day(2024, 2, 26), day(2024, 3, 4)}, day(2024, 3, 4)},
		// Across New Year: ISO weeks, 2020-W51 .. 2020-W53.
		{"weeks at New Year", bitmapist.Weeks, day(2020, 12, 28), 3,
			[]time.Time{day(2020, 12, 14), day(2020, 12, 21), day(2020, 12, 28)}, day(2020, 12, 28)},
		{"weeks, one row", bitmapist.Weeks, day(2024, 3, 6), 1,
			[]time.Time{day(2024, 3, 4)}, day(2024, 3, 4)},
		// now = 02-02, minus 2 months = 2023-12-02, snapped to the 1st.
		{"months from the 31st", bitmapist.Months, day(2024, 1, 31), 3,
			[]time.Time{day(2023, 12, 1), day(2024, 1, 1), day(2024, 2, 1)}, day(2024, 1, 1)},
		// now = 01-31, minus 30 months = 2021-07: start_date's month is not
		// in the table at all.
		{"months, 31 rows", bitmapist.Months, day(2024, 1, 1), 31,
			nil, day(2024, 1, 1)},
		// now = 06-25 (25 = the default num_results), minus 2 years.
		{"years", bitmapist.Years, day(2024, 6, 1), 25,
			[]time.Time{day(2022, 1, 1), day(2023, 1, 1), day(2024, 1, 1)}, day(2024, 1, 1)},
		// num_results is not bounded for years: now = 2024-06-01 + 999
		// days = 2027-02-25, minus 2 years.
		{"years, 1000 results", bitmapist.Years, day(2024, 6, 1), 1000,
			[]time.Time{day(2025, 1, 1), day(2026, 1, 1), day(2027, 1, 1)}, day(2024, 1, 1)},
		// now = 2025-01-13: start_date's year is row 1.
		{"years in December", bitmapist.Years, day(2024, 12, 20), 25,
			[]time.Time{day(2023, 1, 1), day(2024, 1, 1), day(2025, 1, 1)}, day(2024, 1, 1)},
	}
	b := testutil.Miniredis(t)
	c := newClient(b, day(2030, 1, 1))
	markIDs(t, c, "active", day(2024, 1, 10), 1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := cohort.DatesQuery{Select1: "active", Select2: "active", TimeGroup: tc.g,
				NumResults: tc.n, NumOfRows: 1, Start: tc.start}
			tab, err := cohort.DatesData(context.Background(), c, d)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.rows
			if want == nil { // 31 months from 2021-07
				for i := 0; i < 31; i++ {
					want = append(want, time.Date(2021, 7+time.Month(i), 1, 0, 0, 0, 0, time.UTC))
				}
			}
			if !reflect.DeepEqual(tab.Dates, want) {
				t.Errorf("rows %v\nwant %v", tab.Dates, want)
			}
			q := d.Query()
			q.Start = tc.start
			qt, err := cohort.Get(context.Background(), c, q)
			if err != nil {
				t.Fatal(err)
			}
			if !qt.Dates[0].Equal(tc.query) {
				t.Errorf("Query.Start: row 0 %v, want %v", qt.Dates[0], tc.query)
			}
		})
	}
}

// TestDatesDataStartUpstream runs get_dates_data's upstream cases
// (upstreamCases) with a start_date for every time group: the fixture is
// marked in the period Python makes row 0 (not start_date's) and the one
// after it, so the cells are upstream's only if the rows are chosen as
// Python chooses them.
func TestDatesDataStartUpstream(t *testing.T) {
	groups := []struct {
		g     bitmapist.TimeGroup
		start time.Time
		n     int
		row0  time.Time // Python's row 0
	}{
		{bitmapist.Days, day(2024, 3, 6), 4, day(2024, 3, 6)},
		{bitmapist.Weeks, day(2024, 3, 6), 4, day(2024, 2, 12)},
		{bitmapist.Months, day(2024, 1, 31), 3, day(2023, 12, 1)},
		{bitmapist.Years, day(2024, 12, 20), 25, day(2023, 1, 1)},
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, gc := range groups {
			b := b
			b.Prefix += gc.g.String() + "_"
			c := newClient(b, day(2030, 1, 1))
			// Noon of row 0's first day, and the same time one period later.
			upstreamDates(t, c, gc.row0.Add(12*time.Hour), gc.g)
			checkUpstream(t, c, gc.g, gc.n, gc.start, gc.row0)
		}
	})
}

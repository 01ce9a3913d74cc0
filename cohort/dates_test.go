package cohort_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// upstreamDates marks the fixture of bitmapist's test_cohort.py: today (D)
// and tomorrow (D+1, after now). With a time group g, "tomorrow" is the
// same time in the next period of g.
func upstreamDates(t *testing.T, c *bitmapist.Client, today time.Time, g ...bitmapist.TimeGroup) {
	tomorrow := today.AddDate(0, 0, 1)
	if len(g) > 0 {
		tomorrow = g[0].Add(today, 1).Add(today.Sub(g[0].Start(today)))
	}
	markIDs(t, c, "signup", today, 111, 222)
	markIDs(t, c, "active", today, 111, 222)
	markIDs(t, c, "active", tomorrow, 111)
	for _, ev := range []string{"task1", "task2"} {
		markIDs(t, c, ev, today, 111, 222)
		markIDs(t, c, ev, tomorrow, 111, 222)
	}
	markIDs(t, c, "visit", today, 333) // nobody of any cohort: 0, not ""
	markIDs(t, c, "visit", tomorrow, 333)
}

// upstreamCase is one of Python bitmapist's get_dates_data test cases on
// the upstreamDates fixture: the four selects and [cohort size, c0, c1].
type upstreamCase struct {
	s1, s1b, s2, s2b string
	want             []any
}

// upstreamCases are get_dates_data's upstream cases: one row, one
// follow-up column, as percent.
var upstreamCases = []upstreamCase{
	{"active", "", "active", "", []any{int64(2), 100.0, 50.0}},
	{"active", "", "unknown", "", []any{int64(2), "", ""}},
	{"unknown", "", "active", "", []any{int64(0), "", ""}},
	{"signup", "active", "active", "", []any{int64(2), 100.0, 50.0}},
	{"task1", "task2", "task2", "task1", []any{int64(2), 100.0, 100.0}},
	{"task1", "task2", "task1", "task2", []any{int64(2), 100.0, 100.0}},
	{"active", "", "unknown", "active", []any{int64(2), "", ""}},
	{"active", "", "active", "unknown", []any{int64(2), "", ""}},
	// Upstream's own test expects [2, 100, 0] here: its BitOpAnd result
	// key exists although empty, and it tests key existence. Here an
	// empty AND means "no data" (BITCOUNT = 0): "".
	{"signup", "active", "active", "signup", []any{int64(2), 100.0, ""}},
	// Return event with users, none of them from the cohort: 0.
	{"signup", "", "visit", "", []any{int64(2), 0.0, 0.0}},
}

// checkUpstream runs every upstream case through DatesData (as percent,
// time group g, n results, one follow-up column, start) and checks that
// row 0 is dated row0 and holds the case's values.
func checkUpstream(t *testing.T, c *bitmapist.Client, g bitmapist.TimeGroup, n int, start, row0 time.Time) {
	t.Helper()
	for _, tc := range upstreamCases {
		tab, err := cohort.DatesData(context.Background(), c, cohort.DatesQuery{
			Select1: tc.s1, Select1b: tc.s1b, Select2: tc.s2, Select2b: tc.s2b,
			TimeGroup: g, AsPercent: true, NumResults: n, NumOfRows: 1, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		row := tab.DatesRow(0)
		if d := row[0].(time.Time); !d.Equal(row0) {
			t.Errorf("%v: row 0 is %v, want %v", g, d, row0)
		}
		if got := row[1:]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v %s/%s/%s/%s: %v, want %v", g, tc.s1, tc.s1b, tc.s2, tc.s2b, got, tc.want)
		}
	}
}

// TestDatesDataUpstream runs Python bitmapist's get_dates_data test cases
// (upstreamCases), leaving no key behind.
func TestDatesDataUpstream(t *testing.T) {
	today := time.Date(2025, 7, 9, 13, 0, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, today)
		upstreamDates(t, c, today)
		keysBefore := keyCount(t, b)
		checkUpstream(t, c, bitmapist.Days, 1, time.Time{}, day(2025, 7, 9))
		if n := keyCount(t, b); n != keysBefore {
			t.Errorf("%d keys after, %d before: keys left behind", n, keysBefore)
		}
	})
}

func TestDatesDataCountsAndShape(t *testing.T) {
	today := time.Date(2025, 7, 9, 13, 0, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, today)
		upstreamDates(t, c, today)
		markIDs(t, c, "active", today.AddDate(0, 0, -1), 111, 444)

		// Counts, two rows (yesterday, today), three cells each.
		tab, err := cohort.DatesData(context.Background(), c, cohort.DatesQuery{
			Select1: "active", Select2: "active", TimeGroup: bitmapist.Days, NumResults: 2, NumOfRows: 2})
		if err != nil {
			t.Fatal(err)
		}
		want := [][]any{
			{day(2025, 7, 8), int64(2), 2.0, 1.0, 1.0}, // {111,444}: D-1 both, D {111}, D+1 {111}
			{day(2025, 7, 9), int64(2), 2.0, 1.0, ""},  // {111,222}: D both, D+1 {111}, D+2 nobody
		}
		for i := range want {
			if got := tab.DatesRow(i); !reflect.DeepEqual(got, want[i]) {
				t.Errorf("row %d: %v, want %v", i, got, want[i])
			}
		}
		if tab.DatesRow(2) != nil || tab.DatesRow(-1) != nil {
			t.Error("DatesRow out of range: not nil")
		}
		if tab.Query.Cols != 3 || !tab.Query.WithReplacement || !tab.Query.BlankEmpty || !tab.Query.IncludeFuture {
			t.Errorf("query %+v", tab.Query)
		}

		// Start makes row 0 that date.
		tab, err = cohort.DatesData(context.Background(), c, cohort.DatesQuery{
			Select1: "active", Select2: "active", TimeGroup: bitmapist.Days, NumResults: 3, NumOfRows: 0,
			Start: day(2025, 7, 8)})
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range []time.Time{day(2025, 7, 8), day(2025, 7, 9), day(2025, 7, 10)} {
			if !tab.Dates[i].Equal(d) {
				t.Errorf("start: row %d date %v, want %v", i, tab.Dates[i], d)
			}
		}
		if want := []int64{2, 2, 1}; !reflect.DeepEqual(tab.Totals, want) {
			t.Errorf("start: totals %v, want %v", tab.Totals, want)
		}

		// Years always give 3 rows.
		tab, err = cohort.DatesData(context.Background(), c, cohort.DatesQuery{
			Select1: "active", Select2: "active", TimeGroup: bitmapist.Years, NumResults: 25, NumOfRows: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(tab.Dates) != 3 || !tab.Dates[2].Equal(day(2025, 1, 1)) || !tab.Dates[0].Equal(day(2023, 1, 1)) {
			t.Errorf("years: dates %v, want 2023..2025", tab.Dates)
		}
		if got := tab.DatesRow(2); !reflect.DeepEqual(got[1:], []any{int64(3), 3.0, ""}) {
			t.Errorf("years: 2025 row %v", got)
		}
	})
}

func TestDatesDataInvalid(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, time.Now())
	rec := record(b)
	ok := cohort.DatesQuery{Select1: "a", Select2: "b", TimeGroup: bitmapist.Days, NumResults: 2, NumOfRows: 2}
	for _, tc := range []struct {
		field  string
		change func(d *cohort.DatesQuery)
	}{
		{"NumResults", func(d *cohort.DatesQuery) { d.NumResults = 0 }},
		{"NumResults", func(d *cohort.DatesQuery) { d.NumResults = cohort.MaxRows + 1 }},
		{"NumOfRows", func(d *cohort.DatesQuery) { d.NumOfRows = -1 }},
		{"NumOfRows", func(d *cohort.DatesQuery) { d.NumOfRows = cohort.MaxCols }},
		{"Select1", func(d *cohort.DatesQuery) { d.Select1 = "" }},
		{"Select1b", func(d *cohort.DatesQuery) { d.Select1b = "x\ny" }},
		{"Select2", func(d *cohort.DatesQuery) { d.Select2 = "bitop_x" }},
		{"Select2b", func(d *cohort.DatesQuery) { d.Select2b = strings.Repeat("x", bitmapist.MaxEventNameLen+1) }},
		{"TimeGroup", func(d *cohort.DatesQuery) { d.TimeGroup = 7 }},
	} {
		d := ok
		tc.change(&d)
		_, err := cohort.DatesData(context.Background(), c, d)
		var qe *cohort.QueryError
		if !errors.As(err, &qe) || !errors.Is(err, cohort.ErrInvalidQuery) || qe.Field != tc.field {
			t.Errorf("%s: error %v, want a QueryError for %s", tc.field, err, tc.field)
		}
	}
	if rt, cmds := rec.reset(); rt != 0 {
		t.Errorf("invalid queries sent %d round trips: %v", rt, cmds)
	}
	if _, err := cohort.DatesData(context.Background(), nil, ok); !errors.Is(err, cohort.ErrNilClient) {
		t.Errorf("nil client: error %v, want ErrNilClient", err)
	}
}

package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// upstreamCSV is flask-bitmapist's own get_cohort test case:
// four days d0..d3 = 2024-01-01..04, events popped and locked.
func upstreamCSV() string {
	var b strings.Builder
	b.WriteString("user,day,event\n")
	add := func(event string, day int, ids ...int) {
		for _, id := range ids {
			fmt.Fprintf(&b, "%d,2024-01-0%d,%s\n", id, day+1, event)
		}
	}
	span := func(from, to int) []int {
		var s []int
		for i := from; i <= to; i++ {
			s = append(s, i)
		}
		return s
	}
	add("popped", 0, span(100, 105)...)
	add("popped", 1, span(106, 112)...)
	add("popped", 3, span(113, 117)...)
	add("locked", 0, span(100, 104)...)
	add("locked", 1, 100, 101, 102, 106, 107)
	add("locked", 2, 107, 108)
	add("locked", 3, 105, 106, 107, 109, 110, 113, 114, 115, 116)
	return b.String()
}

// percent is n of d in percent, computed at run time like the table's
// cells (a constant expression would be exact).
func percent(n, d float64) float64 { return n / d * 100 }

// cells renders the cohort JSON's cells as text, "-" for null.
func cells(t *testing.T, out string) string {
	t.Helper()
	var g cohortJSON
	if err := jsonUnmarshal(out, &g); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rows []string
	for _, r := range g.Cohort {
		var cs []string
		for _, c := range r {
			cs = append(cs, show(c))
		}
		rows = append(rows, strings.ReplaceAll(strings.Join(cs, " "), "null", "-"))
	}
	return strings.Join(rows, " | ")
}

func TestCohortFlags(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, upstreamCSV(), "import", "--user-col", "user", "--time-col", "day", "--event-col", "event", "-"))
		base := []string{"cohort", "popped", "locked", "--group", "days", "--rows", "4", "--cols", "4", "--now", "2024-01-04", "--json"}
		tests := []struct {
			flags  []string
			want   string
			totals []int64
		}{
			// flask-bitmapist's expected rows and totals.
			{nil, "5 0 0 1 | 2 1 2 - | - - - - | 4 - - -", []int64{6, 7, 0, 5}},
			{[]string{"--with-replacement"}, "5 3 0 1 | 2 2 4 - | - - - - | 4 - - -", []int64{6, 7, 0, 5}},
			// Unbounded: returned in that day or any later one of the table.
			{[]string{"--on-or-after"}, "6 4 1 1 | 5 5 4 - | - - - - | 4 - - -", []int64{6, 7, 0, 5}},
			// Cohort = popped AND locked in the row's day.
			{[]string{"--primary-and", "locked", "--with-replacement"}, "5 3 0 0 | 2 1 2 - | - - - - | 4 - - -", []int64{5, 2, 0, 4}},
			// Days after --now computed; with --blank-empty a day nobody locked is blank.
			{[]string{"--with-replacement", "--include-future"}, "5 3 0 1 | 2 2 4 0 | - - - - | 4 0 0 0", []int64{6, 7, 0, 5}},
			{[]string{"--with-replacement", "--include-future", "--blank-empty"}, "5 3 0 1 | 2 2 4 - | - - - - | 4 - - -", []int64{6, 7, 0, 5}},
			// Percentages of the cohort.
			{[]string{"--with-replacement", "--percent", "--rows", "1", "--cols", "2", "--start", "2024-01-01"}, fmt.Sprint(percent(5, 6), " ", 50), []int64{6}},
			// Additional events: locked OR popped in the cell's day.
			{[]string{"--with-replacement", "--additional", "or:popped"}, "6 3 0 1 | 7 2 4 - | - - - - | 5 - - -", []int64{6, 7, 0, 5}},
		}
		for _, tc := range tests {
			r := mustOK(t, cli(t, b, "", append(slices.Clone(base), tc.flags...)...))
			if got := cells(t, r.stdout); got != tc.want {
				t.Errorf("%v: cells %s, want %s", tc.flags, got, tc.want)
			}
			var g cohortJSON
			if err := jsonUnmarshal(r.stdout, &g); err != nil || !slices.Equal(g.RowTotals, tc.totals) {
				t.Errorf("%v: totals %v, want %v (%v)", tc.flags, g.RowTotals, tc.totals, err)
			}
		}
	})
}

package main

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// publishedArgs is the cohort command line of the published table from
// imported data (no customer:created event: first-time cohorts instead).
var publishedArgs = []string{"cohort", "customer:purchased", "--group", "months", "--first-time", "--with-replacement", "--start", "2010-12", "--now", "2011-12-09", "--rows", "13", "--cols", "13"}

func TestImportBothLogsThenCohort(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		r := mustOK(t, cli(t, b, onlineRetailString(t), "import", "--allow-rejects", "--user-col", "CustomerID", "--time-col", "InvoiceDate", "--event", "customer:purchased", "-"))
		if !strings.Contains(r.stdout, "rows:     19573 read, 19296 marked, 277 rejected") || !strings.Contains(r.stdout, "rejected: 277 (missing id: 277)") || !strings.Contains(r.stdout, "users:    4372") {
			t.Errorf("online retail import summary:\n%s", r.stdout)
		}
		mustOK(t, cli(t, b, "", "import", "-q", "--string-ids", "--user-col", "userid", "--time-col", "eventDate", "--event-col", "eventName", "testdata/gamelaunch.csv.gz"))
		if r := mustOK(t, cli(t, b, "", "events")); !slices.Equal(lines(r.stdout), []string{"customer:purchased", "gameStarted", "newPlayer"}) {
			t.Errorf("events: %q", r.stdout)
		}

		r = mustOK(t, cli(t, b, "", append(publishedArgs, "--json")...))
		checkPublished(t, []byte(r.stdout))
		// Column labels read "0", "+1 month", "+2 months", ...
		if !strings.Contains(r.stdout, `"+1 month"`) || !strings.Contains(r.stdout, `"+2 months"`) {
			t.Errorf("cohort --json column labels: %.300s", r.stdout)
		}

		// The terminal table: aligned columns, published values, averages.
		r = mustOK(t, cli(t, b, "", publishedArgs...))
		ls := strings.Split(r.stdout, "\n")
		var header, first, last string
		for i, l := range ls {
			switch {
			case strings.HasPrefix(l, "cohort "):
				header = l
			case strings.HasPrefix(l, "2010-12 "):
				first = l
			case strings.HasPrefix(l, "2011-12 "):
				last = ls[i]
			}
		}
		if got := strings.Fields(first); !slices.Equal(got, strings.Fields("2010-12 948 948 362 317 367 341 376 360 336 336 374 354 474 260")) {
			t.Errorf("first row %q", first)
		}
		if got := strings.Fields(last); !slices.Equal(got, []string{"2011-12", "41", "41"}) {
			t.Errorf("last row %q", last)
		}
		// Right-aligned: every number of the first row ends where its
		// heading ends.
		for j, h := range strings.Fields(header)[1:] {
			end := headingEnd(header, j+1)
			if end < 0 || end > len(first) || first[end-1] == ' ' {
				t.Errorf("column %s is not aligned:\n%s\n%s", h, header, first)
			}
		}
		if !strings.Contains(r.stdout, "\naverage ") {
			t.Errorf("no average line:\n%s", r.stdout)
		}

		// Percentages.
		r = mustOK(t, cli(t, b, "", append(publishedArgs, "--percent", "--rows", "1", "--cols", "3")...))
		if !strings.Contains(r.stdout, "2010-12    948  100.0%  38.2%  33.4%") {
			t.Errorf("percent table:\n%s", r.stdout)
		}

		// CSV, get_dates_data's header.
		r = mustOK(t, cli(t, b, "", append(publishedArgs, "--csv", "--rows", "2", "--cols", "3")...))
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"Date", "Total", "0", "1", "2"}, {"2010-12", "948", "948", "362", "317"}, {"2011-01", "421", "421", "101", "119"}}
		if !slices.EqualFunc(recs, want, slices.Equal) {
			t.Errorf("CSV %q, want %q", recs, want)
		}

		// The game log: daily cohorts of new players coming back, with an
		// additional OR event and blanks.
		r = mustOK(t, cli(t, b, "", "cohort", "newPlayer", "gameStarted", "--additional", "or:newPlayer", "--start", "2016-04-27", "--now", "2016-05-27", "--rows", "3", "--cols", "3", "--json"))
		var g cohortJSON
		if err := jsonUnmarshal(r.stdout, &g); err != nil {
			t.Fatal(err)
		}
		if len(g.Cohort) != 3 || g.Labels[0] != "2016-04-27" || g.RowTotals[0] == 0 || g.Cohort[0][0] == nil || *g.Cohort[0][0] != float64(g.RowTotals[0]) {
			t.Errorf("game cohort %+v", g)
		}
	})
}

// headingEnd returns the byte offset just after the n-th field of line.
func headingEnd(line string, n int) int {
	i, field := 0, -1
	for i < len(line) {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		field++
		for i < len(line) && line[i] != ' ' {
			i++
		}
		if field == n {
			return i
		}
	}
	return -1
}

func TestCohortUsageErrors(t *testing.T) {
	b := testutil.Miniredis(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"cohort", "a", "--json", "--csv"}, "at most one of"},
		{[]string{"cohort", "a", "--rows", "0"}, "--rows"},
		{[]string{"cohort", "a", "--cols", "100000"}, "--cols"},
		{[]string{"cohort", "a", "--additional", "xor:b"}, "additional"},
		{[]string{"cohort", "a", "--group", "fortnights"}, "--group"},
		{[]string{"cohort", "a", "--now", "soon"}, "--now"},
		{[]string{"cohort", "bitop_x"}, "PRIMARY"},
		{[]string{"cohort"}, "accepts between 1 and 2 arg(s)"},
	}
	for _, tc := range tests {
		r := cli(t, b, "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d containing %q", tc.args, r.code, r.stderr, exitUsage, tc.want)
		}
	}
}

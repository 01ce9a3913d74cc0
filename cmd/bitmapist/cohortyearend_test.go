package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/bitmapist-go/bitmapist/web"
)

// TestCohortNowAtTheEndOfTime: cohort --now 9999-12-31 works in every
// time group, its columns after 9999 blank as every column after --now
// is (in text, JSON and CSV, and on the dashboard); --include-future,
// which asks for those cells, and --start rows after 9999 are still
// refused naming the flag. Before, --group years --now 9999-12-31 was
// refused: "the table would reach 10008".
func TestCohortNowAtTheEndOfTime(t *testing.T) {
	b := testutil.Miniredis(t)
	mustOK(t, cli(t, b, "", "mark", "--hourly", "--allow-future", "--at", "9998-12-31T23:00:00Z", "e", "1"))
	mustOK(t, cli(t, b, "", "mark", "--hourly", "--allow-future", "--at", "9999-12-31T23:00:00Z", "e", "1"))
	last := map[string]string{"hours": "9999-12-31 23:00", "days": "9999-12-31", "weeks": "9999-W52", "months": "9999-12", "years": "9999"}
	for _, g := range []string{"hours", "days", "weeks", "months", "years"} {
		args := []string{"cohort", "e", "--group", g, "--now", "9999-12-31T23:30:00Z", "--rows", "2", "--cols", "3"}
		r := mustOK(t, cli(t, b, "", args...))
		ls := lines(r.stdout)
		if row := strings.Fields(ls[len(ls)-2]); strings.Join(row, " ") != strings.Join(append(strings.Fields(last[g]), "1", "1"), " ") {
			t.Errorf("%s: last row %q, want %s with 1 user in column 0 only\n%s", g, ls[len(ls)-2], last[g], r.stdout)
		}
		var js struct {
			Cohort [][]*float64
		}
		if err := json.Unmarshal([]byte(mustOK(t, cli(t, b, "", append(args, "--json")...)).stdout), &js); err != nil || len(js.Cohort) != 2 {
			t.Fatalf("%s: JSON %v %v", g, js, err)
		}
		for i, row := range js.Cohort {
			if row[2] != nil || (i == 1 && (row[1] != nil || row[0] == nil || *row[0] != 1)) {
				t.Errorf("%s: JSON row %d = %v, want values up to --now only", g, i, row)
			}
		}
		if csv := mustOK(t, cli(t, b, "", append(args, "--csv")...)).stdout; !strings.HasSuffix(csv, ",1,1,,\n") {
			t.Errorf("%s: CSV %q", g, csv)
		}
		if r := cli(t, b, "", append(args, "--include-future")...); r.code != exitUsage || !strings.Contains(r.stderr, "--now: the report would reach after year 9999") || !strings.Contains(r.stderr, "outside the years 1..9999") {
			t.Errorf("%s --include-future: exit %d, %q", g, r.code, r.stderr)
		}
		if r := cli(t, b, "", append(args, "--start", "9999-12-31T23:00:00Z")...); r.code != exitUsage || !strings.Contains(r.stderr, "--start: the report would reach after year 9999") {
			t.Errorf("%s --start at the end: exit %d, %q", g, r.code, r.stderr)
		}
	}
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithClock(func() time.Time { return time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC) }))
	h := web.Handler(c)
	for _, path := range []string{"/cohort", "/cohort.json", "/cohort.csv"} {
		if code, body := getPage(t, h, path+"?primary_event=e&secondary_event=e&time_group=years&now=9999-12-31&num_rows=2&num_cols=3"); code != 200 {
			t.Errorf("dashboard %s by years at 9999-12-31: %d %.200s", path, code, body)
		}
	}
}

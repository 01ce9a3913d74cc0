package main

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestCohortSegment: cohort --segment ANDs every spec into each row's
// cohort (values computed here from the marks), names the segment in the
// text title, and refuses a segment event without data or a bad label.
func TestCohortSegment(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		signup := []int{1, 2, 3, 4, 5, 6, 7, 8} // on 2024-12-30
		active := []int{1, 2, 3, 5, 8}          // on 2024-12-31
		pro := []int{2, 3, 4, 6, 8}             // on 2024-12-15 (unique bitmap too)
		de := []int{3, 4, 5, 6, 8}              // on 2024-12-30
		var log strings.Builder
		log.WriteString("user,time,event\n")
		for _, ev := range []struct {
			name, at string
			ids      []int
		}{{"signup", "2024-12-30", signup}, {"active", "2024-12-31", active}, {"pro", "2024-12-15", pro}, {"de", "2024-12-30", de}} {
			for _, id := range ev.ids {
				fmt.Fprintf(&log, "%d,%s 10:00:00,%s\n", id, ev.at, ev.name)
			}
		}
		mustOK(t, cli(t, b, log.String(), "import", "-q", "--unique", "--user-col", "user", "--time-col", "time", "--event-col", "event", "-"))
		in := func(sets ...[]int) []int { // the ids in every set
			var out []int
			for _, id := range sets[0] {
				if !slices.ContainsFunc(sets[1:], func(s []int) bool { return !slices.Contains(s, id) }) {
					out = append(out, id)
				}
			}
			return out
		}
		base := []string{"cohort", "signup", "active", "--group", "days", "--start", "2024-12-30", "--now", "2024-12-31", "--rows", "1", "--cols", "2"}
		for _, tc := range []struct {
			segs   []string
			cohort []int
		}{
			{nil, signup},
			{[]string{"pro"}, in(signup, pro)},
			{[]string{"pro@2024-12"}, in(signup, pro)},
			{[]string{"pro@2024-12", "de@2024-12-30"}, in(signup, pro, de)},
			{[]string{"de@2024-12-31"}, nil}, // nobody: zero rows
		} {
			args := slices.Clone(base)
			for _, s := range tc.segs {
				args = append(args, "--segment", s)
			}
			r := mustOK(t, cli(t, b, "", append(args, "--csv")...))
			recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"2024-12-30", fmt.Sprint(len(tc.cohort)), "0", fmt.Sprint(len(in(tc.cohort, active)))}
			if len(tc.cohort) == 0 {
				want = []string{"2024-12-30", "0", "", ""}
			}
			if len(recs) != 2 || !slices.Equal(recs[1], want) {
				t.Errorf("--segment %v: CSV %q, want row %q", tc.segs, recs, want)
			}
		}
		r := mustOK(t, cli(t, b, "", append(base, "--segment", "pro", "--segment", "de@2024-12-30")...))
		if !strings.Contains(r.stdout, "; segment: pro and de@2024-12-30\n") {
			t.Errorf("text title without the segment:\n%s", r.stdout)
		}
		r = cli(t, b, "", append(base, "--segment", "proo@2024-12")...)
		if r.code != exitError || !strings.Contains(r.stderr, "--segment: no such event") || !strings.Contains(r.stderr, "did you mean pro") {
			t.Errorf("unknown segment event: exit %d, stderr %s", r.code, r.stderr)
		}
		r = cli(t, b, "", append(base, "--segment", "pro@2024-13")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "bitmapist: --segment: invalid query: ") {
			t.Errorf("bad segment label: exit %d, stderr %s", r.code, r.stderr)
		}
		// imported without --hourly: an hour of de's day has no bitmap.
		const noHours = `--segment "de@2024-12-30T10": "de" has no hourly data on 2024-12-30 (it was marked without hourly tracking) though it has daily data, so an hour of that day holds nobody; use the day, de@2024-12-30`
		for _, args := range [][]string{base, {"stickiness", "signup", "--from", "2024-12-29", "--to", "2024-12-31"}} {
			r = cli(t, b, "", append(args, "--segment", "de@2024-12-30T10")...)
			if r.code != exitError || !strings.Contains(r.stderr, noHours) || r.stdout != "" {
				t.Errorf("%s hour segment without hourly data: exit %d, stdout %q, stderr %s", args[0], r.code, r.stdout, r.stderr)
			}
		}
	})
}

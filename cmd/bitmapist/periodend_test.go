package main

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestToLabelIsWholePeriod: a period label given as --to means the whole
// labelled period (cohort.PeriodEnd), for every report and label kind: a
// week's days run to its Sunday, a year's months to December, a day's
// hours to 23; a full timestamp stays that instant. Before, --to 2016-W18
// with --group days showed only 2016-05-02.
func TestToLabelIsWholePeriod(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "--hourly", "--at", "2016-05-03T10:00:00Z", "a", "1"))
		mustOK(t, cli(t, b, "", "mark", "--hourly", "--at", "2016-05-03T10:00:00Z", "b", "1"))
		for _, tc := range []struct {
			group, from, to string
			n               int    // periods in the range
			last            string // the last one's label
		}{
			{"days", "2016-W18", "2016-W18", 7, "2016-05-08"},
			{"days", "2016-05-30", "2016-05", 2, "2016-05-31"},
			{"months", "2016", "2016", 12, "2016-12"},
			{"weeks", "2016-05-01", "2016-05", 6, "2016-W22"},
			{"hours", "2016-05-03", "2016-05-03", 24, "2016-05-03 23:00"},
			{"hours", "2016-05-03T08", "2016-05-03T10", 3, "2016-05-03 10:00"},
			{"days", "2016-05-01", "2016-05-03T10:30", 3, "2016-05-03"}, // a timestamp: that instant
			{"hours", "2016-05-03T08", "2016-05-03T10:30", 3, "2016-05-03 10:00"},
			{"days", "2016-05-01", "2016-05-03T00:00:00Z", 3, "2016-05-03"},
		} {
			for _, report := range [][]string{{"trend", "a"}, {"lifecycle", "a"}, {"stickiness", "a"}, {"funnel", "a", "b"}} {
				if tc.group == "hours" && report[0] == "lifecycle" {
					continue // lifecycle takes no hours
				}
				args := append(append([]string(nil), report...), "--group", tc.group, "--from", tc.from, "--to", tc.to, "--json")
				var out struct {
					Periods []struct{ Label string } `json:"periods"`
					Rows    []struct{ Label string } `json:"rows"`
					Buckets []struct{ Periods int }  `json:"buckets"`
				}
				decode(t, cli(t, b, "", args...), &out)
				var labels []string
				for _, p := range append(out.Periods, out.Rows...) {
					labels = append(labels, p.Label)
				}
				name := strings.Join(args, " ")
				switch report[0] {
				case "stickiness":
					if len(out.Buckets) != tc.n {
						t.Errorf("%s: %d buckets, want %d", name, len(out.Buckets), tc.n)
					}
				default:
					if len(labels) != tc.n || labels[len(labels)-1] != tc.last {
						t.Errorf("%s: periods %v, want %d ending %s", name, labels, tc.n, tc.last)
					}
				}
			}
		}
		// The --from after --to check reads the whole period too.
		r := cli(t, b, "", "trend", "a", "--group", "days", "--from", "2016-05-08", "--to", "2016-W18")
		if r.code != exitOK {
			t.Errorf("--from 2016-05-08 --to 2016-W18 (its Sunday): exit %d: %s", r.code, r.stderr)
		}
		r = cli(t, b, "", "trend", "a", "--group", "days", "--from", "2016-05-09", "--to", "2016-W18")
		if want := "--from 2016-05-09 is after --to 2016-05-08"; r.code != exitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("--from after the week: exit %d, stderr %q, want %q", r.code, r.stderr, want)
		}
	})
}

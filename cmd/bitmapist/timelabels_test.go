package main

import (
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestTimeFlagsTakePeriodLabels: --at, --start, --now, --from and --to take
// the period labels the tables print (an ISO week 2016-W17, its Monday; an
// hour 2016-04-27T10), so a row label can be given back; a week the year
// lacks says so, and a label of another shape stays a format error.
func TestTimeFlagsTakePeriodLabels(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, loc)
	for s, want := range map[string]time.Time{
		"2016-W17":      time.Date(2016, 4, 25, 0, 0, 0, 0, loc),
		"2020-W53":      time.Date(2020, 12, 28, 0, 0, 0, 0, loc),
		"2016-04-27T10": time.Date(2016, 4, 27, 10, 0, 0, 0, loc),
	} {
		if got, err := parseTime(s, loc, now); err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	b := testutil.Miniredis(t)
	for _, id := range []string{"1", "2"} {
		mustOK(t, cli(t, b, "", "mark", "--at", "2016-04-27", "e", id))
	}
	for _, tc := range []struct {
		args []string
		want expect
	}{
		{[]string{"count", "--group", "weeks", "--at", "2016-W17", "e"}, expect{code: exitOK, stdout: []string{"2\n"}}},
		{[]string{"cohort", "e", "e", "--group", "weeks", "--start", "2016-W17", "--now", "2016-W18", "--rows", "1"}, expect{code: exitOK, stdout: []string{"2016-W17      2"}}},
		{[]string{"trend", "e", "--group", "weeks", "--from", "2016-W17", "--to", "2016-W17"}, expect{code: exitOK, stdout: []string{"2 users in the range"}}},
		{[]string{"count", "--group", "weeks", "--at", "2016-W53", "e"}, expect{code: exitUsage, stderr: []string{`--at: time "2016-W53" is not a valid week (2016 has ISO weeks W01..W52)`}}},
		{[]string{"count", "--at", "2016-W1x", "e"}, expect{code: exitUsage, stderr: []string{`--at: time "2016-W1x": want now, RFC 3339`}}},
	} {
		tc.want.check(t, tc.args, cli(t, b, "", tc.args...))
	}
}

package main

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestYearOneLabels: year 1 works to its first day. A period label whose
// first instant is Go's zero time (0001-01-01, 0001-01, 0001-W01, 0001 in
// UTC) is that period (cohort.NonZeroStart) for --at, --from, --to and
// --now; --tz Pacific/Kiritimati's 0001-01 is checked in --tz before
// connecting (it was refused as the zero time in UTC); the explicit
// timestamp stays refused, saying what to type instead.
func TestYearOneLabels(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "--at", "0001-01-01", "zz", "1"))
		mustOK(t, cli(t, b, "", "mark", "--at", "0001-01-02T05:00", "zz", "2"))
		mustOK(t, cli(t, b, "", "--tz", "Pacific/Kiritimati", "mark", "--at", "0001-01-01T05:00", "kk", "7"))
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"ids", "--group", "days", "--at", "0001-01-01", "zz"}, "1\n"},
			{[]string{"ids", "--group", "weeks", "--at", "0001-W01", "zz"}, "1\n2\n"},
			{[]string{"ids", "--group", "months", "--at", "0001-01", "zz"}, "1\n2\n"},
			{[]string{"count", "--group", "years", "--at", "0001", "zz"}, "2"},
			{[]string{"--tz", "Pacific/Kiritimati", "ids", "--group", "months", "--at", "0001-01", "kk"}, "7\n"},
			{[]string{"--tz", "Pacific/Kiritimati", "count", "--group", "days", "--at", "0001-01-01", "kk"}, "1"},
			{[]string{"trend", "zz", "--group", "days", "--from", "0001-01-01", "--to", "0001-01-02", "--csv"}, "\n0001-01-01,0001-01-01T00:00:00Z,1,"},
			{[]string{"trend", "zz", "--group", "days", "--from", "0001-01-01", "--to", "0001-01-02", "--csv"}, "\n0001-01-02,0001-01-02T00:00:00Z,1,"},
			{[]string{"stickiness", "zz", "--group", "days", "--from", "0001-01-01", "--to", "0001-W01", "--csv"}, "periods,users\n1,2\n"},
			{[]string{"cohort", "zz", "zz", "--group", "days", "--start", "0001-01-01", "--now", "0001-01-02", "--csv"}, "0001-01-01,1,1"},
		} {
			r := mustOK(t, cli(t, b, "", tc.args...))
			if !strings.Contains(r.stdout, tc.want) {
				t.Errorf("%q: stdout %q, want %q", tc.args, r.stdout, tc.want)
			}
		}
		r := cli(t, b, "", "trend", "zz", "--from", "0001-01-01T00:00:00Z")
		if r.code != exitUsage || !strings.Contains(r.stderr, "cannot be used") || !strings.Contains(r.stderr, "give a label for its period (0001-01-01, 0001-01, 0001)") {
			t.Errorf("the zero instant itself: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

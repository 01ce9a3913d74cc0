package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// sampleTimes holds one time of 2024-01-02 10:00 UTC in each detectable
// format.
var sampleTimes = map[string]string{
	"rfc3339":                   "2024-01-02T10:00:00Z",
	"2006-01-02T15:04:05":       "2024-01-02T10:00:00",
	"2006-01-02 15:04:05Z07:00": "2024-01-02 10:00:00+00:00",
	"2006-01-02 15:04:05":       "2024-01-02 10:00:00",
	"2006-01-02T15:04":          "2024-01-02T10:00",
	"2006-01-02 15:04":          "2024-01-02 10:00",
	"2006-01-02":                "2024-01-02",
	"unix":                      "1704189600",
	"unixms":                    "1704189600000",
}

// TestImportMixedTimeFormats: with one row per format, in either order, the
// first row's format is chosen (never the last row's) and the summary says
// the formats are mixed; the other row is rejected naming the format.
func TestImportMixedTimeFormats(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, f1 := range detectableFormats {
		for _, f2 := range detectableFormats {
			if f1 == f2 || formatMatches(f1, sampleTimes[f2]) || formatMatches(f2, sampleTimes[f1]) {
				continue // one sample reads in both formats: not a tie
			}
			csv := fmt.Sprintf("user,time\n1,%s\n2,%s\n", sampleTimes[f1], sampleTimes[f2])
			r := cli(t, b, csv, "import", "--user-col", "user", "--time-col", "time", "--event", "e", "-")
			want := fmt.Sprintf("format:   %s (detected from the first rows; mixed formats: it reads only 1 of the first 2 rows' times", f1)
			if r.code != exitRejects || !strings.Contains(r.stdout, want) ||
				!strings.Contains(r.stdout, fmt.Sprintf("line 3: bad time: %q does not match %s", sampleTimes[f2], f1)) {
				t.Errorf("%s then %s: exit %d, stdout %q; want exit %d, %q and line 3 rejected", f1, f2, r.code, r.stdout, exitRejects, want)
			}
		}
	}
}

// TestImportInvalidDates: a time of the right shape naming a day, month or
// hour that does not exist is "not a valid date", with and without
// --time-format, in every layout kind.
func TestImportInvalidDates(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, tc := range []struct{ good, bad, format, why string }{
		{"2024-01-02", "2024-02-30", "", "day out of range"},
		{"2024-01-02", "2024-13-01", "", "month out of range"},
		{"2024-01-02 10:00:00", "2024-01-02 25:00:00", "", "hour out of range"},
		{"2024-01-02T10:00:00Z", "2024-02-30T10:00:00Z", "", "day out of range"},
		{"2024-01-02", "2024-02-30", "2006-01-02", "day out of range"},
		{"02/01/2024", "30/02/2024", "02/01/2006", "day out of range"},
		{"2024-01-02T10:00:00Z", "2024-02-30T10:00:00Z", "rfc3339", "day out of range"},
	} {
		args := []string{"import", "--user-col", "user", "--time-col", "time", "--event", "e"}
		if tc.format != "" {
			args = append(args, "--time-format", tc.format)
		}
		csv := fmt.Sprintf("user,time\n1,%s\n2,%s\n", tc.good, tc.bad)
		r := cli(t, b, csv, append(args, "-")...)
		want := fmt.Sprintf("line 3: bad time: %q is not a valid date (%s)", tc.bad, tc.why)
		if r.code != exitRejects || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "does not match") {
			t.Errorf("%q (format %q): exit %d, stdout %q; want %q", tc.bad, tc.format, r.code, r.stdout, want)
		}
	}
}

// TestImportDelimiterHint: a file separated by another character than
// --delimiter gets a hint naming the right flag, for each common one.
func TestImportDelimiterHint(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, d := range []struct{ char, name, flag string }{{";", "semicolon", ";"}, {"\t", "tab", `\t`}, {"|", "pipe", "|"}} {
		csv := "user" + d.char + "time\n1" + d.char + "2024-01-02\n"
		r := cli(t, b, csv, "import", "--user-col", "user", "--time-col", "time", "--event", "e", "-")
		want := fmt.Sprintf("if the file is %s-separated, give --delimiter '%s'", d.name, d.flag)
		if r.code != exitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", d.name, r.code, r.stderr, exitUsage, want)
		}
		// With the hinted flag the file imports.
		mustOK(t, cli(t, b, csv, "import", "--user-col", "user", "--time-col", "time", "--event", "e", "--delimiter", d.flag, "-"))
	}
	// A comma file with a missing column gets no delimiter hint.
	r := cli(t, b, "uid,time\n1,2024-01-02\n", "import", "--user-col", "user", "--time-col", "time", "--event", "e", "-")
	if r.code != exitUsage || strings.Contains(r.stderr, "--delimiter") {
		t.Errorf("comma file: exit %d, stderr %q; want a usage error without a delimiter hint", r.code, r.stderr)
	}
}

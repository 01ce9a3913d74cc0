package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestImportYearBeyondLayouts: a time whose year Go's layouts cannot hold
// (five digits or more, or signed) is a rejected row saying its year is
// outside the supported range, with its line, in every time format,
// detected or given, and it does not make the detection report mixed
// formats. Before, 10000-01-01 was "does not match 2006-01-02 (the format
// of the first rows ...)" with "mixed formats" in the summary.
func TestImportYearBeyondLayouts(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, tc := range []struct {
		format    string // --time-format; "" detects
		good, bad string
		year      string
	}{
		{"", "2024-01-01", "10000-01-01", "10000"},
		{"", "2024-01-01T10:00:00Z", "10000-01-01T10:00:00Z", "10000"},
		{"", "2024-01-01 10:00:00", "123456-01-01 10:00:00", "123456"},
		{"", "2024-01-01T10:00", "10000-12-31T23:59", "10000"},
		{"2006-01-02", "2024-01-01", "-0044-03-15", "-0044"},
		{"rfc3339", "2024-01-01T10:00:00+02:00", "10000-01-01T10:00:00+02:00", "10000"},
		{"02/01/2006", "05/03/2024", "05/03/10000", "10000"},
	} {
		for _, badFirst := range []bool{true, false} {
			rows := []string{tc.good, tc.bad, tc.good}
			line := 3
			if badFirst {
				rows, line = []string{tc.bad, tc.good}, 2
			}
			csv := "u;t\n"
			for i, r := range rows {
				csv += fmt.Sprintf("%d;%s\n", i, r)
			}
			args := []string{"import", "--user-col", "u", "--time-col", "t", "--event", "e", "--delimiter", ";", "-"}
			if tc.format != "" {
				args = append(args, "--time-format", tc.format)
			}
			r := cli(t, b, csv, args...)
			want := fmt.Sprintf("line %d: bad time: %q: year %s is outside 1..9999, the supported range", line, tc.bad, tc.year)
			if r.code != exitRejects || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "mixed formats") || strings.Contains(r.stdout, "does not match") {
				t.Errorf("%q (--time-format %q): exit %d, want %d and %q without mixed formats:\n%s%s", rows, tc.format, r.code, exitRejects, want, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, fmt.Sprintf("%d read, %d marked, 1 rejected", len(rows), len(rows)-1)) {
				t.Errorf("%q: counts wrong:\n%s", rows, r.stdout)
			}
		}
	}
}

// TestTimeFlagsYearBeyondLayouts: --now, --at, --from, --to and --start
// given a year Go's layouts cannot hold say it is outside the supported
// range (exit 2), as they do for the year 0, instead of listing the forms
// they take; the error wraps bitmapist.ErrInvalidTime.
func TestTimeFlagsYearBeyondLayouts(t *testing.T) {
	b := testutil.Miniredis(t)
	mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "e", "1"))
	for _, v := range []struct{ in, year string }{
		{"10000-01-01", "10000"}, {"10000-01-01T00:00:00Z", "10000"}, {"10000-01-01 05:10", "10000"},
		{"123456-01", "123456"}, {"10000", "10000"}, {"-0044-03-15", "-0044"},
	} {
		if _, err := parseTime(v.in, time.UTC, time.Now()); !errors.Is(err, bitmapist.ErrInvalidTime) {
			t.Errorf("parseTime(%q) = %v, want ErrInvalidTime", v.in, err)
		}
		for _, args := range [][]string{
			{"cohort", "e", "--now", v.in}, {"cohort", "e", "--start", v.in}, {"count", "e", "--at", v.in},
			{"mark", "--at", v.in, "e", "2"}, {"trend", "e", "--from", v.in}, {"lifecycle", "e", "--to", v.in},
		} {
			r := cli(t, b, "", args...)
			want := fmt.Sprintf("time %q: year %s is outside 1..9999, the supported range", v.in, v.year)
			if r.code != exitUsage || !strings.Contains(r.stderr, want) {
				t.Errorf("%q: exit %d, stderr %q; want %d and %q", args, r.code, r.stderr, exitUsage, want)
			}
		}
	}
	// Other wrong times keep their own message.
	for _, s := range []string{"2024-13-01", "soon", "2024-01-01Tx", "1-1-1"} {
		if _, err := parseTime(s, time.UTC, time.Now()); err == nil || errors.Is(err, bitmapist.ErrInvalidTime) {
			t.Errorf("parseTime(%q) = %v, want another error", s, err)
		}
	}
}

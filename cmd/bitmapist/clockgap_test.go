package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// zonelessParsers are the three readers of a time typed without a zone:
// the command's flags (--now, --start, --from, --to, --at), the
// dashboard's parameters (cohort.ParseTime) and import's time column in
// a given --time-format.
func zonelessParsers(t *testing.T, loc *time.Location, layout string) map[string]func(string) (time.Time, error) {
	imp, err := timeParser(layout, loc)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]func(string) (time.Time, error){
		"flag":      func(s string) (time.Time, error) { return parseTime(s, loc, time.Time{}) },
		"dashboard": func(s string) (time.Time, error) { return cohort.ParseTime(s, loc) },
		"import":    imp,
	}
}

// TestZonelessTimesInClockGaps reads, in every zone and year of
// testutil.GapZones, every quarter hour of each day with a clock change
// (and every day of the year as a bare date) through the command's flags,
// the dashboard's parameters and import, and compares with the scan: a
// skipped time is an error naming the gap (errors.Is ErrSkippedTime), a
// time that occurs its first instant, a date its day's first real instant
// (01:00 in Sao Paulo on the days its midnight was skipped), a day the
// zone skipped entirely an error.
func TestZonelessTimesInClockGaps(t *testing.T) {
	for _, gz := range testutil.GapZones {
		loc := gz.Location(t)
		for _, year := range gz.Years {
			t.Run(fmt.Sprintf("%s/%d", gz.Zone, year), func(t *testing.T) {
				w := testutil.ScanWall(loc, year)
				gapDays := map[time.Time]bool{}
				for _, f := range w.Skipped {
					gapDays[f.Truncate(24*time.Hour)] = true
				}
				if len(gapDays) == 0 {
					t.Fatal("no gap in the year")
				}
				for day := range gapDays {
					for f := day; f.Before(day.Add(24 * time.Hour)); f = f.Add(15 * time.Minute) {
						want, ok := w.First[f]
						for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
							checkZoneless(t, loc, layout, f.Format(layout), want, ok)
						}
						checkZoneless(t, loc, "2006-01-02 15:04:05", f.Format("2006-01-02 15:04:05"), want, ok)
					}
				}
				end := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC)
				for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Before(end); d = d.Add(24 * time.Hour) {
					want, ok := w.Day[d]
					checkZoneless(t, loc, "2006-01-02", d.Format("2006-01-02"), want, ok)
				}
			})
		}
	}
}

// checkZoneless checks value (in layout) through every zone-less reader
// that takes layout: want when ok, else a skipped-time error.
func checkZoneless(t *testing.T, loc *time.Location, layout, value string, want time.Time, ok bool) {
	t.Helper()
	for name, parse := range zonelessParsers(t, loc, layout) {
		if name == "dashboard" && strings.Contains(layout, " ") {
			continue // the dashboard's forms have a T
		}
		got, err := parse(value)
		switch {
		case ok && (err != nil || !got.Equal(want)):
			t.Errorf("%s %q: %v, %v; want %v", name, value, got, err, want)
		case !ok && (!errors.Is(err, bitmapist.ErrSkippedTime) || !strings.Contains(err.Error(), `"`+value+`" does not exist in `+loc.String()+": the clocks jumped from ")):
			t.Errorf("%s %q: %v, %v; want an error naming the gap", name, value, got, err)
		}
	}
}

// TestHourLabelsInClockGaps: an hour label (2024-03-31T02, as the tables
// print hours) of an hour the clocks skipped is an error naming the gap
// for --now and the dashboard; an hour that exists starts at its first
// real instant (Lord Howe's 02:00 hour on 2024-10-06 at 02:30).
func TestHourLabelsInClockGaps(t *testing.T) {
	for _, gz := range testutil.GapZones {
		loc := gz.Location(t)
		w := testutil.ScanWall(loc, gz.Years[0])
		for _, f := range w.Skipped {
			h := f.Truncate(time.Hour)
			want, ok := w.Hour[h]
			label := h.Format("2006-01-02T15")
			for name, got := range map[string]func() (time.Time, error){
				"flag":      func() (time.Time, error) { return parseTime(label, loc, time.Time{}) },
				"dashboard": func() (time.Time, error) { return cohort.ParseTime(label, loc) },
			} {
				tm, err := got()
				if ok && (err != nil || !tm.Equal(want)) || !ok && !errors.Is(err, bitmapist.ErrSkippedTime) {
					t.Errorf("%s: %s %s = %v, %v; want %v (exists %v)", gz.Zone, name, label, tm, err, want, ok)
				}
			}
		}
	}
}

// TestImportRejectsSkippedTimes imports, in each zone of
// testutil.GapZones, a row at a time its clocks skipped between two rows
// at real times: the skipped row is rejected with its line, reason "bad
// time" and the gap named, in the summary and the --rejects file; the
// others are marked in their own hour keys, nothing in a shifted one.
func TestImportRejectsSkippedTimes(t *testing.T) {
	b := testutil.Miniredis(t)
	for i, gz := range testutil.GapZones {
		loc := gz.Location(t)
		w := testutil.ScanWall(loc, gz.Years[0])
		gap := w.Skipped[0]
		before, after := gap.Add(-24*time.Hour), gap.Add(24*time.Hour)
		f := "2006-01-02 15:04:05"
		in := "user,at\n1," + before.Format(f) + "\n2," + gap.Format(f) + "\n3," + after.Format(f) + "\n"
		ev := fmt.Sprintf("gap%d", i)
		out := filepath.Join(t.TempDir(), "rejects.csv")
		r := cli(t, b, in, "--tz", gz.Zone, "import", "--hourly", "--user-col", "user", "--time-col", "at", "--event", ev, "--rejects", out, "-")
		if r.code != exitRejects || !strings.Contains(r.stdout, "line 3: bad time: \""+gap.Format(f)+"\" does not exist in "+gz.Zone) {
			t.Errorf("%s: exit %d, stdout %s, stderr %s; want line 3 rejected naming the gap", gz.Zone, r.code, r.stdout, r.stderr)
		}
		fh, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil || len(recs) != 2 || recs[1][0] != "3" || recs[1][2] != "bad time" || !strings.Contains(recs[1][3], "the first time after the gap is") {
			t.Errorf("%s: rejects %q, %v; want line 3 only", gz.Zone, recs, err)
		}
		keys := testutil.Keys(t, b.Client, b.Prefix+ev+"_")
		var hours []string
		for _, k := range keys {
			if strings.Count(k[len(b.Prefix+ev+"_"):], "-") == 3 {
				hours = append(hours, k[len(b.Prefix+ev+"_"):])
			}
		}
		want := []string{hourSuffix(w.First[before]), hourSuffix(w.First[after])}
		if len(hours) != 2 || !(hours[0] == want[0] && hours[1] == want[1] || hours[0] == want[1] && hours[1] == want[0]) {
			t.Errorf("%s: hour keys %q, want %q (the rejected row in none)", gz.Zone, hours, want)
		}
	}
}

// hourSuffix is t's hour key suffix, as Python bitmapist writes it.
func hourSuffix(t time.Time) string {
	return fmt.Sprintf("%d-%d-%d-%d", t.Year(), t.Month(), t.Day(), t.Hour())
}

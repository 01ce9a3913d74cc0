package bitmapist_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestWallTimeBruteForce reads every wall-clock quarter hour of whole
// years in zones whose clocks skip (an hour, 30 minutes, midnight, a
// whole day) with WallTime, and every hour and day with WallStart, and
// compares them with the scan: a reading that occurs is its first
// instant, one that never occurs is a *SkippedTimeError whose Change is
// the first real time after the gap, never a shifted instant.
func TestWallTimeBruteForce(t *testing.T) {
	for _, gz := range testutil.GapZones {
		loc := gz.Location(t)
		for _, year := range gz.Years {
			t.Run(fmt.Sprintf("%s/%d", gz.Zone, year), func(t *testing.T) {
				w := testutil.ScanWall(loc, year)
				gaps := 0
				end := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC)
				for f := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); f.Before(end); f = f.Add(15 * time.Minute) {
					gaps += checkWall(t, loc, f, f, w.First, func(f time.Time) (time.Time, error) { return bitmapist.WallTime(f, loc) })
					if f.Minute() == 0 {
						checkWall(t, loc, f.Add(17*time.Minute), f, w.Hour, func(f time.Time) (time.Time, error) { return bitmapist.WallStart(bitmapist.Hours, f, loc) })
					}
					if f.Hour() == 0 && f.Minute() == 0 {
						checkWall(t, loc, f.Add(13*time.Hour), f, w.Day, func(f time.Time) (time.Time, error) { return bitmapist.WallStart(bitmapist.Days, f, loc) })
					}
				}
				if gaps == 0 {
					t.Errorf("no skipped wall-clock time found in %d: the table should name a year with a gap", year)
				}
			})
		}
	}
}

// checkWall checks resolve(f) against truth[key] (key: f's reading,
// hour or day) and returns 1 when key never occurs in loc.
func checkWall(t *testing.T, loc *time.Location, f, key time.Time, truth map[time.Time]time.Time, resolve func(time.Time) (time.Time, error)) int {
	t.Helper()
	got, err := resolve(f)
	want, ok := truth[key]
	if ok {
		if err != nil || !got.Equal(want) || got.Location() != loc {
			t.Errorf("%s: got %v, %v; want %v", f.Format("2006-01-02 15:04"), got, err, want)
		}
		return 0
	}
	var se *bitmapist.SkippedTimeError
	if !errors.As(err, &se) || !errors.Is(err, bitmapist.ErrSkippedTime) || !got.IsZero() {
		t.Errorf("%s never occurs in %s: got %v, %v; want a *SkippedTimeError", f.Format("2006-01-02 15:04"), loc, got, err)
		return 1
	}
	// The change is the first real instant after the gap: its reading
	// occurs, a second earlier reads before key.
	after := se.Change.In(loc)
	before := se.Change.Add(-time.Second).In(loc)
	bw := time.Date(before.Year(), before.Month(), before.Day(), before.Hour(), before.Minute(), before.Second(), 0, time.UTC)
	if aw := time.Date(after.Year(), after.Month(), after.Day(), after.Hour(), after.Minute(), 0, 0, time.UTC); !aw.After(key) || !bw.Before(key) || !se.Wall.Equal(f) {
		t.Errorf("%s: gap %v .. %v does not hold it (Wall %v)", f.Format("2006-01-02 15:04"), before, after, se.Wall)
	}
	return 1
}

// TestSkippedTimeErrorNamesTheGap checks the message of each kind of gap:
// an hour, 30 minutes, a midnight, a whole day.
func TestSkippedTimeErrorNamesTheGap(t *testing.T) {
	for _, c := range []struct {
		zone string
		g    bitmapist.TimeGroup // -1: WallTime
		wall time.Time
		want string
	}{
		{"Europe/Berlin", -1, time.Date(2024, 3, 31, 2, 30, 0, 0, time.UTC), `"2024-03-31 02:30:00" does not exist in Europe/Berlin: the clocks jumped from 2024-03-31 02:00 (CET) to 03:00 (CEST); the first time after the gap is 2024-03-31T03:00:00+02:00`},
		{"Australia/Lord_Howe", -1, time.Date(2024, 10, 6, 2, 15, 0, 0, time.UTC), `"2024-10-06 02:15:00" does not exist in Australia/Lord_Howe: the clocks jumped from 2024-10-06 02:00 (+1030) to 02:30 (+11); the first time after the gap is 2024-10-06T02:30:00+11:00`},
		{"America/Sao_Paulo", -1, time.Date(2018, 11, 4, 0, 0, 0, 0, time.UTC), `"2018-11-04 00:00:00" does not exist in America/Sao_Paulo: the clocks jumped from 2018-11-04 00:00 (-03) to 01:00 (-02); the first time after the gap is 2018-11-04T01:00:00-02:00`},
		{"Pacific/Apia", bitmapist.Days, time.Date(2011, 12, 30, 0, 0, 0, 0, time.UTC), `"2011-12-30 00:00:00" does not exist in Pacific/Apia: the clocks jumped from 2011-12-30 00:00 (-10) to 2011-12-31 00:00 (+14); the first time after the gap is 2011-12-31T00:00:00+14:00`},
	} {
		loc, _ := time.LoadLocation(c.zone)
		var err error
		if c.g < 0 {
			_, err = bitmapist.WallTime(c.wall, loc)
		} else {
			_, err = bitmapist.WallStart(c.g, c.wall, loc)
		}
		if err == nil || err.Error() != c.want {
			t.Errorf("%s %v:\n got %v\nwant %s", c.zone, c.wall, err, c.want)
		}
	}
	// A day whose midnight was skipped exists: it starts at 01:00.
	loc, _ := time.LoadLocation("America/Sao_Paulo")
	if got, err := bitmapist.WallStart(bitmapist.Days, time.Date(2018, 11, 4, 0, 0, 0, 0, time.UTC), loc); err != nil || got.Format(time.RFC3339) != "2018-11-04T01:00:00-02:00" {
		t.Errorf("WallStart(days, 2018-11-04) in Sao Paulo = %v, %v; want 01:00 -02", got, err)
	}
	if got, err := bitmapist.WallStart(bitmapist.Months, time.Date(2018, 11, 20, 0, 0, 0, 0, time.UTC), loc); err != nil || got.Format(time.RFC3339) != "2018-11-01T00:00:00-03:00" {
		t.Errorf("WallStart(months, 2018-11-20) = %v, %v", got, err)
	}
}

// TestWeekStartEveryDay checks Weeks.Start and Weeks.Add of noon of every
// day 1960..2030 (before and after 1970, the day numbers' origin) in the
// gap zones: the Monday of the day's ISO week, at its first real instant.
func TestWeekStartEveryDay(t *testing.T) {
	for _, gz := range testutil.GapZones {
		loc := gz.Location(t)
		for d := time.Date(1960, 1, 1, 12, 0, 0, 0, loc); d.Year() < 2030; d = d.AddDate(0, 0, 1) {
			mon := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
			want, err := bitmapist.WallStart(bitmapist.Days, time.Date(mon.Year(), mon.Month(), mon.Day(), 0, 0, 0, 0, time.UTC), loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := bitmapist.Weeks.Start(d); !got.Equal(want) {
				t.Fatalf("%s: Weeks.Start(%v) = %v, want %v", gz.Zone, d, got, want)
			}
			if got := bitmapist.Weeks.Add(d, -1); !got.Equal(bitmapist.Weeks.Start(want.AddDate(0, 0, -4))) {
				t.Fatalf("%s: Weeks.Add(%v, -1) = %v", gz.Zone, d, got)
			}
		}
	}
}

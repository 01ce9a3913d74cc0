package cohort

import (
	"errors"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// WallParser returns a parser of values written in layout that reads a
// value without a zone as a wall clock of loc, with loc's clock changes
// handled as the periods handle them (the command's flags, the
// dashboard's parameters and import's times all read so):
//
//   - a layout with a clock (2006-01-02 15:04): bitmapist.WallTime — a
//     time the clocks repeat is its first occurrence, a time they skip
//     (02:30 in Europe/Berlin on 2024-03-31) an error wrapping a
//     *bitmapist.SkippedTimeError that names the gap, never time.Date's
//     silent shift into another hour;
//   - a layout of a date, a month or a year (2006-01-02, 2006-01, 2006):
//     the first real instant of that day, month or year
//     (bitmapist.WallStart: 2018-11-04 in America/Sao_Paulo, whose
//     midnight was skipped, is 01:00 -02); a day the zone skipped
//     entirely (Pacific/Apia's 2011-12-30) is a *SkippedTimeError.
//
// A layout with a zone (an MST, -07 or Z07 element) parses as
// time.ParseInLocation does. A value that does not match returns
// time.ParseInLocation's error (see BadDate). A nil loc is UTC.
func WallParser(layout string, loc *time.Location) func(string) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if layoutZoned(layout) {
		return func(s string) (time.Time, error) { return time.ParseInLocation(layout, s, loc) }
	}
	g, exact := layoutGroup(layout)
	return func(s string) (time.Time, error) {
		f, err := time.ParseInLocation(layout, s, time.UTC)
		if err != nil {
			return time.Time{}, err
		}
		var t time.Time
		if exact {
			t, err = bitmapist.WallTime(f, loc)
		} else {
			t, err = bitmapist.WallStart(g, f, loc)
		}
		if se := (*bitmapist.SkippedTimeError)(nil); errors.As(err, &se) {
			se.Value = s
		}
		return t, err
	}
}

// ParseInLocation is WallParser(layout, loc) applied to s.
func ParseInLocation(layout, s string, loc *time.Location) (time.Time, error) {
	return WallParser(layout, loc)(s)
}

// wallProbe is the instant layouts are probed with: every field differs
// from its zero value.
var wallProbe = time.Date(2024, 12, 30, 5, 10, 7, 0, time.UTC)

// layoutZoned reports whether layout writes a zone or offset: the probe,
// written at +01:00 and read back at +02:00, is then the same instant.
func layoutZoned(layout string) bool {
	s := wallProbe.In(time.FixedZone("", 3600)).Format(layout)
	t, err := time.ParseInLocation(layout, s, time.FixedZone("", 7200))
	return err == nil && t.Equal(wallProbe)
}

// layoutGroup returns the precision of a layout without a zone: exact
// when it has a clock, else the period its date names (Days, Months or
// Years).
func layoutGroup(layout string) (bitmapist.TimeGroup, bool) {
	t, err := time.Parse(layout, wallProbe.Format(layout))
	switch {
	case err != nil || t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0:
		return bitmapist.Hours, true
	case t.Day() != 1:
		return bitmapist.Days, false
	case t.Month() != time.January:
		return bitmapist.Months, false
	}
	return bitmapist.Years, false
}

package bitmapist

import (
	"errors"
	"fmt"
	"time"
)

// ErrSkippedTime is wrapped by the error of WallTime and WallStart for a
// wall-clock time, hour or day that a zone's clocks jumped over (the
// hour a zone skips when it turns its clocks forward, the midnight
// America/Sao_Paulo skipped, the day 2011-12-30 Pacific/Apia skipped). The
// error is a *SkippedTimeError, which names the gap.
var ErrSkippedTime = errors.New("bitmapist: time skipped by the clocks")

// SkippedTimeError is the error for a wall-clock time (or an hour or day)
// that never occurred in a zone: its clocks jumped over it. errors.Is(err,
// ErrSkippedTime) holds.
type SkippedTimeError struct {
	Value  string         // the time as written, quoted in the message ("" gives Wall, formatted)
	Wall   time.Time      // the wall clock asked for: its fields, in UTC
	Loc    *time.Location // the zone
	Change time.Time      // the instant the clocks jumped, in Loc: the first real time after the gap
	Before time.Time      // the instant before the change's second (Change - 1s), in Loc: the old offset's wall clock
}

// Error returns `"2024-03-31T02:30" does not exist in Europe/Berlin: the
// clocks jumped from 2024-03-31 02:00 (CET) to 03:00 (CEST); the first
// time after the gap is 2024-03-31T03:00:00+02:00`.
func (e *SkippedTimeError) Error() string {
	v := e.Value
	if v == "" {
		v = e.Wall.Format("2006-01-02 15:04:05")
	}
	oldName, oldOff := e.Before.Zone()
	newName, _ := e.Change.Zone()
	from := time.Unix(e.Change.Unix()+int64(oldOff), 0).UTC() // the old offset's reading at the change
	to := e.Change.Format("15:04")
	if y, m, d := e.Change.Date(); y != from.Year() || m != from.Month() || d != from.Day() {
		to = e.Change.Format("2006-01-02 15:04")
	}
	return `"` + v + `" does not exist in ` + e.Loc.String() + ": the clocks jumped from " +
		from.Format("2006-01-02 15:04") + " (" + oldName + ") to " + to + " (" + newName +
		"); the first time after the gap is " + e.Change.Format(time.RFC3339)
}

// Is reports whether target is ErrSkippedTime.
func (e *SkippedTimeError) Is(target error) bool { return target == ErrSkippedTime }

// WallTime returns the instant whose wall clock in loc reads wall's date
// and clock (wall's fields as written; its own location is ignored): the
// reading of a time typed without a zone. A time the clocks repeat (turned
// back) is its first occurrence, as a period starts at its first instant
// (time.Date picks either, depending on the zone). A time the clocks
// skipped returns a *SkippedTimeError naming the gap, never time.Date's
// silent shift into a neighbouring hour. A nil loc is UTC.
func WallTime(wall time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	w := wallFields(wall)
	t := firstAt(loc, w)
	if wallSecs(t) != w {
		return time.Time{}, skipped(wall, loc, t)
	}
	return t.Add(time.Duration(wall.Nanosecond())), nil
}

// WallStart returns the first real instant in loc of the period of group
// g whose wall clock holds wall's fields (wall's own location ignored):
// for a day label "2018-11-04" in America/Sao_Paulo, whose midnight the
// clocks skipped, 01:00 -02. An hour or day that no instant has (Berlin's
// 02:00 on 2024-03-31, Apia's 2011-12-30) returns a *SkippedTimeError;
// weeks, months and years always exist (they start at their first real
// instant). An invalid g wraps ErrInvalidTimeGroup. A nil loc is UTC.
func WallStart(g TimeGroup, wall time.Time, loc *time.Location) (time.Time, error) {
	if !g.Valid() {
		return time.Time{}, fmt.Errorf("%w: %d", ErrInvalidTimeGroup, int(g))
	}
	if loc == nil {
		loc = time.UTC
	}
	s := g.Start(time.Unix(wallFields(wall), 0).UTC()) // the period's wall-clock start
	t := firstAt(loc, s.Unix())
	if g <= Days {
		unit := int64(hourSecs)
		if g == Days {
			unit = daySecs
		}
		if !keyExists(loc, unit, floorDiv(s.Unix(), unit)) {
			return time.Time{}, skipped(wall, loc, t)
		}
	}
	return t, nil
}

// wallFields returns wall's date and clock fields read as UTC, in wall
// seconds (nanoseconds dropped).
func wallFields(wall time.Time) int64 {
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC).Unix()
}

// skipped returns the *SkippedTimeError of wall in loc; change is the
// first instant after the gap (firstAt's answer).
func skipped(wall time.Time, loc *time.Location, change time.Time) *SkippedTimeError {
	f := time.Unix(wallFields(wall), int64(wall.Nanosecond())).UTC()
	return &SkippedTimeError{Wall: f, Loc: loc, Change: change, Before: change.Add(-time.Second)}
}

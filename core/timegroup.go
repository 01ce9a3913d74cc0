package bitmapist

import (
	"fmt"
	"strings"
	"time"
)

// TimeGroup is the length of a period: an hour, a day, an ISO week, a
// calendar month or a calendar year. Its text form is flask-bitmapist's
// time_group ("hours", "days", "weeks", "months", "years").
type TimeGroup int

// The time groups, shortest first.
const (
	Hours TimeGroup = iota
	Days
	Weeks
	Months
	Years
)

var timeGroupNames = [...]string{"hours", "days", "weeks", "months", "years"}

// TimeGroups lists every valid time group, shortest first.
func TimeGroups() []TimeGroup { return []TimeGroup{Hours, Days, Weeks, Months, Years} }

// ParseTimeGroup parses "hours", "days", "weeks", "months" or "years", in
// either case and singular or plural ("day" works). Anything else returns
// an error wrapping ErrInvalidTimeGroup.
func ParseTimeGroup(s string) (TimeGroup, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for i, n := range timeGroupNames {
		if l == n || l == n[:len(n)-1] {
			return TimeGroup(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q (want hours, days, weeks, months or years)", ErrInvalidTimeGroup, s)
}

// Valid reports whether g is one of Hours..Years.
func (g TimeGroup) Valid() bool { return g >= Hours && g <= Years }

// String returns the plural lower-case name ("days"), or "TimeGroup(N)" for
// an invalid value.
func (g TimeGroup) String() string {
	if !g.Valid() {
		return fmt.Sprintf("TimeGroup(%d)", int(g))
	}
	return timeGroupNames[g]
}

// Unit returns the singular name ("day").
func (g TimeGroup) Unit() string {
	s := g.String()
	if g.Valid() {
		return s[:len(s)-1]
	}
	return s
}

// MarshalText returns String's text, so a TimeGroup encodes in JSON as
// "days".
func (g TimeGroup) MarshalText() ([]byte, error) {
	if !g.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrInvalidTimeGroup, int(g))
	}
	return []byte(g.String()), nil
}

// UnmarshalText parses text with ParseTimeGroup.
func (g *TimeGroup) UnmarshalText(text []byte) error {
	v, err := ParseTimeGroup(string(text))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// Start returns the start of the period of group g that contains t, in t's
// location: the hour (minutes cleared), the day (midnight), the ISO week
// (Monday midnight), the month (the 1st) or the year (January 1st).
// An invalid group returns t unchanged.
func (g TimeGroup) Start(t time.Time) time.Time {
	y, m, d := t.Date()
	loc := t.Location()
	switch g {
	case Hours:
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, loc)
	case Days:
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	case Weeks:
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		return time.Date(y, m, d-wd, 0, 0, 0, 0, loc)
	case Months:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	case Years:
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	}
	return t
}

// Add returns the start of the period n periods of group g after the one
// containing t (n may be negative). Months and years move on the calendar's
// year and month, never with AddDate from the 31st; hours move by real
// elapsed hours, so a DST day has 23 or 25 of them in a zone with DST.
func (g TimeGroup) Add(t time.Time, n int) time.Time {
	s := g.Start(t)
	y, m, d := s.Date()
	loc := s.Location()
	switch g {
	case Hours:
		return g.Start(s.Add(time.Duration(n) * time.Hour))
	case Days:
		return time.Date(y, m, d+n, 0, 0, 0, 0, loc)
	case Weeks:
		return time.Date(y, m, d+7*n, 0, 0, 0, 0, loc)
	case Months:
		return time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, loc)
	case Years:
		return time.Date(y+n, 1, 1, 0, 0, 0, 0, loc)
	}
	return t
}

// Label returns a short human label of the period of g containing t:
// "2024-12-30 05:00", "2024-12-30", "2025-W01" (ISO year and week),
// "2024-12" or "2024".
func (g TimeGroup) Label(t time.Time) string {
	switch g {
	case Hours:
		return t.Format("2006-01-02 15:00")
	case Days:
		return t.Format("2006-01-02")
	case Weeks:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Months:
		return t.Format("2006-01")
	case Years:
		return t.Format("2006")
	}
	return t.String()
}

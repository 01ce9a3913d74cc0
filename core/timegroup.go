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
// location: the first instant of t's wall-clock hour, day (midnight), ISO
// week (Monday midnight), month (the 1st) or year (January 1st). The
// period is the key's: an hour the zone repeats when it turns its clocks
// back (02:00..03:00 twice in Europe/Paris on 2024-10-27) is one period
// starting at its first instant (02:00 CEST), and a midnight the clocks
// skip starts its day at the instant of the change. Start(t) <= t always.
// An invalid group returns t unchanged.
func (g TimeGroup) Start(t time.Time) time.Time {
	loc := t.Location()
	w := wallSecs(t)
	switch g {
	case Hours:
		return keyStart(loc, hourSecs, floorDiv(w, hourSecs))
	case Days:
		return keyStart(loc, daySecs, floorDiv(w, daySecs))
	}
	y, m, _ := time.Unix(w, 0).UTC().Date() // t's wall date, without another zone search
	switch g {
	case Weeks:
		return keyStart(loc, daySecs, mondayOf(floorDiv(w, daySecs)))
	case Months:
		return wallDate(loc, y, m, 1)
	case Years:
		return wallDate(loc, y, 1, 1)
	}
	return t
}

// Add returns the start of the period n periods of group g after the one
// containing t (n may be negative). It is the one stepping function of
// every report: each distinct period key comes once. Hours move through
// the zone's wall-clock hours: an hour repeated when the clocks go back is
// one period (a DST day of Europe/Paris has 23 hour periods in spring, 24
// in autumn, one of them two real hours long; Australia/Lord_Howe's
// 30-minute change makes one hour period 30 or 90 minutes long), and an
// hour the clocks skip has no period. Days move on the calendar (a day a
// zone skipped entirely has no period), weeks by 7 days, months and years
// on the calendar's year and month, never with AddDate from the 31st.
func (g TimeGroup) Add(t time.Time, n int) time.Time {
	loc := t.Location()
	switch g {
	case Hours:
		return keyStart(loc, hourSecs, stepKeys(loc, hourSecs, floorDiv(wallSecs(t), hourSecs), n))
	case Days:
		return keyStart(loc, daySecs, stepKeys(loc, daySecs, floorDiv(wallSecs(t), daySecs), n))
	}
	if !g.Valid() {
		return t
	}
	// t's own wall date, not Start's: one zone search less.
	w := wallSecs(t)
	y, m, _ := time.Unix(w, 0).UTC().Date()
	switch g {
	case Weeks:
		return keyStart(loc, daySecs, mondayOf(floorDiv(w, daySecs))+7*int64(n))
	case Months:
		return wallDate(loc, y, m+time.Month(n), 1)
	}
	return wallDate(loc, y+n, 1, 1)
}

// mondayOf returns the day number (days since 1970-01-01, a Thursday)
// of the Monday of day k's ISO week.
func mondayOf(k int64) int64 { return k - (k + 3 - floorDiv(k+3, 7)*7) }

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

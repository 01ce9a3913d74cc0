package cohort

import (
	"strings"
	"time"
)

// PeriodEnd is the rule for a date given as the END of a range (the
// reports' to and --to): a period label means the whole labelled period,
// so PeriodEnd returns its last instant in loc (the nanosecond before the
// next period starts): "2016" is 2016-12-31 23:59:59.999999999, "2016-05"
// May 31st's, "2016-W18" Sunday 2016-05-08's, "2016-05-03" that day's,
// "2016-05-03T10" that hour's. ok is false for anything else: a full
// timestamp (RFC 3339, a time with minutes, 2016-05-03T10:30) stays the
// instant ParseTime gives, and text ParseLabel refuses is ParseTime's to
// report. Both the command and the dashboard apply it after ParseTime.
func PeriodEnd(s string, loc *time.Location) (end time.Time, ok bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ":") { // a time of day with minutes: an instant
		return time.Time{}, false
	}
	g, start, err := ParseLabel(s, loc)
	if err != nil {
		return time.Time{}, false
	}
	return g.Add(start, 1).Add(-time.Nanosecond), true
}

// NonZeroStart returns t, the instant the date s was parsed to, except
// when t is Go's zero time (0001-01-01 00:00:00 UTC, which the library
// reads as "not set": now) and s is a period label (0001, 0001-01,
// 0001-W01, 0001-01-01, 0001-01-01T00, as PeriodEnd takes): then the
// nanosecond after it, the first instant of the same period (of every
// time group) that the library can take. A full timestamp naming that
// instant stays zero, for the caller to refuse.
func NonZeroStart(s string, t time.Time, loc *time.Location) time.Time {
	if !t.IsZero() {
		return t
	}
	if _, ok := PeriodEnd(s, loc); ok {
		return t.Add(time.Nanosecond)
	}
	return t
}

package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// weekShape is the shape of an ISO week label, 2024-W01.
var weekShape = regexp.MustCompile(`^\d{4}-W\d{2}$`)

// timeLayouts are the layouts parseTime accepts, most precise first.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006-01",
	"2006",
}

// parseTime parses a point in time given on the command line: "now", an
// RFC 3339 time, or a date and time without zone ("2024-12-30",
// "2024-12-30 05:10", "2024-12", "2024"), which is read in loc, or a
// period label as the tables print it (an ISO week "2024-W01", its Monday;
// an hour "2024-12-30T05"; a week the year lacks says so). An empty
// string is an error, and so is a time whose year in loc is outside
// 1..9999 (wrapping bitmapist.ErrInvalidTime), 10000-01-01 included
// (yearOutOfRange). A date of the right shape
// that does not exist (2024-02-30, hour 25) wraps errBadDate, with the
// message import gives for it. A zone-less value is read as
// cohort.WallParser reads it, as the dashboard and import do: a date (or
// month, year, week, hour label) is its first real instant in loc
// (2018-11-04 in America/Sao_Paulo, whose midnight the clocks skipped, is
// 01:00 -02), a time the clocks repeat its first occurrence, and a time,
// hour or day the clocks skipped an error wrapping a
// *bitmapist.SkippedTimeError that names the gap.
func parseTime(s string, loc *time.Location, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time: want now, RFC 3339 (2024-12-30T05:10:00Z), 2024-12-30 05:10, 2024-12-30, 2024-W01, 2024-12 or 2024")
	}
	if strings.EqualFold(s, "now") {
		return now.In(loc), nil
	}
	var bad error // the first layout that s has the shape of, but with a field out of range
	for _, l := range timeLayouts {
		t, err := cohort.ParseInLocation(l, s, loc)
		if se := (*bitmapist.SkippedTimeError)(nil); errors.As(err, &se) {
			return time.Time{}, fmt.Errorf("time %w", se)
		}
		if err != nil && bad == nil {
			bad = badDate(s, err)
		}
		if err == nil {
			t = cohort.NonZeroStart(s, t, loc) // 0001-01-01: its first usable instant
			if err := checkYear(t, loc); err != nil {
				// Not "invalid event time": --from, --now and --at are
				// not event times. errors.Is(err, ErrInvalidTime) holds.
				msg := strings.TrimPrefix(err.Error(), bitmapist.ErrInvalidTime.Error()+": ")
				return time.Time{}, &wrapped{msg: fmt.Sprintf("time %s: %s", quoteClip(s), msg), err: err}
			}
			return t, nil
		}
	}
	for _, l := range timeLayouts {
		if err := yearOutOfRange(s, func(s string) (time.Time, error) { return time.ParseInLocation(l, s, loc) }); err != nil {
			return time.Time{}, &wrapped{msg: "time " + err.Error(), err: err}
		}
	}
	if bad != nil {
		// The message import gives for the same date: "... is not a
		// valid date (day out of range)"; errors.Is(err, errBadDate).
		return time.Time{}, fmt.Errorf("time %w", bad)
	}
	// A period label as the tables print it: an ISO week (2024-W01, its
	// Monday) or an hour (2024-12-30T05).
	if _, t, err := cohort.ParseLabel(s, loc); err == nil {
		t = cohort.NonZeroStart(s, t, loc)
		if err := checkYear(t, loc); err != nil {
			return time.Time{}, &wrapped{msg: fmt.Sprintf("time %s: %s", quoteClip(s), strings.TrimPrefix(err.Error(), bitmapist.ErrInvalidTime.Error()+": ")), err: err}
		}
		return t, nil
	} else if se := (*bitmapist.SkippedTimeError)(nil); errors.As(err, &se) { // an hour the clocks skipped
		return time.Time{}, fmt.Errorf("time %w", se)
	} else if weekShape.MatchString(s) { // a week the year does not have
		return time.Time{}, &wrapped{msg: "time " + strings.TrimPrefix(err.Error(), cohort.ErrInvalidQuery.Error()+": period label "), err: err}
	}
	return time.Time{}, fmt.Errorf("time %s: want now, RFC 3339 (2024-12-30T05:10:00Z), 2024-12-30 05:10, 2024-12-30, 2024-W01, 2024-12 or 2024", quoteClip(s))
}

// wrapped is an error with its own message that still wraps err for
// errors.Is and errors.As.
type wrapped struct {
	msg string
	err error
}

// Error returns the message.
func (w *wrapped) Error() string { return w.msg }

// Unwrap returns the wrapped error.
func (w *wrapped) Unwrap() error { return w.err }

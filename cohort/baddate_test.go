package cohort

import (
	"errors"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"net/url"
	"testing"
	"time"
)

// TestParseQueryImpossibleDate: now and start of the right shape that name
// no real date are a *QueryError wrapping ErrInvalidQuery and a
// *DateError, in the command's words; other text stays a format error.
func TestParseQueryImpossibleDate(t *testing.T) {
	for _, name := range []string{"now", "start"} {
		for value, want := range map[string]string{
			"2026-02-30":           name + `: "2026-02-30" is not a valid date (day out of range)`,
			"2026-13-01":           name + `: "2026-13-01" is not a valid date (month out of range)`,
			"2026-02-28T25:00":     name + `: "2026-02-28T25:00" is not a valid date (hour out of range)`,
			"2026-02-30T10:00:00Z": name + `: "2026-02-30T10:00:00Z" is not a valid date (day out of range)`,
			"soon":                 name + `: "soon" is not a date: want RFC 3339, 2006-01-02T15:04, 2006-01-02, 2006-W01, 2006-01 or 2006`,
		} {
			v := url.Values{"primary_event": {"a"}, "secondary_event": {"b"}, name: {value}}
			_, err := ParseQueryIn(v, time.UTC)
			var qe *QueryError
			var de *DateError
			if !errors.As(err, &qe) || !errors.Is(err, ErrInvalidQuery) || qe.Field+": "+qe.Msg != want {
				t.Errorf("%s=%s: %v, want %q", name, value, err, want)
			}
			if isDate := errors.As(err, &de); isDate != (value != "soon") {
				t.Errorf("%s=%s: errors.As DateError %v", name, value, isDate)
			}
		}
	}
}

// TestTooManyPeriodsSentinel: the too-long range of every report wraps
// bitmapist.ErrTooManyPeriods (and ErrInvalidQuery), so callers can name
// the whole range.
func TestTooManyPeriodsSentinel(t *testing.T) {
	c := bitmapist.New(nil)
	from, to := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	_, _, err := reportRange(c, "login", bitmapist.Days, from, to, nil)
	if !errors.Is(err, bitmapist.ErrTooManyPeriods) || !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("checkRange: %v, want ErrTooManyPeriods and ErrInvalidQuery", err)
	}
}

// TestParseQueryMonthAndYear: now and start take a month (its first day)
// and a year (January 1st), as the command's --now and --start do.
func TestParseQueryMonthAndYear(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	for value, want := range map[string]time.Time{
		"2016-05": time.Date(2016, 5, 1, 0, 0, 0, 0, loc),
		"2016":    time.Date(2016, 1, 1, 0, 0, 0, 0, loc),
	} {
		v := url.Values{"primary_event": {"a"}, "secondary_event": {"b"}, "now": {value}, "start": {value}, "time_group": {"years"}}
		q, err := ParseQueryIn(v, loc)
		if err != nil || !q.Now.Equal(want) || !q.Start.Equal(want) {
			t.Errorf("now=start=%s: %v, %v, %v; want %v", value, q.Now, q.Start, err, want)
		}
	}
}

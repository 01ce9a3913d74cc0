package cohort

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// ParseSegment builds a report segment from its text form, as the command
// (--segment) and the dashboard (segment=) take it:
//
//	EVENT               the users in EVENT's unique bitmap (<prefix>EVENT_u,
//	                    written with unique tracking on)
//	EVENT@LABEL         the users who did EVENT in the period LABEL names, in
//	                    the client's location: 2025-03-01 (a day),
//	                    2025-03-01T05 (an hour), 2025-W09 (an ISO week),
//	                    2025-03 (a month) or 2025 (a year)
//
// The text is split at its last "@", so event names may hold "@" as long
// as a label follows; an empty label ("EVENT@") is an error, not EVENT's
// unique bitmap. Several specs are ANDed: the users in all of them.
// No specs give a nil Set (no segment). Errors: a *QueryError wrapping
// ErrInvalidQuery with Field "segment" for a bad event name or label. It
// does not contact Redis.
func ParseSegment(c *bitmapist.Client, specs ...string) (bitmapist.Set, error) {
	if c == nil {
		return nil, ErrNilClient
	}
	var sets []bitmapist.Set
	for _, spec := range specs {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		s, err := parseSegment(c, spec)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	switch len(sets) {
	case 0:
		return nil, nil
	case 1:
		return sets[0], nil
	}
	return bitmapist.And(sets...), nil
}

func parseSegment(c *bitmapist.Client, spec string) (bitmapist.Set, error) {
	event, label := spec, ""
	if i := strings.LastIndexByte(spec, '@'); i >= 0 {
		event, label = spec[:i], strings.TrimSpace(spec[i+1:])
		if label == "" {
			err := fmt.Errorf("%w: %s: EVENT@LABEL wants a period label after @ (2025-03, 2025-W09, 2025-03-01); EVENT alone is its unique bitmap", ErrInvalidQuery, quoteShort(spec))
			return nil, &QueryError{Field: "segment", Msg: err.Error(), Err: err}
		}
	}
	if err := CheckEventName(event); err != nil {
		return nil, &QueryError{Field: "segment", Msg: err.Error(), Err: err}
	}
	if label == "" {
		return c.Unique(event), nil
	}
	g, t, err := ParseLabel(label, c.Location())
	if err != nil {
		return nil, &QueryError{Field: "segment", Msg: err.Error(), Err: err}
	}
	return c.Events(event, g, t), nil
}

// weekLabel is the shape of an ISO week label: 2025-W09.
var weekLabel = regexp.MustCompile(`^\d{4}-W\d{2}$`)

// ParseLabel parses a period label in loc and returns its time group and
// start: "2025-03-01T05" or "2025-03-01 05:00" (hours), "2025-03-01"
// (days), "2025-W09" (ISO weeks), "2025-03" (months), "2025" (years) —
// the forms bitmapist.TimeGroup.Label writes. Anything else returns an
// error wrapping ErrInvalidQuery; a label of one of those shapes that names
// no real period says so: a week the year does not have ("2016-W53": 2016
// has W01..W52), or a date with a field out of range ("2016-02-30", also a
// *DateError: `is not a valid date (day out of range)`).
func ParseLabel(label string, loc *time.Location) (bitmapist.TimeGroup, time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	label = strings.TrimSpace(label)
	var y, w int
	if n, err := fmt.Sscanf(label, "%4d-W%2d", &y, &w); err == nil && n == 2 && weekLabel.MatchString(label) {
		// ISO week w of year y: the week holding January 4th, plus w-1 weeks.
		jan4 := time.Date(y, 1, 4, 12, 0, 0, 0, loc) // noon: no clock change skips it
		t := bitmapist.Weeks.Add(jan4, w-1)
		if iy, iw := t.ISOWeek(); iy == y && iw == w && w >= 1 {
			return bitmapist.Weeks, t, nil
		}
		_, last := time.Date(y, 12, 28, 0, 0, 0, 0, loc).ISOWeek() // Dec 28th is in the last ISO week
		return 0, time.Time{}, fmt.Errorf("%w: period label %s is not a valid week (%d has ISO weeks W01..W%02d)", ErrInvalidQuery, quoteShort(label), y, last)
	}
	var bad *DateError // the first layout label has the shape of, with a field out of range
	for _, f := range []struct {
		layout string
		g      bitmapist.TimeGroup
	}{
		{"2006-01-02T15", bitmapist.Hours}, {"2006-01-02 15:04", bitmapist.Hours},
		{"2006-01-02", bitmapist.Days}, {"2006-01", bitmapist.Months}, {"2006", bitmapist.Years},
	} {
		t, err := time.ParseInLocation(f.layout, label, loc)
		if err == nil {
			return f.g, f.g.Start(t), nil
		}
		if bad == nil {
			bad = BadDate(label, err)
		}
	}
	if bad != nil {
		return 0, time.Time{}, fmt.Errorf("%w: period label %w", ErrInvalidQuery, bad)
	}
	return 0, time.Time{}, fmt.Errorf("%w: period label %s: want 2025-03-01T05, 2025-03-01, 2025-W09, 2025-03 or 2025", ErrInvalidQuery, quoteShort(label))
}

// segment returns Query.Segment evaluated over the block window all (nil
// without a segment), byte 0 being byte all.lo, with a Not taken within
// all (bitmapist.EvalSegment: every cohort lies in it); it may alias the
// chunks (read-only).
func (p *plan) segment(q *Query, cs chunks, all window) bitmapist.Bitmap {
	if q.Segment == nil || all.empty() {
		return nil
	}
	return bitmapist.EvalSegment(q.Segment, int(all.hi-all.lo+1), func(k string) bitmapist.Bitmap { return cs.view(k, all) })
}

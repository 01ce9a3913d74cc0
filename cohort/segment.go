package cohort

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

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
//	!EVENT, !EVENT@LABEL
//	                    the report's users NOT in that set: bitmapist.Not
//	                    of it, which in a segment is "everyone else"
//	                    (bitmapist.EvalSegment)
//
// The text is split at its last "@", so event names may hold "@" as long
// as a label follows; an empty label ("EVENT@") is an error, not EVENT's
// unique bitmap. A leading "!" always negates: it is followed at once by
// the event ("! x" and "!!x" are errors), so an event whose name starts
// with "!" cannot be named in this text form (from Go, any name can). "!"
// rather than a word prefix such as "not:" because ':' is the usual
// namespace separator of event names ("user:logged_in"), so "not:x" is a
// plausible event name, and "!" is what a negation reads as. Several specs
// are ANDed: the users in all of them (a negated one drops its users).
// An event with whitespace is an error wrapping ErrSegmentSpace (no event
// can be marked so): each spec is one argument, "a@2025-03 b@2025-04" is
// not two.
// No specs give a nil Set (no segment). Errors: a *QueryError wrapping
// ErrInvalidQuery with Field "segment" for a bad event name, label or
// "!". It does not contact Redis. ParseSegmentSpec parses one spec into
// its parts.
func ParseSegment(c *bitmapist.Client, specs ...string) (bitmapist.Set, error) {
	if c == nil {
		return nil, ErrNilClient
	}
	var sets []bitmapist.Set
	for _, spec := range specs {
		if strings.TrimSpace(spec) == "" {
			continue
		}
		s, err := ParseSegmentSpec(c, spec)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s.Set)
	}
	switch len(sets) {
	case 0:
		return nil, nil
	case 1:
		return sets[0], nil
	}
	return bitmapist.And(sets...), nil
}

// SegmentSpec is one spec of ParseSegment's text form, parsed.
type SegmentSpec struct {
	Text  string              // the spec, spaces around it trimmed
	Event string              // the event it names (without "!" and "@LABEL")
	Not   bool                // a leading "!": the report's users not in the event's set
	Label string              // the period label after "@"; "" for the event's unique bitmap
	Group bitmapist.TimeGroup // with a Label: the period's time group
	Start time.Time           // with a Label: the period's start, in the client's location
	// Set is the segment the spec stands for: c.Unique(Event) or
	// c.Events(Event, Group, Start), inside bitmapist.Not when Not. Its
	// Keys are the keys of the event it reads, negated or not.
	Set bitmapist.Set
}

// Unique reports whether s names the event's unique bitmap (no "@LABEL").
func (s SegmentSpec) Unique() bool { return s.Label == "" }

// ParseSegmentSpec parses one spec of ParseSegment's text form (EVENT,
// EVENT@LABEL, !EVENT, !EVENT@LABEL; spaces around it are ignored) on c.
// Errors: ErrNilClient for a nil c; a *QueryError wrapping ErrInvalidQuery
// with Field "segment" for an empty spec, a bad event name, a bad label or
// a bad "!" ("!" alone, "!!x", "! x"). It does not contact Redis.
func ParseSegmentSpec(c *bitmapist.Client, spec string) (SegmentSpec, error) {
	if c == nil {
		return SegmentSpec{}, ErrNilClient
	}
	s := SegmentSpec{Text: strings.TrimSpace(spec)}
	bad := func(err error) (SegmentSpec, error) {
		return SegmentSpec{}, &QueryError{Field: "segment", Msg: err.Error(), Err: err}
	}
	badf := func(format string) (SegmentSpec, error) {
		return bad(fmt.Errorf("%w: %s: "+format, ErrInvalidQuery, quoteShort(s.Text)))
	}
	rest := s.Text
	if r, ok := strings.CutPrefix(rest, "!"); ok {
		s.Not, rest = true, r
		switch {
		case rest == "":
			return badf("! wants an event right after it: !EVENT or !EVENT@LABEL (the users not in it)")
		case strings.HasPrefix(rest, "!"):
			return badf("a segment is negated once: !EVENT (a leading ! always negates, so !! is not an event name)")
		case strings.TrimLeftFunc(rest, unicode.IsSpace) != rest:
			return badf("! is followed at once by the event: !EVENT, without a space")
		}
	}
	s.Event = rest
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		s.Event, s.Label = rest[:i], strings.TrimSpace(rest[i+1:])
		if s.Label == "" {
			return badf("EVENT@LABEL wants a period label after @ (2025-03, 2025-W09, 2025-03-01); EVENT alone is its unique bitmap")
		}
	}
	if err := CheckEventName(s.Event); err != nil {
		return bad(err)
	}
	if strings.ContainsFunc(s.Event, unicode.IsSpace) {
		return bad(fmt.Errorf("%w: %s: %w; each segment is one field (segment=A&segment=B, --segment A --segment B), ANDed", ErrInvalidQuery, quoteShort(s.Text), ErrSegmentSpace))
	}
	if s.Label == "" {
		s.Set = c.Unique(s.Event)
	} else {
		var err error
		if s.Group, s.Start, err = ParseLabel(s.Label, c.Location()); err != nil {
			return bad(err)
		}
		s.Set = c.Events(s.Event, s.Group, s.Start)
	}
	if s.Not {
		s.Set = bitmapist.Not(s.Set)
	}
	return s, nil
}

// ErrSegmentSpace is wrapped by ParseSegment's error for a spec whose
// event holds whitespace ("a@2025-03 b@2025-04", two specs in one field):
// no event can be marked with such a name (bitmapist.ValidateEventName).
var ErrSegmentSpace = errors.New("event names cannot contain whitespace")

// weekLabel is the shape of an ISO week label: 2025-W09.
var weekLabel = regexp.MustCompile(`^\d{4}-W\d{2}$`)

// ParseLabel parses a period label in loc and returns its time group and
// start: "2025-03-01T05" or "2025-03-01 05:00" (hours), "2025-03-01"
// (days), "2025-W09" (ISO weeks), "2025-03" (months), "2025" (years) —
// the forms bitmapist.TimeGroup.Label writes. Anything else returns an
// error wrapping ErrInvalidQuery; a label of one of those shapes that names
// no real period says so: a week the year does not have ("2016-W53": 2016
// has W01..W52), or a date with a field out of range ("2016-02-30", also a
// *DateError: `is not a valid date (day out of range)`). A period starts
// at its first real instant in loc (the day 2018-11-04 of
// America/Sao_Paulo, whose midnight the clocks skipped, at 01:00); an hour
// or day the clocks skipped (2024-03-31T02 in Europe/Berlin) is an error
// wrapping ErrInvalidQuery and a *bitmapist.SkippedTimeError.
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
		w, err := time.ParseInLocation(f.layout, label, time.UTC)
		if err == nil {
			t, err := bitmapist.WallStart(f.g, w, loc)
			if se := (*bitmapist.SkippedTimeError)(nil); errors.As(err, &se) {
				se.Value = label
				return 0, time.Time{}, fmt.Errorf("%w: period label %w", ErrInvalidQuery, se)
			}
			return f.g, t, err
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

package cohort

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// Defaults of ParseQuery for absent parameters, as flask-bitmapist's
// get_cohort.
const (
	DefaultRows      = 10
	DefaultCols      = 10
	DefaultTimeGroup = bitmapist.Days
)

// ParseQuery builds a Query from form or URL query parameters; it is
// ParseQueryIn with UTC for dates given without a zone. The parameters
// (flask-bitmapist's names, with short aliases):
//
//	primary_event | primary        Primary (required)
//	primary_and                    PrimaryAnd
//	secondary_event | secondary    Secondary (required)
//	additional                     additional events in order, each
//	                               "and:<event>" or "or:<event>"
//	                               (at most MaxAdditional)
//	additional_event + additional_op
//	                               the same as two parallel lists (form
//	                               rows): event i is joined by op i
//	                               ("and" or "or"); not with additional
//	time_group                     hours, days, weeks, months, years
//	                               (default days)
//	num_rows | rows                Rows (default 10)
//	num_cols | cols                Cols (default 10)
//	now                            Now: RFC 3339, "2006-01-02T15:04",
//	                               "2006-01-02", "2006-W01" (the week's
//	                               Monday), "2006-01" (its first day) or
//	                               "2006" (January 1st) (ParseTime;
//	                               default: the client's clock)
//	start                          Start, same forms
//	as_percent, with_replacement, first_time, on_or_after, blank_empty,
//	include_future                 booleans: 1/0, true/false, on/off,
//	                               yes/no (default false)
//
// Values are trimmed of surrounding white space, event names included.
// An empty value is the same as an absent parameter, as an HTML form
// sends a field left blank: time_group= means days, num_rows= means 10,
// now= means the client's clock, as_percent= means false, and an empty
// primary_event is missing. The dashboard (package web) and the CLI both
// read their parameters through ParseQuery, so they follow the same rule.
// Of a parameter given more than once the first value counts (except the
// additional events, which are lists); the dashboard refuses such a
// request with a 400 naming the parameter before calling ParseQuery.
//
// Unknown parameters are ignored. A bad value returns a *QueryError
// wrapping ErrInvalidQuery whose Field is the parameter name. The bounds
// (MaxRows, MaxCols, MaxAdditional, MaxBitmaps) and event names
// (CheckEventName: at most bitmapist.MaxEventNameLen bytes) are checked
// too, so a Query it returns passes Get's validation.
func ParseQuery(v url.Values) (Query, error) { return ParseQueryIn(v, time.UTC) }

// ParseQueryIn is ParseQuery reading dates and times given without a zone
// in loc (use the bitmapist client's Location, so that "2025-03-01" is the
// 1st of March there). A nil loc means UTC.
func ParseQueryIn(v url.Values, loc *time.Location) (Query, error) {
	if loc == nil {
		loc = time.UTC
	}
	q := Query{
		Primary:    first(v, "primary_event", "primary"),
		PrimaryAnd: first(v, "primary_and"),
		Secondary:  first(v, "secondary_event", "secondary"),
		TimeGroup:  DefaultTimeGroup,
		Rows:       DefaultRows,
		Cols:       DefaultCols,
	}
	if q.Primary == "" {
		return Query{}, queryErr("primary_event", "is required")
	}
	if q.Secondary == "" {
		return Query{}, queryErr("secondary_event", "is required")
	}

	steps, err := parseSteps(v)
	if err != nil {
		return Query{}, err
	}
	q.Additional = steps

	for _, parse := range []func() error{
		func() error { return parseTimeGroupParam(v, &q) },
		func() error { return parseSizeParams(v, &q) },
		func() error { return parseTimeParams(v, loc, &q) },
		func() error { return parseBoolParams(v, &q) },
	} {
		if err := parse(); err != nil {
			return Query{}, err
		}
	}

	if err := q.validate(); err != nil {
		var qe *QueryError
		if errors.As(err, &qe) {
			qe.Field = paramName(qe.Field)
		}
		return Query{}, err
	}
	return q, nil
}

// parseTimeGroupParam reads time_group into q (a name of
// bitmapist.ParseTimeGroup that the cohort report takes,
// ReportTimeGroups); absent keeps q's.
func parseTimeGroupParam(v url.Values, q *Query) error {
	if s := first(v, "time_group"); s != "" {
		g, err := bitmapist.ParseTimeGroup(s)
		if err != nil {
			return &QueryError{Field: "time_group", Err: err,
				Msg: quoteShort(s) + " is not hours, days, weeks, months or years"}
		}
		if err := CheckReportTimeGroup(ReportCohort, g); err != nil {
			return &QueryError{Field: "time_group", Err: err,
				Msg: quoteShort(s) + " is not " + TimeGroupList(ReportTimeGroups(ReportCohort))}
		}
		q.TimeGroup = g
	}
	return nil
}

// parseSizeParams reads num_rows | rows and num_cols | cols into q.
func parseSizeParams(v url.Values, q *Query) error {
	for _, n := range []struct {
		dst   *int
		names []string
		max   int
	}{{&q.Rows, []string{"num_rows", "rows"}, MaxRows}, {&q.Cols, []string{"num_cols", "cols"}, MaxCols}} {
		s := first(v, n.names...)
		if s == "" {
			continue
		}
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || i < 1 || i > n.max {
			return queryErr(n.names[0], "%s is not a whole number in 1..%d", quoteShort(s), n.max)
		}
		*n.dst = i
	}
	return nil
}

// parseTimeParams reads now and start into q, zone-less times in loc.
func parseTimeParams(v url.Values, loc *time.Location, q *Query) error {
	for _, t := range []struct {
		dst  *time.Time
		name string
	}{{&q.Now, "now"}, {&q.Start, "start"}} {
		if s := first(v, t.name); s != "" {
			tm, err := ParseTime(s, loc)
			if err != nil {
				return TimeParamError(t.name, s, err)
			}
			*t.dst = tm
		}
	}
	return nil
}

// parseBoolParams reads the boolean parameters into q.
func parseBoolParams(v url.Values, q *Query) error {
	for _, b := range []struct {
		dst  *bool
		name string
	}{
		{&q.AsPercent, "as_percent"}, {&q.WithReplacement, "with_replacement"},
		{&q.FirstTime, "first_time"}, {&q.OnOrAfter, "on_or_after"},
		{&q.BlankEmpty, "blank_empty"}, {&q.IncludeFuture, "include_future"},
	} {
		on, err := parseBool(v.Get(b.name))
		if err != nil {
			return queryErr(b.name, "%s is not a boolean", quoteShort(v.Get(b.name)))
		}
		*b.dst = on
	}

	return nil
}

// parseSteps reads the additional events.
func parseSteps(v url.Values) ([]Step, error) {
	packed, events, ops := v["additional"], v["additional_event"], v["additional_op"]
	switch {
	case len(packed) > 0 && (len(events) > 0 || len(ops) > 0):
		return nil, queryErr("additional", "give either additional or additional_event/additional_op, not both")
	case len(packed) > MaxAdditional:
		return nil, queryErr("additional", "%d additional events, more than %d", len(packed), MaxAdditional)
	case len(events) > MaxAdditional:
		return nil, queryErr("additional_event", "%d additional events, more than %d", len(events), MaxAdditional)
	case len(events) != len(ops):
		return nil, queryErr("additional_op", "%d ops for %d additional_event values", len(ops), len(events))
	}
	var steps []Step
	for i, s := range packed {
		opText, event, ok := strings.Cut(s, ":")
		op, err := ParseOp(opText)
		if !ok || err != nil {
			not := ""
			if ok {
				not = ", not " + quoteShort(opText)
			}
			if len(s) <= 40 && strconv.Quote(s) == `"`+s+`"` {
				not += fmt.Sprintf(" (for the event %s itself: and:%s)", quoteShort(s), s)
			}
			return nil, queryErr("additional", "%s%s: want OP:EVENT with OP and or or%s", quoteShort(s), valueOf(i, len(packed)), not)
		}
		steps = append(steps, Step{Event: strings.TrimSpace(event), Op: op})
	}
	for i, e := range events {
		op, err := ParseOp(ops[i])
		if err != nil {
			return nil, queryErr("additional_op", "%s%s: want and or or (the op joining additional_event %s)", quoteShort(ops[i]), valueOf(i, len(ops)), quoteShort(e))
		}
		steps = append(steps, Step{Event: strings.TrimSpace(e), Op: op})
	}
	return steps, nil
}

// valueOf returns " (value i+1 of n)" naming the i-th of n values of a
// repeated parameter, or "" when there is one value.
func valueOf(i, n int) string {
	if n < 2 {
		return ""
	}
	return fmt.Sprintf(" (value %d of %d)", i+1, n)
}

// paramName maps the name of a Query field that validate checks after
// parsing (the event names) to its request parameter.
func paramName(f string) string {
	switch {
	case f == "Primary":
		return "primary_event"
	case f == "PrimaryAnd":
		return "primary_and"
	case f == "Secondary":
		return "secondary_event"
	case strings.HasPrefix(f, "Additional"):
		return "additional" + strings.TrimPrefix(f, "Additional")
	}
	return f
}

func first(v url.Values, names ...string) string {
	for _, n := range names {
		if s := strings.TrimSpace(v.Get(n)); s != "" {
			return s
		}
	}
	return ""
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "f", "off", "no", "n":
		return false, nil
	case "1", "true", "t", "on", "yes", "y":
		return true, nil
	}
	return false, strconv.ErrSyntax
}

// TimeLayouts are the forms of a date parameter besides RFC 3339 (now,
// start; the dashboard's from and to), read in the client's location: the
// command's forms, a month standing for its first day and a year for
// January 1st.
var TimeLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", "2006-01", "2006"}

// ParseTime parses a date parameter (now, start; the dashboard's from
// and to): RFC 3339, one of TimeLayouts, or a period label as the tables
// print it (an ISO week 2025-W09, its Monday; an hour 2025-03-01T05), all
// but RFC 3339 read in loc as WallParser reads them: a date is its first
// real instant, a time the clocks skipped (or an hour or day they skipped)
// an error wrapping a *bitmapist.SkippedTimeError that names the gap. A value of one of those shapes that names no
// real date returns a *DateError, a week the year lacks ParseLabel's
// error; a period label whose first instant is 0001-01-01 00:00:00 UTC
// (0001-01-01, 0001 in UTC) the nanosecond after it (NonZeroStart); a
// timestamp naming that instant, which the library reads as
// "now" (Go's zero time), ErrReservedTime; anything else strconv.ErrSyntax.
// TimeParamError words them.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	t, err := parseTime(s, loc)
	if err == nil {
		t = NonZeroStart(s, t, loc) // 0001-01-01: its first usable instant
	}
	if err == nil && t.IsZero() {
		return time.Time{}, ErrReservedTime
	}
	return t, err
}

// ErrReservedTime is ParseTime's error for the instant 0001-01-01
// 00:00:00 UTC: bitmapist.At and the reports read Go's zero time as "now",
// so it cannot name a date.
var ErrReservedTime = errors.New("0001-01-01 00:00:00 UTC cannot be used (the library reserves that instant); give a label for its period (0001-01-01, 0001-01, 0001), which is taken from the next nanosecond, or a later time")

// parseTime is ParseTime without the reserved-instant check.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	bad := BadDate(s, err)
	for _, layout := range TimeLayouts {
		if err == nil {
			return t, nil
		}
		t, err = ParseInLocation(layout, s, loc)
		if errors.Is(err, bitmapist.ErrSkippedTime) {
			return time.Time{}, err
		}
		if bad == nil {
			bad = BadDate(s, err)
		}
	}
	switch {
	case err == nil:
		return t, nil
	case bad != nil:
		return time.Time{}, bad
	}
	if _, t, err := ParseLabel(s, loc); err == nil {
		return t, nil
	} else if weekLabel.MatchString(s) || errors.Is(err, bitmapist.ErrSkippedTime) {
		return time.Time{}, err
	}
	return time.Time{}, strconv.ErrSyntax
}

// TimeParamError returns the *QueryError of the date parameter name whose
// value s ParseTime refused with err: the *DateError's or week's message,
// or the forms it takes.
func TimeParamError(name, s string, err error) error {
	var de *DateError
	var se *bitmapist.SkippedTimeError
	switch {
	case errors.As(err, &de):
		return &QueryError{Field: name, Msg: de.Error(), Err: de}
	case errors.As(err, &se):
		return &QueryError{Field: name, Msg: se.Error(), Err: se}
	case errors.Is(err, ErrReservedTime):
		return &QueryError{Field: name, Msg: quoteShort(s) + ": " + err.Error(), Err: err}
	case errors.Is(err, ErrInvalidQuery):
		return &QueryError{Field: name, Msg: strings.TrimPrefix(err.Error(), ErrInvalidQuery.Error()+": period label "), Err: err}
	}
	return queryErr(name, "%s is not a date: want RFC 3339, 2006-01-02T15:04, 2006-01-02, 2006-W01, 2006-01 or 2006", quoteShort(s))
}

// DateError is a date or time of a known shape that names no real one
// (2026-02-30, month 13, hour 25). Its message is the command's and the
// dashboard's: `"2026-02-30" is not a valid date (day out of range)`.
type DateError struct {
	Value  string // the text as given
	Reason string // time.ParseError's: "day out of range", "month out of range"...
}

// Error returns `"VALUE" is not a valid date (REASON)`.
func (e *DateError) Error() string {
	return quoteShort(e.Value) + " is not a valid date (" + e.Reason + ")"
}

// BadDate returns a *DateError when err, from parsing s with time.Parse
// or time.ParseInLocation, says s has the layout's shape but a field out
// of range; nil otherwise (nil err, or s of another shape).
func BadDate(s string, err error) *DateError {
	var pe *time.ParseError
	if errors.As(err, &pe) && strings.Contains(pe.Message, "out of range") {
		return &DateError{Value: s, Reason: strings.TrimPrefix(pe.Message, ": ")}
	}
	return nil
}

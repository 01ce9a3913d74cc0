package cohort

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// Limits on the work a query may ask for. A query outside them is rejected
// with a *QueryError wrapping ErrInvalidQuery before any Redis work (the
// Python originals have no bound: a request with thousands of additional events
// would make them, and would make Get, read millions of bitmaps).
const (
	// MaxRows is the largest number of rows (cohort periods) of a table.
	MaxRows = 400
	// MaxCols is the largest number of columns (offsets) of a table.
	MaxCols = 400
	// MaxAdditional is the largest number of additional events
	// (Query.Additional steps) of a query.
	MaxAdditional = 20
	// MaxBitmaps is the largest number of Redis bitmaps (keys) a table may
	// read, counted before any Redis work as
	// k × (Rows × e1 + (Rows+Cols-1) × e2), where k is 12 for Years (a
	// year is the OR of its 12 month bitmaps) and 1 otherwise, e1 is 1, or
	// 2 with PrimaryAnd, and e2 the number of distinct return events
	// (Secondary and the additional ones), plus the keys of Query.Segment
	// (Set.Keys, read once for the whole table). Without additional events no
	// table within MaxRows × MaxCols reaches it (at most 19,188 bitmaps),
	// so it only limits additional events on long tables: 400 × 400 daily
	// tables may have MaxAdditional events, yearly ones fewer. FirstTime's
	// history (one bitmap per stored month before row 0, plus days and
	// hours) is not counted. An event given several times counts once,
	// and is read and combined once.
	MaxBitmaps = 20_000
	// MaxReadBytes is the most bytes of bitmap a table may read from
	// Redis: the sum, over its distinct bitmaps, of the bytes that can
	// hold a cohort member (4 GiB; a 52x52 weekly table with one
	// additional event over 100M users reads about 1.9 GiB).
	MaxReadBytes = 4 << 30
	// MaxCombineBytes is the most bytes of bitmap a table may combine in
	// the client: for every valid cell, the bytes of its row's window
	// (counted with the cohort AND its return set, 64 bits at a time),
	// plus the return sets' own combination. 64 GiB is some 10 s of one
	// core; a 52x52 weekly table over 100M users combines about 17 GiB, a
	// 400x400 daily one over 1M users about 10 GiB.
	MaxCombineBytes = 64 << 30
)

// checkCost returns a *QueryError when the table laid out by lay would
// read more than MaxReadBytes (read: the bytes of its spans) or combine
// more than MaxCombineBytes; factors is the number of distinct groups of
// the return set (deduplicated steps). It runs after the STRLEN/BITPOS round trip
// that finds where the bitmaps hold users and before any bitmap byte is
// read or combined.
func checkCost(q *Query, lay layout, read int64, factors int) error {
	if read > MaxReadBytes {
		field := "Rows"
		if len(q.Additional) > 0 {
			field = "Additional"
		}
		return queryErr(field, "the table would read %d bytes of bitmaps, more than %d: ask for fewer events, rows or columns",
			read, int64(MaxReadBytes))
	}
	var work int64
	for i, w := range lay.rowWin {
		if w.empty() {
			continue
		}
		cells := min(q.Cols, len(lay.retWin)-i)
		work += int64(max(0, cells)) * (w.hi - w.lo + 1)
	}
	for _, w := range lay.retWin {
		if !w.empty() && w.hi < unbounded {
			work += (w.hi - w.lo + 1) * int64(max(0, factors-1))
		}
	}
	if q.Segment != nil && !lay.all.empty() { // evaluated over the hull, ANDed per row
		work += (lay.all.hi - lay.all.lo + 1) * int64(len(q.Segment.Keys()))
		for _, w := range lay.rowWin {
			if !w.empty() {
				work += w.hi - w.lo + 1
			}
		}
	}
	if work > MaxCombineBytes {
		return queryErr("Rows", "the table would combine %d bytes of bitmaps, more than %d: ask for fewer rows or columns",
			work, int64(MaxCombineBytes))
	}
	return nil
}

// ErrInvalidQuery is wrapped by every error about a bad query or bad query
// parameters: an unknown operator, a bad event name, an invalid time
// group, rows, columns or additional events out of bounds. Such errors are
// *QueryError values, returned before any Redis work.
var ErrInvalidQuery = errors.New("cohort: invalid query")

// ErrNilClient is returned by Get, DatesData and Chain when given a nil
// *bitmapist.Client.
var ErrNilClient = errors.New("cohort: nil bitmapist client")

// ErrNilTable is returned by (*Table).WriteCSV when the table is nil.
var ErrNilTable = errors.New("cohort: nil table")

// QueryError reports which field of a Query (Go field name, e.g. "Rows") or
// which request parameter (e.g. "num_rows", from ParseQuery) is wrong. It
// matches ErrInvalidQuery with errors.Is, and also its cause (for example
// bitmapist.ErrInvalidEventName) when it has one.
type QueryError struct {
	Field string // the Query field or request parameter
	Msg   string // what is wrong with it
	Err   error  // the underlying error, or nil
}

// Error returns "cohort: invalid query: <Field>: <Msg>" ("cohort: invalid
// query" for a nil *QueryError).
func (e *QueryError) Error() string {
	if e == nil {
		return ErrInvalidQuery.Error()
	}
	return ErrInvalidQuery.Error() + ": " + e.Field + ": " + e.Msg
}

// Unwrap returns ErrInvalidQuery and the cause, if any (only
// ErrInvalidQuery for a nil *QueryError).
func (e *QueryError) Unwrap() []error {
	if e == nil || e.Err == nil {
		return []error{ErrInvalidQuery}
	}
	return []error{ErrInvalidQuery, e.Err}
}

func queryErr(field, format string, args ...any) error {
	return &QueryError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Op joins an additional event to the events before it: And or Or.
type Op int

// The operators of additional events, with flask-bitmapist's text forms
// "and" and "or".
const (
	// And keeps the users who also did the event.
	And Op = iota
	// Or adds the users who did the event instead. It binds to the event
	// just before it only (see Query.Additional).
	Or
)

// String returns "and" or "or" ("Op(N)" for an invalid value).
func (o Op) String() string {
	switch o {
	case And:
		return "and"
	case Or:
		return "or"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Valid reports whether o is And or Or.
func (o Op) Valid() bool { return o == And || o == Or }

// ParseOp parses "and" or "or" in any case (also "&&", "&", "||", "|").
// Anything else returns an error wrapping ErrInvalidQuery.
func ParseOp(s string) (Op, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "and", "&&", "&":
		return And, nil
	case "or", "||", "|":
		return Or, nil
	}
	return 0, queryErr("op", "%q is not and or or", s)
}

// MarshalText returns "and" or "or", so an Op encodes in JSON as a string.
func (o Op) MarshalText() ([]byte, error) {
	if !o.Valid() {
		return nil, queryErr("op", "%d is not And or Or", int(o))
	}
	return []byte(o.String()), nil
}

// UnmarshalText parses text with ParseOp. A nil o returns an error
// wrapping ErrInvalidQuery.
func (o *Op) UnmarshalText(text []byte) error {
	if o == nil {
		return queryErr("op", "cannot decode into a nil *Op")
	}
	v, err := ParseOp(string(text))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Step is one additional event of a query and the operator joining it to
// the events before it. In JSON it is flask-bitmapist's
// {"name": "<event>", "op": "and"|"or"}.
type Step struct {
	Event string `json:"name"` // event name
	Op    Op     `json:"op"`   // And or Or
}

// Query describes a cohort table. The zero values of Now and Start mean
// "not given"; Rows, Cols, Primary, Secondary and TimeGroup must be set
// (TimeGroup's zero value is bitmapist.Hours). Get never modifies the Query
// it is given. The JSON names are ParseQuery's parameter names; Primary,
// Secondary, Additional, TimeGroup, Rows, Cols and AsPercent carry the
// names of flask-bitmapist's cohort request.
type Query struct {
	// Primary is the event that defines the cohorts: row i's cohort is the
	// users who did Primary in row i's period (get_cohort's
	// primary_event_name, get_dates_data's select1).
	Primary string `json:"primary_event"`
	// PrimaryAnd, if not empty, narrows each cohort to the users who also
	// did this event in the row's period (get_dates_data's select1b).
	PrimaryAnd string `json:"primary_and,omitempty"`
	// Secondary is the return event: cell (i, j) counts the cohort's users
	// who did it in period i+j (get_cohort's secondary_event_name,
	// get_dates_data's select2).
	Secondary string `json:"secondary_event"`
	// Additional events are combined with Secondary, each in the cell's
	// period, in order: And intersects, Or unites. As in flask-bitmapist's
	// chain_events, an Or binds only to the event just before it and runs
	// of Or merge: "S and B or C and D" is S AND (B OR C) AND D, and
	// "S or B and C" is (S OR B) AND C. get_dates_data's select2b is one
	// And step. Unlike flask-bitmapist, the list is never modified, so
	// every cell keeps its Or events, and a period in which Secondary has
	// no marks still counts the users of Secondary's Or events (Python's
	// cell is 0 there; see Chain). At most MaxAdditional steps, and the
	// table may read at most MaxBitmaps bitmaps.
	Additional []Step `json:"additional_events,omitempty"`
	// TimeGroup is the length of a period: bitmapist.Hours, Days, Weeks
	// (ISO weeks: Monday to Sunday, labelled with the ISO year, so
	// 2024-12-30 is in 2025-W01), Months (calendar months) or Years.
	TimeGroup bitmapist.TimeGroup `json:"time_group"`
	// Rows is the number of cohort periods (rows), 1..MaxRows
	// (get_cohort's num_rows, get_dates_data's num_results).
	Rows int `json:"num_rows"`
	// Cols is the number of columns, 1..MaxCols: column j is the period j
	// after the row's, column 0 the row's own period (get_cohort's
	// num_cols; get_dates_data's num_of_rows+1).
	Cols int `json:"num_cols"`
	// Now is the time the table is computed for; zero means the client's
	// clock (bitmapist.Client.Now). It is read in the client's location.
	// Without Start, the last row is the period containing Now, and the
	// rows before it go back one period each (months and years move on
	// the calendar, so a Now on the 31st is fine). Cells of periods that
	// start after Now have no value unless IncludeFuture is set.
	Now time.Time `json:"now,omitzero"`
	// Start, if not zero, makes row 0 the period containing Start (in the
	// client's location) instead of counting back from Now. This is not
	// what get_dates_data's start_date does for weeks, months and years
	// (Python moves "now" to start_date + (num_results-1) days and counts
	// back from there); DatesQuery.Start reproduces that.
	Start time.Time `json:"start,omitzero"`
	// WithReplacement counts a returning user in every column they return
	// in. Without it (the default, as in flask-bitmapist) a user counts
	// only in the first column they return in, and is taken out of the
	// row's cohort for the columns after it. Fractions are of the full
	// cohort either way.
	WithReplacement bool `json:"with_replacement,omitempty"`
	// FirstTime makes row i's cohort the users whose first ever Primary
	// event fell in row i's period (Mixpanel's "first time" retention;
	// neither Python original has it): Primary in row i's period minus every
	// user who did Primary at any earlier time. The history before row 0
	// is read from every stored month of Primary before it (listed with a
	// SCAN of the primary event's keys), plus its days (and, for hours,
	// its hours) between the month's start and row 0. Hourly history
	// needs hourly tracking to have been on.
	FirstTime bool `json:"first_time,omitempty"`
	// OnOrAfter makes cell (i, j) count the cohort's users who returned in
	// period i+j or any later period of the table (up to the last column
	// of the last row, and not after Now's period unless IncludeFuture):
	// "on or after" (unbounded) retention. The return set of such a cell
	// is the union of the return sets of those periods. Every user counts
	// in each column they qualify for, so WithReplacement is implied (and
	// set in Table.Query).
	OnOrAfter bool `json:"on_or_after,omitempty"`
	// AsPercent makes the JSON and CSV forms give each cell as a percentage
	// of its row's cohort (0..100) instead of a count. Table.Cells always
	// carry both.
	AsPercent bool `json:"as_percent,omitempty"`
	// BlankEmpty gives get_dates_data's "" versus 0: a cell whose return
	// set (Secondary combined with the additional events) has no users at
	// all in its period has no value (Cell.Valid false), while one whose
	// return set has users but none from the cohort is 0. Without it, as
	// in get_cohort, such a cell is 0.
	BlankEmpty bool `json:"blank_empty,omitempty"`
	// IncludeFuture computes periods that start after Now like any other,
	// as get_dates_data does, instead of leaving them without value as
	// get_cohort does.
	IncludeFuture bool `json:"include_future,omitempty"`
	// Segment, if not nil, restricts the table to the users in it (the
	// segment of the engagement reports, see ParseSegment): it is ANDed
	// into every row's cohort, so Totals count the cohort's users in the
	// segment and every cell, the cohort AND the return set, counts only
	// users in the segment too. It is any set (a unique bitmap, a period,
	// any And/Or/Xor/AndNot/Not combination), with the same time for
	// every row: it is not moved with the row's period. A Not in it is
	// the segment rule of every report (bitmapist.EvalSegment): Not(a) is
	// everyone of the table who is not in a, so a cohort ANDed with
	// Not(a) is the cohort AndNot a, whatever a's length, on every
	// backend (not Redis's BITOP NOT, which also drops the users past a's
	// last byte, and holds nobody for a missing key). BlankEmpty still
	// looks at the whole return set. Cost: its bitmaps are read like the
	// table's other events, once per stripe over the bytes of the rows'
	// cohorts, and are counted in MaxBitmaps, MaxReadBytes and
	// MaxCombineBytes. On bitmapist-server the segment is computed there
	// once with BITOPs into a temporary key (a Not as U XOR (U AND a), U
	// the OR of the rows' keys) and ANDed into each row's cohort (one
	// BITOP per row more). Errors: a *QueryError with Field "Segment" for
	// a set that cannot be evaluated or is of another client
	// (bitmapist.Client.CheckSegment), or with more than MaxBitmaps keys,
	// before any Redis work. Not in JSON: ParseQuery does not read it
	// (the command's --segment and the dashboard's segment parameter go
	// through ParseSegment).
	Segment bitmapist.Set `json:"-"`
}

// validate checks q without touching Redis and returns a *QueryError.
// Event names are checked with CheckEventName (the rule for reading, looser
// than bitmapist.ValidateEventName's for writing).
func (q *Query) validate() error {
	event := func(field, name string) error {
		if err := CheckEventName(name); err != nil {
			return &QueryError{Field: field, Msg: err.Error(), Err: err}
		}
		return nil
	}
	if len(q.Additional) > MaxAdditional {
		return queryErr("Additional", "%d additional events, more than %d", len(q.Additional), MaxAdditional)
	}
	if err := event("Primary", q.Primary); err != nil {
		return err
	}
	if q.PrimaryAnd != "" {
		if err := event("PrimaryAnd", q.PrimaryAnd); err != nil {
			return err
		}
	}
	if err := event("Secondary", q.Secondary); err != nil {
		return err
	}
	for i, s := range q.Additional {
		field := fmt.Sprintf("Additional[%d]", i)
		if err := event(field, s.Event); err != nil {
			return err
		}
		if !s.Op.Valid() {
			return queryErr(field, "op %d is not And or Or", int(s.Op))
		}
	}
	if !q.TimeGroup.Valid() {
		return &QueryError{Field: "TimeGroup", Msg: fmt.Sprintf("%d is not a time group", int(q.TimeGroup)),
			Err: bitmapist.ErrInvalidTimeGroup}
	}
	if q.Rows < 1 || q.Rows > MaxRows {
		return queryErr("Rows", "%d is not in 1..%d", q.Rows, MaxRows)
	}
	if q.Cols < 1 || q.Cols > MaxCols {
		return queryErr("Cols", "%d is not in 1..%d", q.Cols, MaxCols)
	}
	if q.Segment != nil && len(q.Segment.Keys()) > MaxBitmaps {
		return queryErr("Segment", "reads %d bitmaps, more than %d", len(q.Segment.Keys()), MaxBitmaps)
	}
	if n := q.bitmaps(); n > MaxBitmaps {
		return queryErr("Additional", "%d additional events over %d %s read %d bitmaps, more than %d: ask for fewer events, rows or columns",
			len(q.Additional), q.Rows+q.Cols-1, q.TimeGroup, n, MaxBitmaps)
	}
	return nil
}

// bitmaps returns the number of bitmaps the table of a valid q reads at
// most (see MaxBitmaps).
func (q *Query) bitmaps() int {
	perPeriod := 1
	if q.TimeGroup == bitmapist.Years {
		perPeriod = 12
	}
	primary := 1
	if q.PrimaryAnd != "" {
		primary = 2
	}
	events := map[string]struct{}{q.Secondary: {}}
	for _, s := range q.Additional {
		events[s.Event] = struct{}{}
	}
	seg := 0
	if q.Segment != nil {
		seg = len(q.Segment.Keys())
	}
	return perPeriod*(q.Rows*primary+(q.Rows+q.Cols-1)*len(events)) + seg
}

// CheckEventName returns nil for an event name a query may read, or an
// error wrapping bitmapist.ErrInvalidEventName. The rule: 1 to
// bitmapist.MaxEventNameLen bytes of valid UTF-8 without control
// characters, not starting with "bitop_" (Python bitmapist's temporary
// operation keys, never events).
//
// It is looser than bitmapist.ValidateEventName, the rule for names that
// are written: Python bitmapist accepts any event name, so data it wrote
// may hold names with spaces or glob characters ("signed up", "plan[pro]")
// that bitmapist.Client.EventNames lists and that a cohort must be able to
// read (a table reads exact keys, and the first-time history's SCAN
// escapes glob characters). Names longer than MaxEventNameLen bytes cannot
// be queried: the bound keeps a request from making the server build and
// send keys of any length.
func CheckEventName(event string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %s %s", bitmapist.ErrInvalidEventName, quoteShort(event), why)
	}
	switch {
	case event == "":
		return bad("is empty")
	case len(event) > bitmapist.MaxEventNameLen:
		return bad(fmt.Sprintf("is %d bytes long, more than %d", len(event), bitmapist.MaxEventNameLen))
	case !utf8.ValidString(event):
		return bad("is not valid UTF-8")
	case strings.HasPrefix(event, "bitop_"):
		return bad("starts with bitop_, reserved for temporary keys")
	case strings.ContainsFunc(event, unicode.IsControl):
		return bad("contains a control character")
	}
	return nil
}

// quoteShort quotes s (Go syntax), cut to its first 40 bytes, so that an
// error message never repeats a long input in full.
func quoteShort(s string) string {
	const n = 40
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:n]) + "..."
}

// normalized returns a copy of q with its defaults applied (Now, times in
// loc, WithReplacement for OnOrAfter) and its own copy of Additional.
func (q Query) normalized(c *bitmapist.Client) Query {
	if q.Now.IsZero() {
		q.Now = c.Now()
	}
	q.Now = q.Now.In(c.Location())
	if !q.Start.IsZero() {
		q.Start = q.Start.In(c.Location())
	}
	if q.OnOrAfter {
		q.WithReplacement = true
	}
	q.Additional = slices.Clone(q.Additional)
	return q
}

// firstRow returns the start of row 0's period.
func (q *Query) firstRow() time.Time {
	if !q.Start.IsZero() {
		return q.TimeGroup.Start(q.Start)
	}
	return q.TimeGroup.Add(q.Now, -(q.Rows - 1))
}

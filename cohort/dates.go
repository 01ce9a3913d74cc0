package cohort

import (
	"context"
	"errors"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// DatesQuery asks for a table with the semantics of Python bitmapist's own
// cohort module, get_dates_data, so that a Python user gets Python's rows.
// Field names follow its parameters. Query is the Go way to describe a
// table; DatesQuery exists for those who want get_dates_data's numbers.
type DatesQuery struct {
	// Select1 is the cohort event: row i's cohort is the users who did it
	// in row i's period.
	Select1 string
	// Select1b, if not empty, narrows the cohort to the users who also did
	// it in the row's period (cohort = Select1 AND Select1b).
	Select1b string
	// Select2 is the return event.
	Select2 string
	// Select2b, if not empty, narrows the return set to the users who also
	// did it in the cell's period (Select2 AND Select2b).
	Select2b string
	// TimeGroup is the length of a period (bitmapist.Days, Weeks, Months,
	// Years; Hours works too). Weeks are ISO weeks with their ISO year.
	TimeGroup bitmapist.TimeGroup
	// NumResults is the number of rows, 1..MaxRows (upstream default 25).
	// For bitmapist.Years it is always 3, as upstream.
	NumResults int
	// NumOfRows is the number of follow-up periods, 0..MaxCols-1 (upstream
	// default 12): each row has NumOfRows+1 cells, cell 0 being the row's
	// own period.
	NumOfRows int
	// AsPercent gives cells as percentages of the cohort (0..100) in
	// Table.Value, JSON and CSV (upstream default on; here the zero value
	// is off).
	AsPercent bool
	// Start, if not zero, chooses the rows as get_dates_data's start_date
	// does: "now" moves to Start + (NumResults-1) days and row 0 is the
	// period NumResults-1 periods before it (for Years, 2 years before it,
	// the day shift still using the NumResults given). For Days (and
	// Hours) row 0 is therefore Start's period, but for Weeks, Months and
	// Years it is not: weekly, 4 rows from Wednesday 2024-03-06 give the
	// ISO weeks of 2024-02-12 .. 2024-03-04 (row 0 = the week of Start + 3
	// days - 3 weeks, so Start's week is the last row); monthly, 3 rows
	// from 2024-01-31 give 2023-12 .. 2024-02. This differs from Query.Start, which always makes row 0
	// the period containing Start. Otherwise the last row is Now's period.
	Start time.Time
	// Now is the current time; zero means the client's clock.
	Now time.Time
}

// Query returns the Query that DatesData runs for d: Select1/Select1b as
// Primary/PrimaryAnd, Select2 with an And step of Select2b as the return
// set, Rows NumResults (3 for years), Cols NumOfRows+1, with replacement,
// BlankEmpty and IncludeFuture, and a Start that is the start of row 0's
// period as get_dates_data chooses it (see DatesQuery.Start; the zero time
// when d.Start is zero). It does not validate d.
func (d DatesQuery) Query() Query {
	q := Query{
		Primary:         d.Select1,
		PrimaryAnd:      d.Select1b,
		Secondary:       d.Select2,
		TimeGroup:       d.TimeGroup,
		Rows:            d.NumResults,
		Cols:            d.NumOfRows + 1,
		Now:             d.Now,
		Start:           d.firstRow(),
		WithReplacement: true,
		AsPercent:       d.AsPercent,
		BlankEmpty:      true,
		IncludeFuture:   true,
	}
	if d.Select2b != "" {
		q.Additional = []Step{{Event: d.Select2b, Op: And}}
	}
	if d.TimeGroup == bitmapist.Years {
		q.Rows = 3
	}
	return q
}

// firstRow returns the start of row 0's period for a DatesQuery with a
// Start, the way get_dates_data chooses it from start_date: "now" =
// Start + (NumResults-1) days, then back NumResults-1 periods (2 for
// years, which always have 3 rows). Days and Hours give Start's own
// period. The zero time for a zero Start.
func (d DatesQuery) firstRow() time.Time {
	if d.Start.IsZero() {
		return time.Time{}
	}
	g := d.TimeGroup
	if g == bitmapist.Days || g == bitmapist.Hours {
		return g.Start(d.Start)
	}
	// NumResults is validated for every group but Years; a shift of more
	// than 4,000,000 days (about 11,000 years) leaves the years 1..9999
	// either way, so it is capped to keep the date arithmetic in range,
	// and the Query's validation refuses the table.
	shift := min(max(d.NumResults-1, -4_000_000), 4_000_000)
	now := d.Start.AddDate(0, 0, shift)
	back := d.NumResults - 1
	if g == bitmapist.Years {
		back = 2
	}
	return g.Add(now, -back)
}

// DatesData computes a table with get_dates_data's semantics:
//
//   - cohort = Select1 (AND Select1b) in the row's period; Totals[i] is its
//     size. An empty cohort gives a row without values ("" upstream).
//   - cell t: S = Select2 (AND Select2b) in the period t after the row's.
//     If S has no users at all (including an empty AND), the cell has no
//     value (""); otherwise it is |cohort AND S|, 0 included. Every cell is
//     counted independently (with replacement), and periods after Now are
//     computed like any other, as upstream.
//
// Rows are chosen as get_dates_data chooses them, Start included (see
// DatesQuery.Start): its cells are Python's cells. Deliberate differences
// (docs/python.md lists them all): weeks are ISO weeks with their ISO
// year (Python keys them with the calendar year, wrong around New Year);
// "no users" means BITCOUNT = 0, not a missing key, so where Python tests
// the existence of an empty AND result and shows 0, the cell here has no
// value; Table.Dates holds the start of each row's period, where Python
// gives the shifted datetime inside it.
//
// Like Get it reads every bitmap once in one pipelined round trip and
// leaves nothing behind. Errors: ErrNilClient for a nil c; a *QueryError
// wrapping ErrInvalidQuery naming the DatesQuery field, before any Redis
// work; otherwise the Redis error, wrapped.
func DatesData(ctx context.Context, c *bitmapist.Client, d DatesQuery) (*Table, error) {
	if c == nil {
		return nil, ErrNilClient
	}
	if d.TimeGroup != bitmapist.Years && (d.NumResults < 1 || d.NumResults > MaxRows) {
		return nil, queryErr("NumResults", "%d is not in 1..%d", d.NumResults, MaxRows)
	}
	if d.NumOfRows < 0 || d.NumOfRows > MaxCols-1 {
		return nil, queryErr("NumOfRows", "%d is not in 0..%d", d.NumOfRows, MaxCols-1)
	}
	q := d.Query()
	if err := q.validate(); err != nil {
		var qe *QueryError
		if errors.As(err, &qe) {
			qe.Field = datesField(qe.Field)
		}
		return nil, err
	}
	t, err := run(ctx, c, q, 0)
	var qe *QueryError
	if errors.As(err, &qe) {
		qe.Field = datesField(qe.Field)
	}
	return t, err
}

// datesField maps a Query field name to the DatesQuery one.
func datesField(f string) string {
	switch f {
	case "Primary":
		return "Select1"
	case "PrimaryAnd":
		return "Select1b"
	case "Secondary":
		return "Select2"
	case "Additional[0]":
		return "Select2b"
	}
	return f
}

// DatesRow returns row i in get_dates_data's shape: [date, cohort size,
// cell 0, ..., cell Cols-1], where date is Dates[i] (time.Time), the size
// an int64 and each cell a float64 in the table's unit (percent when
// AsPercent, else count) or "" for a cell without value. It returns nil for
// an index out of range or a nil table (a missing date is the zero
// time, a missing total 0).
func (t *Table) DatesRow(i int) []any {
	if t == nil || i < 0 || i >= len(t.Cells) {
		return nil
	}
	var date time.Time
	if i < len(t.Dates) {
		date = t.Dates[i]
	}
	row := make([]any, 0, 2+len(t.Cells[i]))
	row = append(row, date, t.total(i))
	for j := range t.Cells[i] {
		if v, ok := t.Value(i, j); ok {
			row = append(row, v)
		} else {
			row = append(row, "")
		}
	}
	return row
}

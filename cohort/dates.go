package cohort

import (
	"context"
	"errors"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// DatesQuery asks for a table with the semantics of Python bitmapist's own
// cohort module, get_dates_data (reference §5). Field names follow its
// parameters.
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
	// Start, if not zero, makes row 0 the period containing Start
	// (upstream's start_date). Otherwise the last row is Now's period.
	Start time.Time
	// Now is the current time; zero means the client's clock.
	Now time.Time
}

// Query returns the Query that DatesData runs for d: Select1/Select1b as
// Primary/PrimaryAnd, Select2 with an And step of Select2b as the return
// set, Rows NumResults (3 for years), Cols NumOfRows+1, with replacement,
// BlankEmpty and IncludeFuture. It does not validate d.
func (d DatesQuery) Query() Query {
	q := Query{
		Primary:         d.Select1,
		PrimaryAnd:      d.Select1b,
		Secondary:       d.Select2,
		TimeGroup:       d.TimeGroup,
		Rows:            d.NumResults,
		Cols:            d.NumOfRows + 1,
		Now:             d.Now,
		Start:           d.Start,
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
// "No users" means BITCOUNT = 0, not a missing key (reference §2): where
// upstream tests key existence of an AND result it shows 0, here the cell
// has no value.
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

package cohort

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Cell is one cell of a table.
type Cell struct {
	// Count is the number of users of the row's cohort counted in the
	// column's period (0 when Valid is false).
	Count int64
	// Fraction is Count divided by the row's cohort size (Table.Totals[i]),
	// 0..1 (0 when Valid is false).
	Fraction float64
	// Valid is false when the cell has no value, which is not the same as
	// 0: the row's cohort is empty, the period starts after Query.Now
	// (unless IncludeFuture), or, with BlankEmpty, nobody at all did the
	// return event in that period (flask-bitmapist's None,
	// get_dates_data's "").
	Valid bool
}

// Average is the mean of one column over its valid cells: zeros count,
// cells without value do not (as get_dates_data's average row).
type Average struct {
	Count    float64 // mean Cell.Count
	Fraction float64 // mean Cell.Fraction, 0..1
	Valid    bool    // false when the column has no valid cell
}

// Table is a computed cohort table. Index i is a row (cohort period,
// oldest first), index j a column (offset from the row's period).
type Table struct {
	// Query is the query after defaults were applied: Now set (in the
	// client's location), WithReplacement set when OnOrAfter is.
	Query Query
	// Dates[i] is the first instant of row i's period, in the client's
	// location; len Rows, oldest first, one period apart.
	Dates []time.Time
	// Totals[i] is the size of row i's cohort (number of users);
	// len Rows (flask-bitmapist's per-row totals, get_dates_data's
	// cohort size).
	Totals []int64
	// Cells[i][j] is row i, column j: the period j periods after row i's.
	// Rows × Cols.
	Cells [][]Cell
	// ColTotals[j] is the sum of the valid Counts of column j; len Cols.
	ColTotals []int64
	// Averages[j] is the mean of column j over its valid cells; len Cols.
	Averages []Average
	// BytesRead is the number of bytes of bitmap Get read from Redis for
	// the table (not in its JSON or CSV forms).
	BytesRead int64
}

// Every method of Table is safe on a nil *Table and on a table whose
// slices do not match Query.Rows and Query.Cols (a zero Table, or one
// built or decoded by hand): they read only the indexes that exist, and
// treat a missing value as no value (a missing total as 0).

// RowLabel returns the label of row i's period (bitmapist's
// TimeGroup.Label: "2024-12-30", "2025-W01", "2024-12"...), or "" for an
// index out of range or a nil table.
func (t *Table) RowLabel(i int) string {
	if t == nil || i < 0 || i >= len(t.Dates) {
		return ""
	}
	return t.Query.TimeGroup.Label(t.Dates[i])
}

// ColumnLabel returns the heading of column j: "0" for column 0 (the
// cohort's own period), then "+1 day", "+2 days", ... with the time
// group's name, singular for 1 ("+1 week", "+3 months"). flask-bitmapist's
// heatmap writes "< 1" and "+ 1 days" (the README maps Python to Go). It returns ""
// for an index out of range (0..Query.Cols-1) or a nil table.
func (t *Table) ColumnLabel(j int) string {
	switch {
	case j < 0 || j >= t.cols():
		return ""
	case j == 0:
		return "0"
	}
	unit := t.Query.TimeGroup.String() // plural: "days", "weeks", ...
	if j == 1 {
		unit = strings.TrimSuffix(unit, "s")
	}
	return "+" + strconv.Itoa(j) + " " + unit
}

// Value returns cell (i, j) in the table's unit: a percentage of the row's
// cohort (0..100) when Query.AsPercent, else the count; ok is false when
// the cell has no value, the indexes are out of range or t is nil.
func (t *Table) Value(i, j int) (v float64, ok bool) {
	if t == nil || i < 0 || i >= len(t.Cells) || j < 0 || j >= len(t.Cells[i]) || !t.Cells[i][j].Valid {
		return 0, false
	}
	c := t.Cells[i][j]
	if t.Query.AsPercent {
		return c.Fraction * 100, true
	}
	return float64(c.Count), true
}

// cols returns Query.Cols, 0 for a nil table or a negative value.
func (t *Table) cols() int {
	if t == nil {
		return 0
	}
	return max(0, t.Query.Cols)
}

// total returns Totals[i], 0 when there is none.
func (t *Table) total(i int) int64 {
	if t == nil || i < 0 || i >= len(t.Totals) {
		return 0
	}
	return t.Totals[i]
}

// average returns column j's average in the table's unit.
func (t *Table) average(j int) (float64, bool) {
	if t == nil || j < 0 || j >= len(t.Averages) || !t.Averages[j].Valid {
		return 0, false
	}
	a := t.Averages[j]
	if t.Query.AsPercent {
		return a.Fraction * 100, true
	}
	return a.Count, true
}

// tableJSON is the flask-bitmapist JSON shape.
type tableJSON struct {
	Cohort    [][]*float64 `json:"cohort"`
	Dates     []string     `json:"dates"`
	Labels    []string     `json:"labels"`
	Columns   []string     `json:"columns"`
	Total     int64        `json:"total"`
	RowTotals []int64      `json:"row_totals"`
	ColTotals []*int64     `json:"col_totals"`
	Averages  []*float64   `json:"averages"`
	TimeGroup string       `json:"time_group"`
	AsPercent bool         `json:"as_percent"`
	NumRows   int          `json:"num_rows"`
	NumCols   int          `json:"num_cols"`
}

// MarshalJSON encodes the table in flask-bitmapist's cohort JSON shape:
//
//	cohort      Rows × Cols cells: the count, or the percentage of the
//	            row's cohort (0..100) when as_percent; null for no value
//	dates       row dates, RFC 3339
//	labels      row labels (RowLabel), an addition
//	columns     column headings (ColumnLabel), an addition
//	total       sum of row_totals (the heatmap's "Total" users)
//	row_totals  cohort size of each row (Totals)
//	col_totals  sum of each column's valid counts (ColTotals); null
//	            where averages is null, for a column without valid cell
//	            yet (not 0, which would read as "nobody returned")
//	averages    mean of each column's valid cells, in the cells' unit;
//	            null for a column without valid cell
//	time_group  "hours", "days", "weeks", "months" or "years"
//	as_percent, num_rows, num_cols
//
// A nil table encodes as null, as encoding/json encodes a nil pointer.
func (t *Table) MarshalJSON() ([]byte, error) {
	if t == nil {
		return []byte("null"), nil
	}
	out := tableJSON{
		Cohort:    make([][]*float64, len(t.Cells)),
		Dates:     make([]string, len(t.Dates)),
		Labels:    make([]string, len(t.Dates)),
		Columns:   make([]string, t.cols()),
		RowTotals: t.Totals,
		Averages:  make([]*float64, len(t.Averages)),
		TimeGroup: t.Query.TimeGroup.String(),
		AsPercent: t.Query.AsPercent,
		NumRows:   t.Query.Rows,
		NumCols:   t.Query.Cols,
	}
	for i := range t.Cells {
		row := make([]*float64, len(t.Cells[i]))
		for j := range row {
			if v, ok := t.Value(i, j); ok {
				row[j] = &v
			}
		}
		out.Cohort[i] = row
	}
	for i, d := range t.Dates {
		out.Dates[i] = d.Format(time.RFC3339)
		out.Labels[i] = t.RowLabel(i)
	}
	for j := range out.Columns {
		out.Columns[j] = t.ColumnLabel(j)
	}
	for _, n := range t.Totals {
		out.Total += n
	}
	for j := range t.Averages {
		if v, ok := t.average(j); ok {
			out.Averages[j] = &v
		}
	}
	if t.ColTotals != nil {
		out.ColTotals = make([]*int64, len(t.ColTotals))
	}
	for j := range t.ColTotals {
		if j >= len(out.Averages) || out.Averages[j] != nil { // null where averages is
			out.ColTotals[j] = &t.ColTotals[j]
		}
	}
	// No HTML escaping here: a caller that wants HTML-safe JSON gets it
	// from json.Marshal, which escapes a Marshaler's output itself.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

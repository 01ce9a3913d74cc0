package cohort

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// WriteCSV writes the table as CSV (encoding/csv): a header
// "Date,Total,0,1,...,Cols-1" (get_dates_data's CSV header, following the
// column count), then one record per row: the row label (RowLabel), the
// cohort size, and each cell in the table's unit (the count, or the
// percentage of the cohort when Query.AsPercent, written in the shortest
// form that reads back exactly), empty for a cell without value. It
// returns the writer's error, wrapped, or ErrNilTable for a nil table
// (before writing anything).
func (t *Table) WriteCSV(w io.Writer) error {
	if t == nil {
		return fmt.Errorf("cohort: write CSV: %w", ErrNilTable)
	}
	cw := csv.NewWriter(w)
	rec := make([]string, 0, 2+t.cols())
	rec = append(rec, "Date", "Total")
	for j := range t.cols() {
		rec = append(rec, strconv.Itoa(j))
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("cohort: write CSV: %w", err)
	}
	for i := range t.Cells {
		rec = append(rec[:0], t.RowLabel(i), strconv.FormatInt(t.total(i), 10))
		for j := range t.Cells[i] {
			v, ok := t.Value(i, j)
			switch {
			case !ok:
				rec = append(rec, "")
			case t.Query.AsPercent:
				rec = append(rec, strconv.FormatFloat(v, 'f', -1, 64))
			default:
				rec = append(rec, strconv.FormatInt(t.Cells[i][j].Count, 10))
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("cohort: write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cohort: write CSV: %w", err)
	}
	return nil
}

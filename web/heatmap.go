package web

import (
	"fmt"
	"math"
	"strconv"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// shades is the number of shading steps above zero of heatmap cells: CSS
// classes h0 (a fraction of 0) to h10 (a fraction above 0.9).
const shades = 10

// heatCell is one cell of the heatmap as the template shows it.
type heatCell struct {
	Text     string  // the value shown: "43.1%" or "1,234"; "–" for no value
	Title    string  // tooltip: count and percentage of the row's cohort
	Class    string  // CSS class: "h0".."h10" by fraction, "none" for no value
	Count    int64   // data-count
	Fraction float64 // data-fraction, 0..1
	Valid    bool    // false: no value (not the same as 0)
}

// heatRow is one cohort row of the heatmap.
type heatRow struct {
	Label string     // period label, "2025-W01"
	Date  string     // first day of the period, "Mon 30 Dec 2024"
	Total int64      // cohort size
	Cells []heatCell // one per column
}

// heatmap is the table part of the cohort page.
type heatmap struct {
	Columns []string   // column headings: "0", "+1 week", "+2 weeks", ...
	Rows    []heatRow  // oldest first
	Average []heatCell // the average row, one per column
	Total   int64      // sum of the row totals
	Percent bool       // cells show percentages
	Hours   bool       // hourly rows: wider row labels
}

// shade returns the CSS class of a fraction: h0 for 0, else h1..h10 by
// tenths rounded up, so any returning user shows some colour.
func shade(f float64) string {
	n := int(math.Ceil(f * shades))
	n = max(0, min(shades, n))
	return "h" + strconv.Itoa(n)
}

// percent formats a fraction 0..1 as "43.1%".
func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// newHeatmap builds the heatmap of t.
func newHeatmap(t *cohort.Table) *heatmap {
	q := t.Query
	h := &heatmap{Percent: q.AsPercent, Hours: q.TimeGroup == bitmapist.Hours, Columns: make([]string, q.Cols)}
	for j := range h.Columns {
		h.Columns[j] = t.ColumnLabel(j)
	}
	for i := range t.Dates {
		row := heatRow{
			Label: t.RowLabel(i),
			Date:  t.Dates[i].Format("Mon 2 Jan 2006"),
			Total: t.Totals[i],
			Cells: make([]heatCell, len(t.Cells[i])),
		}
		h.Total += row.Total
		for j, c := range t.Cells[i] {
			row.Cells[j] = cellView(c, row.Total, q.AsPercent)
		}
		h.Rows = append(h.Rows, row)
	}
	h.Average = make([]heatCell, len(t.Averages))
	for j, a := range t.Averages {
		if !a.Valid {
			h.Average[j] = heatCell{Text: "–", Title: "no value", Class: "none"}
			continue
		}
		hc := heatCell{Valid: true, Fraction: a.Fraction, Class: shade(a.Fraction),
			Title: fmt.Sprintf("average %.1f users (%s)", a.Count, percent(a.Fraction))}
		if q.AsPercent {
			hc.Text = percent(a.Fraction)
		} else {
			hc.Text = strconv.FormatFloat(a.Count, 'f', 1, 64)
		}
		h.Average[j] = hc
	}
	return h
}

func cellView(c cohort.Cell, total int64, asPercent bool) heatCell {
	if !c.Valid {
		return heatCell{Text: "–", Title: "no value", Class: "none"}
	}
	hc := heatCell{
		Valid: true, Count: c.Count, Fraction: c.Fraction, Class: shade(c.Fraction),
		Title: fmt.Sprintf("%s of %s (%s)", thousands(c.Count), users(total), percent(c.Fraction)),
	}
	if asPercent {
		hc.Text = percent(c.Fraction)
	} else {
		hc.Text = thousands(c.Count)
	}
	return hc
}

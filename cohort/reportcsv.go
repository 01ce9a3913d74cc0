package cohort

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"time"
)

// ErrNilReport is returned by the WriteCSV methods of a nil Lifecycle,
// Stickiness or Funnel.
var ErrNilReport = errors.New("cohort: nil report")

func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// WriteCSV writes the lifecycle as CSV: a header row "label, start, new,
// returning, resurrecting, dormant" and one row per period (start in RFC
// 3339, dormant negative). Errors are w's, or ErrNilReport.
func (l *Lifecycle) WriteCSV(w io.Writer) error {
	if l == nil {
		return ErrNilReport
	}
	rows := [][]string{{"label", "start", "new", "returning", "resurrecting", "dormant"}}
	for _, p := range l.Periods {
		rows = append(rows, []string{p.Label, p.Start.Format(time.RFC3339), itoa(p.New), itoa(p.Returning), itoa(p.Resurrecting), itoa(p.Dormant)})
	}
	return writeCSV(w, rows)
}

// WriteCSV writes the stickiness buckets as CSV: a header row "periods,
// users" and one row per k = 1..K. Errors are w's, or ErrNilReport.
func (s *Stickiness) WriteCSV(w io.Writer) error {
	if s == nil {
		return ErrNilReport
	}
	rows := [][]string{{"periods", "users"}}
	for _, b := range s.Buckets {
		rows = append(rows, []string{strconv.Itoa(b.Periods), itoa(b.Users)})
	}
	return writeCSV(w, rows)
}

// WriteCSV writes the funnel as CSV, one row per entry period and step:
// a header row "label, start, step, event, users, from_previous,
// from_first, drop_off", the rows of each entry period, then the total
// row's with label "total" and an empty start. Steps count from 1.
// Errors are w's, or ErrNilReport.
func (f *Funnel) WriteCSV(w io.Writer) error {
	if f == nil {
		return ErrNilReport
	}
	rows := [][]string{{"label", "start", "step", "event", "users", "from_previous", "from_first", "drop_off"}}
	add := func(label, start string, steps []FunnelStep) {
		for k, s := range steps {
			rows = append(rows, []string{label, start, strconv.Itoa(k + 1), s.Event, itoa(s.Users),
				strconv.FormatFloat(s.FromPrevious, 'f', 4, 64), strconv.FormatFloat(s.FromFirst, 'f', 4, 64), itoa(s.DropOff)})
		}
	}
	for _, r := range f.Rows {
		add(r.Label, r.Start.Format(time.RFC3339), r.Steps)
	}
	add("total", "", f.Steps)
	return writeCSV(w, rows)
}

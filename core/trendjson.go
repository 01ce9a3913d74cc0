package bitmapist

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"
)

// trendValueJSON is a TrendValue in JSON; wau, mau and dau_mau are left
// out of a trend without Rolling.
type trendValueJSON struct {
	Label  string    `json:"label"`
	Start  time.Time `json:"start"`
	Count  int64     `json:"count"`
	WAU    *int64    `json:"wau,omitempty"`
	MAU    *int64    `json:"mau,omitempty"`
	DAUMAU *float64  `json:"dau_mau,omitempty"`
}

type trendPeriodJSON struct {
	trendValueJSON
	Previous trendValueJSON `json:"previous"`
}

func (v TrendValue) json(rolling bool) trendValueJSON {
	j := trendValueJSON{Label: v.Label, Start: v.Start, Count: v.Count}
	if rolling {
		wau, mau, r := v.WAU, v.MAU, v.DAUMAU()
		j.WAU, j.MAU, j.DAUMAU = &wau, &mau, &r
	}
	return j
}

// MarshalJSON encodes the trend as
//
//	{"event": "active", "time_group": "days", "rolling": true,
//	 "unique": 120, "previous_unique": 98,
//	 "periods": [{"label": "2025-03-01", "start": "2025-03-01T00:00:00Z",
//	              "count": 40, "wau": 90, "mau": 110, "dau_mau": 0.36,
//	              "previous": {"label": ..., "start": ..., "count": ..., ...}}]}
//
// wau, mau and dau_mau (DAU/MAU, 0..1) are there only with Rolling.
func (t *Trend) MarshalJSON() ([]byte, error) {
	if t == nil {
		return []byte("null"), nil
	}
	out := struct {
		Event          string            `json:"event"`
		TimeGroup      TimeGroup         `json:"time_group"`
		Rolling        bool              `json:"rolling"`
		Unique         int64             `json:"unique"`
		PreviousUnique int64             `json:"previous_unique"`
		Periods        []trendPeriodJSON `json:"periods"`
	}{t.Event, t.TimeGroup, t.Rolling, t.Unique, t.PreviousUnique, make([]trendPeriodJSON, len(t.Periods))}
	for i, p := range t.Periods {
		out.Periods[i] = trendPeriodJSON{p.json(t.Rolling), p.Previous.json(t.Rolling)}
	}
	return json.Marshal(out)
}

// ErrNilTrend is returned by (*Trend).WriteCSV for a nil trend.
var ErrNilTrend = errors.New("bitmapist: nil trend")

// WriteCSV writes the trend as CSV with a header row: label, start (RFC
// 3339), count, then with Rolling wau, mau, dau_mau, then the same columns
// of the previous range's period prefixed "previous_". Errors are w's.
func (t *Trend) WriteCSV(w io.Writer) error {
	if t == nil {
		return ErrNilTrend
	}
	cols := []string{"label", "start", "count"}
	if t.Rolling {
		cols = append(cols, "wau", "mau", "dau_mau")
	}
	head := append([]string(nil), cols...)
	for _, c := range cols {
		head = append(head, "previous_"+c)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, p := range t.Periods {
		row := append(t.csvValue(p.TrendValue), t.csvValue(p.Previous)...)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (t *Trend) csvValue(v TrendValue) []string {
	r := []string{v.Label, v.Start.Format(time.RFC3339), strconv.FormatInt(v.Count, 10)}
	if t.Rolling {
		r = append(r, strconv.FormatInt(v.WAU, 10), strconv.FormatInt(v.MAU, 10), strconv.FormatFloat(v.DAUMAU(), 'f', 4, 64))
	}
	return r
}

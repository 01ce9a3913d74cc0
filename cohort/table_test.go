package cohort_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// upstreamTable returns the upstream 4×4 daily table without replacement:
// [[5,0,0,1],[2,1,2,-],[-,-,-,-],[4,-,-,-]], totals [6,7,0,5].
func upstreamTable(t *testing.T, asPercent bool) *cohort.Table {
	t.Helper()
	now := time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)
	b := testutil.Miniredis(t)
	c := newClient(b, now)
	upstreamDaily(t, c, now)
	tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "popped", Secondary: "locked",
		TimeGroup: bitmapist.Days, Rows: 4, Cols: 4, AsPercent: asPercent})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestTableJSON(t *testing.T) {
	for _, asPercent := range []bool{false, true} {
		tab := upstreamTable(t, asPercent)
		data, err := json.Marshal(tab)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Cohort    [][]*float64 `json:"cohort"`
			Dates     []string     `json:"dates"`
			Labels    []string     `json:"labels"`
			Columns   []string     `json:"columns"`
			Total     int64        `json:"total"`
			RowTotals []int64      `json:"row_totals"`
			ColTotals []int64      `json:"col_totals"`
			Averages  []*float64   `json:"averages"`
			TimeGroup string       `json:"time_group"`
			AsPercent bool         `json:"as_percent"`
			NumRows   int          `json:"num_rows"`
			NumCols   int          `json:"num_cols"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		counts := [][]float64{{5, 0, 0, 1}, {2, 1, 2, none}, {none, none, none, none}, {4, none, none, none}}
		sizes := []float64{6, 7, 0, 5}
		for i, row := range counts {
			for j, want := range row {
				cell := got.Cohort[i][j]
				if want == none {
					if cell != nil {
						t.Errorf("percent=%v cohort[%d][%d] = %v, want null", asPercent, i, j, *cell)
					}
					continue
				}
				if asPercent {
					want = want / sizes[i] * 100
				}
				if cell == nil || !near(*cell, want) {
					t.Errorf("percent=%v cohort[%d][%d] = %v, want %v", asPercent, i, j, cell, want)
				}
			}
		}
		wantDates := []string{"2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z", "2025-03-03T00:00:00Z", "2025-03-04T00:00:00Z"}
		if !reflect.DeepEqual(got.Dates, wantDates) {
			t.Errorf("dates %v", got.Dates)
		}
		if !reflect.DeepEqual(got.Labels, []string{"2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"}) {
			t.Errorf("labels %v", got.Labels)
		}
		if !reflect.DeepEqual(got.Columns, []string{"0", "+1 day", "+2 days", "+3 days"}) {
			t.Errorf("columns %v", got.Columns)
		}
		if got.Total != 18 || !reflect.DeepEqual(got.RowTotals, []int64{6, 7, 0, 5}) {
			t.Errorf("total %d row_totals %v, want 18 and [6 7 0 5]", got.Total, got.RowTotals)
		}
		if !reflect.DeepEqual(got.ColTotals, []int64{11, 1, 2, 1}) {
			t.Errorf("col_totals %v, want [11 1 2 1]", got.ColTotals)
		}
		wantAvg := []float64{11.0 / 3, 0.5, 1, 1}
		if asPercent {
			wantAvg = []float64{(5.0/6 + 2.0/7 + 4.0/5) / 3 * 100, (0 + 1.0/7) / 2 * 100, (0 + 2.0/7) / 2 * 100, 1.0 / 6 * 100}
		}
		for j, want := range wantAvg {
			if got.Averages[j] == nil || !near(*got.Averages[j], want) {
				t.Errorf("percent=%v averages[%d] = %v, want %v", asPercent, j, got.Averages[j], want)
			}
		}
		if got.TimeGroup != "days" || got.AsPercent != asPercent || got.NumRows != 4 || got.NumCols != 4 {
			t.Errorf("time_group %q as_percent %v num_rows %d num_cols %d", got.TimeGroup, got.AsPercent, got.NumRows, got.NumCols)
		}
	}
}

func TestTableJSONNullAverage(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC))
	tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "none", Secondary: "none",
		TimeGroup: bitmapist.Months, Rows: 2, Cols: 2})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"cohort":[[null,null],[null,null]]`, `"averages":[null,null]`, `"total":0`, `"time_group":"months"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
}

func TestTableCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := upstreamTable(t, false).WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := "Date,Total,0,1,2,3\n" +
		"2025-03-01,6,5,0,0,1\n" +
		"2025-03-02,7,2,1,2,\n" +
		"2025-03-03,0,,,,\n" +
		"2025-03-04,5,4,,,\n"
	if buf.String() != want {
		t.Errorf("CSV:\n%s\nwant\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := upstreamTable(t, true).WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || strings.Join(recs[0], ",") != "Date,Total,0,1,2,3" {
		t.Fatalf("percent CSV %v", recs)
	}
	five, six := 5.0, 6.0 // not constants: the fraction is computed in float64
	if v, err := strconv.ParseFloat(recs[1][2], 64); err != nil || v != five/six*100 {
		t.Errorf("percent CSV row 1 cell 0 = %q, want 5/6 of 100 exactly", recs[1][2])
	}
	if got := strings.Join(recs[4], ","); got != "2025-03-04,5,80,,," {
		t.Errorf("percent CSV last row %q", got)
	}
	if err := upstreamTable(t, false).WriteCSV(failWriter{}); err == nil {
		t.Error("WriteCSV to a failing writer: no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, bytes.ErrTooLarge }

func TestTableLabels(t *testing.T) {
	tab := &cohort.Table{Query: cohort.Query{TimeGroup: bitmapist.Weeks, Cols: 3},
		Dates: []time.Time{day(2024, 12, 30), day(2021, 1, 1)}}
	for j, want := range []string{"0", "+1 week", "+2 weeks", ""} {
		if got := tab.ColumnLabel(j); got != want {
			t.Errorf("ColumnLabel(%d) = %q, want %q", j, got, want)
		}
	}
	for i, want := range []string{"2025-W01", "2020-W53", ""} {
		if got := tab.RowLabel(i); got != want {
			t.Errorf("RowLabel(%d) = %q, want %q", i, got, want)
		}
	}
	if tab.ColumnLabel(-1) != "" || tab.RowLabel(-1) != "" {
		t.Error("negative index: not empty")
	}
	if _, ok := tab.Value(0, 0); ok {
		t.Error("Value on a table without cells: ok")
	}
}

package cohort_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestColTotalsNullWithAverages: a column with no valid cell yet (every
// row's period after now) has col_totals null where averages is null,
// not 0; columns with valid cells keep their sums (0 included). The CSV
// has no totals row, and writes every cell of such a column empty.
func TestColTotalsNullWithAverages(t *testing.T) {
	tab := upstreamTable(t, false) // [[5,0,0,1],[2,1,2,-],[-,-,-,-],[4,-,-,-]]
	c := newClient(testutil.Miniredis(t), tab.Query.Now)
	upstreamDaily(t, c, tab.Query.Now)
	// 4 days, 6 columns: +4 and +5 days lie after now for every row.
	wide, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "popped", Secondary: "locked", TimeGroup: bitmapist.Days, Rows: 4, Cols: 6, Now: tab.Query.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tab  *cohort.Table
		want string
	}{
		{tab, `"col_totals":[11,1,2,1],"averages":[`},
		{wide, `"col_totals":[11,1,2,1,null,null],"averages":[`},
	} {
		data, err := json.Marshal(tc.tab)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(tc.want)) {
			t.Errorf("JSON %s, want %s", data, tc.want)
		}
		var got struct {
			ColTotals []*int64   `json:"col_totals"`
			Averages  []*float64 `json:"averages"`
		}
		if err := json.Unmarshal(data, &got); err != nil || len(got.ColTotals) != len(got.Averages) {
			t.Fatalf("%v %+v", err, got)
		}
		for j := range got.Averages {
			if (got.Averages[j] == nil) != (got.ColTotals[j] == nil) {
				t.Errorf("column %d: averages %v, col_totals %v: null in one only", j, got.Averages[j], got.ColTotals[j])
			}
		}
	}
	var csv strings.Builder
	if err := wide.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(csv.String()), "\n")[1:] {
		if !strings.HasSuffix(line, ",,") {
			t.Errorf("CSV row %q: the columns without value are not empty", line)
		}
	}
}

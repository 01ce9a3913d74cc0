package cohort_test

import (
	"context"
	"encoding/csv"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/onlineretail"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// publishedOnline is the published monthly first-purchase cohort table
// of the Online Retail log (internal/onlineretail).
var publishedOnline = onlineretail.Published()

// replayOnline marks every row of the Online Retail log that has a
// customer as event "purchased" and returns how many rows it skipped.
func replayOnline(t *testing.T, c *bitmapist.Client) (skipped int) {
	t.Helper()
	recs, err := csv.NewReader(onlineretail.CSV()).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 || recs[0][0] != "CustomerID" || recs[0][1] != "InvoiceDate" {
		t.Fatalf("unexpected header %v", recs[0])
	}
	marks := make([]bitmapist.Mark, 0, len(recs))
	for _, r := range recs[1:] {
		if r[0] == "" {
			skipped++
			continue
		}
		id, err := strconv.ParseUint(r[0], 10, 64)
		if err != nil {
			t.Fatalf("customer id %q: %v", r[0], err)
		}
		at, err := time.Parse("2006-01-02", r[1])
		if err != nil {
			t.Fatalf("date %q: %v", r[1], err)
		}
		marks = append(marks, bitmapist.Mark{Event: "purchased", UserID: id, Time: at})
	}
	if err := c.MarkEvents(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
	return skipped
}

// TestRealDataOnlineRetail replays the UCI Online Retail customers and
// checks every published cell of the first-time monthly table.
func TestRealDataOnlineRetail(t *testing.T) {
	now := time.Date(2011, 12, 9, 18, 0, 0, 0, time.UTC) // the last invoice day
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, now)
		if skipped := replayOnline(t, c); skipped != 277 {
			t.Errorf("skipped %d rows without customer, want 277", skipped)
		}
		rec := record(b)
		tab, err := cohort.Get(ctx, c, cohort.Query{Primary: "purchased", Secondary: "purchased",
			TimeGroup: bitmapist.Months, Rows: 13, Cols: 13, FirstTime: true, WithReplacement: true})
		if err != nil {
			t.Fatal(err)
		}
		_, cmds := rec.reset()
		readOnly(t, b.Prefix, cmds)
		if got := tab.RowLabel(0); got != "2010-12" {
			t.Fatalf("row 0 is %s, want 2010-12", got)
		}
		for r, row := range publishedOnline {
			if tab.Totals[r] != row[0] {
				t.Errorf("%s: cohort size %d, want %d", tab.RowLabel(r), tab.Totals[r], row[0])
			}
			for k, want := range row {
				if got := tab.Cells[r][k]; !got.Valid || got.Count != want {
					t.Errorf("%s k=%d: %+v, want %d", tab.RowLabel(r), k, got, want)
				}
			}
			// Months after December 2011 have no value yet.
			for k := len(row); k < 13; k++ {
				if tab.Cells[r][k].Valid {
					t.Errorf("%s k=%d: %+v, want no value (after now)", tab.RowLabel(r), k, tab.Cells[r][k])
				}
			}
		}
		for k, want := range []float64{1.000000, 0.381857, 0.334388, 0.387131, 0.359705} {
			if got := tab.Cells[0][k].Fraction; math.Abs(got-want) > 5e-7 {
				t.Errorf("2010-12 k=%d fraction %.6f, want %.6f", k, got, want)
			}
		}
		// 4,372 customers: every one is in exactly one first-time cohort.
		var sum int64
		for _, n := range tab.Totals {
			sum += n
		}
		if sum != 4372 {
			t.Errorf("first-time cohorts hold %d customers, want 4372", sum)
		}

		// Starting at 2011-01 the history before row 0 (December 2010) comes
		// from the stored months: the table must not change.
		tab2, err := cohort.Get(ctx, c, cohort.Query{Primary: "purchased", Secondary: "purchased",
			TimeGroup: bitmapist.Months, Rows: 5, Cols: 12, Start: time.Date(2011, 1, 15, 0, 0, 0, 0, time.UTC),
			FirstTime: true, WithReplacement: true})
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range publishedOnline[1:] {
			for k, want := range row {
				if got := tab2.Cells[r][k]; got.Count != want || !got.Valid {
					t.Errorf("from 2011-01: %s k=%d: %+v, want %d", tab2.RowLabel(r), k, got, want)
				}
			}
		}

		// Without FirstTime, 2011-01's cohort is everyone who bought in
		// January, returning customers included.
		tab3, err := cohort.Get(ctx, c, cohort.Query{Primary: "purchased", Secondary: "purchased",
			TimeGroup: bitmapist.Months, Rows: 1, Cols: 1, Start: time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if want := publishedOnline[0][1] + publishedOnline[1][0]; tab3.Totals[0] != want {
			t.Errorf("all January 2011 buyers: %d, want %d (948's returners + 421 new)", tab3.Totals[0], want)
		}
	})
}

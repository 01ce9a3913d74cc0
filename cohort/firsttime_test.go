package cohort_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestFirstTimeWeeksHistory: row 0 starts mid-month (Monday 2025-03-10),
// so the history before it is the stored months before March plus the
// days March 1st..9th.
func TestFirstTimeWeeksHistory(t *testing.T) {
	now := time.Date(2025, 3, 19, 12, 0, 0, 0, time.UTC) // Wednesday of 2025-W12
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, now)
		markIDs(t, c, "buy", day(2019, 6, 3), 6)                                 // years before
		markIDs(t, c, "buy", day(2025, 1, 15), 1)                                // an earlier month
		markIDs(t, c, "buy", day(2025, 3, 5), 2)                                 // same month, before row 0
		markIDs(t, c, "buy", time.Date(2025, 3, 9, 23, 0, 0, 0, time.UTC), 3)    // the Sunday before row 0
		markIDs(t, c, "buy", day(2025, 3, 11), 1, 2, 3, 4, 6)                    // 2025-W11
		markIDs(t, c, "buy", time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC), 4, 5) // 2025-W12
		q := cohort.Query{Primary: "buy", Secondary: "buy", TimeGroup: bitmapist.Weeks, Rows: 2, Cols: 2,
			WithReplacement: true}

		tab, err := cohort.Get(ctx, c, q)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{5, 2}; !slices.Equal(tab.Totals, want) {
			t.Errorf("all buyers: totals %v, want %v", tab.Totals, want)
		}

		q.FirstTime = true
		rec := record(b)
		tab, err = cohort.Get(ctx, c, q)
		if err != nil {
			t.Fatal(err)
		}
		_, cmds := rec.reset()
		readOnly(t, b.Prefix, cmds)
		if want := []int64{1, 1}; !slices.Equal(tab.Totals, want) {
			t.Errorf("first-time: totals %v, want %v ({4} then {5})", tab.Totals, want)
		}
		if want := [][]int64{{1, 1}, {1, none}}; !reflect.DeepEqual(grid(tab), want) {
			t.Errorf("first-time cells %v, want %v", grid(tab), want)
		}
	})
}

// TestFirstTimeHours: an hourly table reads the earlier hours of row 0's
// day (hourly tracking on) and the earlier days of its month.
func TestFirstTimeHours(t *testing.T) {
	now := time.Date(2025, 3, 19, 10, 30, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now, bitmapist.WithTrackHourly(true))
		at := func(h, m int) time.Time { return time.Date(2025, 3, 19, h, m, 0, 0, time.UTC) }
		markIDs(t, c, "open", at(3, 0), 7)
		markIDs(t, c, "open", time.Date(2025, 3, 2, 22, 0, 0, 0, time.UTC), 10)
		markIDs(t, c, "open", at(9, 15), 8, 10)
		markIDs(t, c, "open", at(9, 20), 7)
		markIDs(t, c, "open", at(10, 5), 9, 8)
		tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "open", Secondary: "open",
			TimeGroup: bitmapist.Hours, Rows: 2, Cols: 2, FirstTime: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{1, 1}; !slices.Equal(tab.Totals, want) {
			t.Errorf("totals %v, want %v ({8} at 09:00, {9} at 10:00)", tab.Totals, want)
		}
		// without replacement: 8 returns at 10:00 too but counts at 09:00 only
		if want := [][]int64{{1, 0}, {1, none}}; !reflect.DeepEqual(grid(tab), want) {
			t.Errorf("cells %v, want %v", grid(tab), want)
		}
		if got := tab.RowLabel(1); got != "2025-03-19 10:00" {
			t.Errorf("RowLabel(1) = %q", got)
		}
	})
}

// TestFirstTimeWithoutReplacementAndNarrow combines FirstTime with
// PrimaryAnd and the flask default (without replacement) on the upstream
// daily data.
func TestFirstTimeWithoutReplacementAndNarrow(t *testing.T) {
	now := time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now)
		upstreamDaily(t, c, now)
		markIDs(t, c, "popped", now.AddDate(0, 0, -3), 113) // 113 first popped on d0
		markIDs(t, c, "popped", now, 100)                   // 100 again on d3
		markIDs(t, c, "ios", now, 100, 113, 114, 115)
		tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "popped", Secondary: "locked",
			TimeGroup: bitmapist.Days, Rows: 4, Cols: 4, FirstTime: true})
		if err != nil {
			t.Fatal(err)
		}
		// row 0 {100..105,113}: d0 locked {100..104} 5, d1 -, d2 -, d3 {105,113} 2
		// row 3 first-time {114..117}: d3 {114,115,116}
		want := [][]int64{{5, 0, 0, 2}, {2, 1, 2, none}, {none, none, none, none}, {3, none, none, none}}
		if got := grid(tab); !reflect.DeepEqual(got, want) {
			t.Errorf("cells:\n%swant\n%s", fmtGrid(got), fmtGrid(want))
		}
		if want := []int64{7, 7, 0, 4}; !slices.Equal(tab.Totals, want) {
			t.Errorf("totals %v, want %v", tab.Totals, want)
		}
		tab, err = cohort.Get(context.Background(), c, cohort.Query{Primary: "popped", PrimaryAnd: "ios",
			Secondary: "locked", TimeGroup: bitmapist.Days, Rows: 1, Cols: 1, FirstTime: true})
		if err != nil {
			t.Fatal(err)
		}
		// d3 popped {100,113..117}, first time {114..117}, and ios {114,115}
		if tab.Totals[0] != 2 || tab.Cells[0][0].Count != 2 {
			t.Errorf("first-time and ios: total %d cell %+v, want 2 and 2", tab.Totals[0], tab.Cells[0][0])
		}
	})
}
